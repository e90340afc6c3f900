import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/config/errors';
import {
  describeWebhooks,
  loadWebhooks,
  lookupWebhook,
  parseWebhookFile,
  webhookUrlVar,
} from '../../src/config/webhooks';

const TOKEN = 'xoxb-0123456789abcdef';

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err.message;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('webhook configuration', () => {
  it('names the environment variable of a webhook after its name, ignoring case, - and _', () => {
    expect(webhookUrlVar('ops-chat')).toBe('SAG_WEBHOOK_OPS_CHAT_URL');
    const dir = loadWebhooks({
      env: { SAG_WEBHOOK_OPS_CHAT_URL: `https://hooks.slack.com/services/T0/B0/${TOKEN}` },
    });
    for (const name of ['ops-chat', 'OPS_CHAT', 'ops_chat'])
      expect(lookupWebhook(dir, name)?.url).toBe(`https://hooks.slack.com/services/T0/B0/${TOKEN}`);
    expect(lookupWebhook(dir, 'ops')).toBeUndefined();
    expect(describeWebhooks(dir)).toBe('ops-chat (env)');
  });

  it('reads URLs and headers from a file and the environment, the environment winning for the same name', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'webhooks-')), 'webhooks.yaml');
    writeFileSync(
      file,
      'ops-chat:\n  url: https://file.example.com/a\nalerts:\n  url: https://alerts.example.com/sag\n  headers:\n    Authorization: Bearer abc\n',
    );
    const dir = loadWebhooks({
      env: {
        SAG_WEBHOOKS_FILE: file,
        SAG_WEBHOOK_OPS_CHAT_URL: 'https://env.example.com/b',
        SAG_WEBHOOK_OPS_CHAT_HEADERS: '{"X-Token":"t"}',
      },
    });
    expect(lookupWebhook(dir, 'ops-chat')).toEqual({
      label: 'ops-chat',
      url: 'https://env.example.com/b',
      headers: { 'X-Token': 't' },
      source: 'env',
    });
    expect(lookupWebhook(dir, 'alerts')).toEqual({
      label: 'alerts',
      url: 'https://alerts.example.com/sag',
      headers: { Authorization: 'Bearer abc' },
      source: 'file',
    });
    expect(describeWebhooks(dir)).toBe('alerts (file), ops-chat (env)');
  });

  it('refuses every bad entry at once, naming the variable or the entry and never its value', () => {
    const env = problemsOf(() =>
      loadWebhooks({
        env: {
          SAG_WEBHOOK_A_URL: `ftp://x.example.com/${TOKEN}`,
          SAG_WEBHOOK_B_URL: 'https://ok.example.com',
          SAG_WEBHOOK_B_HEADERS: `not json ${TOKEN}`,
          SAG_WEBHOOK_C_HEADERS: '{}',
        },
      }),
    );
    expect(env).toContain('SAG_WEBHOOK_A_URL: not an http(s) URL');
    expect(env).toContain('SAG_WEBHOOK_B_HEADERS: not a JSON object of header names to text values');
    expect(env).toContain('SAG_WEBHOOK_C_HEADERS: set, but SAG_WEBHOOK_C_URL is not');
    expect(env).not.toContain(TOKEN);

    const file = problemsOf(() =>
      parseWebhookFile(
        `ops-chat:\n  url: "https://a b.example.com/${TOKEN}"\n  headers: { content-type: text/plain, "bad name": v }\nOPS_CHAT:\n  url: https://b.example.com\n9lives:\n  url: https://c.example.com\nx:\n  uri: https://d.example.com\n`,
        'hooks.yaml',
      ),
    );
    expect(file).toContain('hooks.yaml: ops-chat.url: not an http(s) URL');
    expect(file).toContain('hooks.yaml: ops-chat.headers.content-type: set by the worker (application/json)');
    expect(file).toContain('hooks.yaml: ops-chat.headers: "bad name" is not a header name');
    expect(file).toContain('hooks.yaml: OPS_CHAT: the same webhook as ops-chat');
    expect(file).toContain("hooks.yaml: 9lives: a name is a letter, then letters, digits, '-' or '_'");
    expect(file).toContain('hooks.yaml: x.uri: unknown field');
    expect(file).toContain('hooks.yaml: x.url: required, an http(s) URL');
    expect(file).not.toContain(TOKEN);
    expect(problemsOf(() => loadWebhooks({ env: {}, file: '/nonexistent/hooks.yaml' }))).toContain(
      'webhooks file /nonexistent/hooks.yaml: no such file',
    );
  });
});
