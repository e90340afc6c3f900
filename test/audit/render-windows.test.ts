import { describe, expect, it } from 'vitest';
import { renderReport, type ReportData } from '../../src/audit/report';
import { richReport } from './report-fixture';

// A change window's next opening and closing, in UTC and as wall time in the zone the policy's
// windows are written in, when they share one.
const CLOSES = Date.UTC(2026, 10, 29, 1, 0); // 09:00 in Shanghai
const OPENS = Date.UTC(2026, 10, 29, 18, 0); // 02:00 the next day in Shanghai

function waitingForWindow(windows: NonNullable<ReportData['policy']>['windows']): ReportData {
  const data = richReport();
  data.policy!.windows = windows;
  data.progress.window = { open: false, closesAt: CLOSES, nextOpensAt: OPENS };
  data.progress.gate = { kind: 'window', wave: 1, until: OPENS };
  return data;
}

const nightly = {
  kind: 'recurring' as const,
  cron: '0 2 * * *',
  duration: '7h',
  timeZone: 'Asia/Shanghai',
  name: 'nightly',
};

describe('change windows in the HTML report', () => {
  it("shows the next opening and closing as wall time in the windows' zone, beside UTC", () => {
    const html = renderReport(
      waitingForWindow([nightly, { ...nightly, cron: '0 2 * * 6', name: 'weekend' }]),
      'html',
    );
    const text =
      'closed, closes 2026-11-29T01:00:00Z (2026-11-29 09:00 Asia/Shanghai), next opens 2026-11-29T18:00:00Z (2026-11-30 02:00 Asia/Shanghai)';
    // The timeline's paragraph and the policy's row.
    expect(html).toContain(`<p>Change window: ${text}</p>`);
    expect(html).toContain(`<td>Change window now</td><td>${text}</td>`);
    // The gate waits for the same opening.
    expect(html).toContain('until 2026-11-29T18:00:00Z (2026-11-30 02:00 Asia/Shanghai)');
  });

  it('shows UTC alone when the windows are written in different zones, or all in UTC', () => {
    const utcOnly = 'closed, closes 2026-11-29T01:00:00Z, next opens 2026-11-29T18:00:00Z';
    for (const windows of [
      [nightly, { ...nightly, timeZone: 'Europe/Berlin' }],
      [nightly, { kind: 'once' as const, start: '2026-12-01T00:00:00Z', end: '2026-12-02T00:00:00Z' }],
      [{ ...nightly, timeZone: 'UTC' }],
    ]) {
      const html = renderReport(waitingForWindow(windows), 'html');
      expect(html).toContain(`<p>Change window: ${utcOnly}</p>`);
      expect(html).toContain(`<td>Change window now</td><td>${utcOnly}</td>`);
      expect(html).not.toMatch(/\d{2}:\d{2} (Asia\/Shanghai|Europe\/Berlin|UTC)\)/);
    }
  });

  it('leaves the row out once the rollout closed: its window no longer matters', () => {
    const data = waitingForWindow([nightly]);
    data.workflowStatus = 'COMPLETED';
    const html = renderReport(data, 'html');
    expect(html).not.toContain('Change window now');
    expect(html).toContain('<p>Change window: closed, closes 2026-11-29T01:00:00Z (2026-11-29 09:00');
  });
});
