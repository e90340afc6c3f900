import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWithEsbuild, PREBUILT, publicDir } from '../../src/dashboard/bundle';
import { DashboardConfigError, isLoopback, startDashboard, type Dashboard } from '../../src/dashboard/server';
import { connectTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
let open: Dashboard;
let locked: Dashboard;
const TOKEN = 'a-long-enough-test-token-0123456789';

beforeAll(async () => {
  env = await connectTestEnv();
  open = await startDashboard({ client: env.client, port: 0 });
  locked = await startDashboard({ client: env.client, port: 0, token: TOKEN });
});
afterAll(async () => {
  await open?.stop();
  await locked?.stop();
  await env?.teardown();
});

const post = (
  d: Dashboard,
  headers: Record<string, string>,
  body: unknown = { command: 'pause', by: 'mallory' },
) =>
  fetch(`${d.url}/api/rollouts/nope/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('startDashboard', () => {
  it('refuses to bind beyond loopback without an access token', async () => {
    await expect(startDashboard({ client: env.client, port: 0, host: '0.0.0.0' })).rejects.toBeInstanceOf(
      DashboardConfigError,
    );
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('[::1]')).toBe(true);
    expect(isLoopback('localhost')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('192.168.1.10')).toBe(false);
  });

  it('serves its page with a CSP that allows only its own inline script', async () => {
    const r = await fetch(`${open.url}/`);
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain("connect-src 'self'");
    const html = await r.text();
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('refuses mutating requests without its own Origin, also on loopback', async () => {
    expect((await post(open, {})).status).toBe(403);
    expect((await post(open, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(open, { origin: 'null' })).status).toBe(403);
    expect((await post(open, { origin: open.url, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    // Same origin reaches the command: the rollout does not exist.
    const ok = await post(open, { origin: open.url });
    expect(ok.status).toBe(404);
  });

  it('checks the command before sending it', async () => {
    const r = await post(open, { origin: open.url }, { command: 'pause' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/who you are/);
    expect((await post(open, { origin: open.url }, { command: 'terminate', by: 'x' })).status).toBe(400);
    expect(
      (
        await fetch(`${open.url}/api/rollouts/nope/commands`, {
          method: 'POST',
          headers: { origin: open.url },
          body: 'command=pause',
        })
      ).status,
    ).toBe(415);
  });

  it('answers only to its own host names on loopback (DNS rebinding)', async () => {
    const port = new URL(open.url).port;
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      request(
        { host: '127.0.0.1', port, path: '/api/rollouts', headers: { host: `rebind.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on('error', reject)
        .end();
    });
    expect(status).toBe(421);
  });

  it('requires the token when one is set, and moves it from the URL into a cookie', async () => {
    expect((await fetch(`${locked.url}/api/rollouts`)).status).toBe(401);
    expect((await fetch(`${locked.url}/`)).status).toBe(401);
    expect(
      (await fetch(`${locked.url}/api/rollouts`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);
    expect((await fetch(`${locked.url}/?token=wrong-token-wrong-token`, { redirect: 'manual' })).status).toBe(
      401,
    );
    const login = await fetch(locked.loginUrl, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/');
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await fetch(`${locked.url}/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(withCookie.status).toBe(200);
    // A command with the cookie but from another origin is still refused.
    expect(
      (await post(locked, { cookie: cookie.split(';')[0]!, origin: 'http://evil.example' })).status,
    ).toBe(403);
    expect((await post(locked, { origin: locked.url })).status).toBe(401);
  });

  it('ships a prebuilt front-end bundle identical to a fresh build', async () => {
    const fresh = await bundleWithEsbuild();
    expect(fresh).toBeDefined();
    expect(readFileSync(path.join(publicDir(), PREBUILT), 'utf8')).toBe(fresh);
  });
});
