import { describe, expect, it } from 'vitest';
import {
  csvCell,
  escapeHtml,
  groupFailures,
  renderReport,
  HTML_CALL_LIMIT,
  type ReportData,
} from '../../src/audit/report';
import { emptyCounts } from '../../domain/counts';
import { richReport } from './report-fixture';
import type { OutcomeCounts } from '../../domain/types';

const counts = (o: Partial<OutcomeCounts> = {}): OutcomeCounts => ({ ...emptyCounts(), ...o });

function report(calls = 2): ReportData {
  return {
    rolloutId: 'r<1>',
    workflowId: 'rollout/r<1>',
    generatedAt: Date.UTC(2025, 0, 1, 12),
    progress: {
      rolloutId: 'r<1>',
      state: 'completed',
      targetVersion: '2.4.0.0',
      versionType: 'Device',
      operator: 'eve"><img src=x>',
      startedAt: Date.UTC(2025, 0, 1, 11),
      total: 2,
      counts: counts({ upgraded: 1, failed: 1 }),
      currentWave: 1,
      waves: [
        {
          index: 0,
          name: 'canary',
          size: 2,
          state: 'done',
          counts: counts({ upgraded: 1, failed: 1 }),
          startedAt: Date.UTC(2025, 0, 1, 11),
          finishedAt: Date.UTC(2025, 0, 1, 11, 30),
        },
      ],
      failureBudget: {
        failed: 1,
        finished: 2,
        percent: 50,
        limitPercent: 10,
        minFailures: 1,
        consecutive: 1,
        breached: true,
      },
      pace: { concurrency: 5 },
    },
    waves: [],
    audit: [{ seq: 1, at: Date.UTC(2025, 0, 1, 11), kind: 'started', by: 'eve"><img src=x>' }],
    devices: [
      {
        smartAgId: 'sag-1',
        regionId: 'cn-shanghai',
        wave: 0,
        outcome: 'upgraded',
        serials: [{ serialNumber: 'sn1', from: '2.3.0.0', to: '2.4.0.0' }],
        runs: [],
      },
      {
        smartAgId: '=cmd|calc',
        regionId: 'cn-shanghai',
        wave: 0,
        outcome: 'failed',
        phase: 'upgrade',
        errorCode: 'InvalidId.SMARTAG',
        serials: [],
        runs: [],
      },
    ],
    calls: Array.from({ length: calls }, (_, i) => ({
      t: Date.UTC(2025, 0, 1, 11) + i,
      ms: 3,
      action: i % 2 === 0 ? 'DescribeSmartAccessGatewayAttribute' : 'UpdateSmartAccessGatewayVersion',
      smartAgId: 'sag-1',
      requestId: `rid-${i}`,
      workflowId: 'upgrade/sag-1',
      runId: 'run',
    })),
    failures: [],
    warnings: [],
  };
}

describe('report renderers', () => {
  it('escapes HTML metacharacters in text and attributes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const html = renderReport(report(), 'html');
    expect(html).not.toContain('<img');
    expect(html).toContain('eve&quot;&gt;&lt;img src=x&gt;');
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
  });

  it('quotes CSV cells and defuses spreadsheet formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('-5')).toBe('-5');
    expect(csvCell(-5)).toBe('-5');
    expect(renderReport(report(), 'csv')).toContain("'=cmd|calc,");
  });

  it('lists only upgrade and failed calls in HTML above the limit, every call in JSON Lines', () => {
    const big = report(HTML_CALL_LIMIT + 2);
    const html = renderReport(big, 'html');
    expect(html).toContain(`${HTML_CALL_LIMIT + 2} calls in all`);
    expect(html).not.toContain('rid-0<');
    expect(html).toContain('rid-1<');
    expect(
      renderReport(big, 'jsonl')
        .split('\n')
        .filter((l) => l.includes('"type":"call"')),
    ).toHaveLength(HTML_CALL_LIMIT + 2);
  });

  it('groups failures by code and leaves rolled-back upgrades out', () => {
    const groups = groupFailures([
      {
        smartAgId: 'a',
        regionId: 'r',
        wave: 1,
        outcome: 'failed',
        errorCode: 'X',
        phase: 'verify',
        serials: [],
      },
      {
        smartAgId: 'b',
        regionId: 'r',
        wave: 1,
        outcome: 'compensated',
        errorCode: 'X',
        phase: 'upgrade',
        serials: [],
      },
      { smartAgId: 'c', regionId: 'r', wave: 1, outcome: 'compensated', serials: [] },
      { smartAgId: 'd', regionId: 'r', wave: 1, outcome: 'failed', errorCode: 'Y', serials: [] },
    ]);
    expect(groups).toEqual([
      { code: 'X', count: 2, phases: ['verify', 'upgrade'], devices: ['a', 'b'] },
      { code: 'Y', count: 1, phases: [], devices: ['d'] },
    ]);
  });
});

describe('policy durations in the HTML report', () => {
  it('shows a bake and a window recorded in ms as spans, not as bare numbers', () => {
    const data = richReport();
    const policy = data.policy!;
    policy.bake = 600_000;
    policy.windows = [
      { kind: 'recurring', cron: '0 2 * * *', duration: 10_800_000, timeZone: 'Asia/Shanghai' },
    ];
    const html = renderReport(data, 'html');
    expect(html).toContain('<td>Bake</td><td>10m 0s</td>');
    expect(html).toContain('0 2 * * * for 3h 0m (Asia/Shanghai)');
    expect(html).not.toContain('<td>600000</td>');
  });
});

describe('device runs in the HTML report', () => {
  it('lists every run of a retried or compensated device, oldest first', () => {
    const html = renderReport(richReport(), 'html');
    const row = html.split('\n').find((l) => l.includes('<span class="mono">sag-ha</span>'))!;
    expect(row).toMatch(/upgrade completed<\/div><div class="nowrap">compensate completed/);
    const c1 = html.split('\n').find((l) => l.includes('<span class="mono">sag-c1</span>'))!;
    expect(c1).toContain('upgrade upgraded');
  });
});
