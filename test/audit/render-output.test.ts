import { describe, expect, it } from 'vitest';
import { callsCsvLines, jsonlLines, renderCallsCsv, renderReport } from '../../src/audit/report';
import { richReport } from './report-fixture';

// The committed files are the reports' exact bytes: a change to any format shows up here as a diff.
describe('rendered report bytes', () => {
  const data = richReport();

  it('renders JSON Lines byte for byte', async () => {
    await expect(renderReport(data, 'jsonl')).toMatchFileSnapshot('./__snapshots__/rich-report.jsonl.snap');
  });

  it('renders the device CSV byte for byte', async () => {
    await expect(renderReport(data, 'csv')).toMatchFileSnapshot(
      './__snapshots__/rich-report.devices.csv.snap',
    );
  });

  it('renders the calls CSV byte for byte', async () => {
    await expect(renderCallsCsv(data)).toMatchFileSnapshot('./__snapshots__/rich-report.calls.csv.snap');
  });

  it('renders the HTML page byte for byte', async () => {
    await expect(renderReport(data, 'html')).toMatchFileSnapshot('./__snapshots__/rich-report.html.snap');
  });

  it('yields the same lines one at a time as the whole texts', () => {
    expect(`${[...jsonlLines(data)].join('\n')}\n`).toBe(renderReport(data, 'jsonl'));
    expect(`${[...callsCsvLines(data)].join('\r\n')}\r\n`).toBe(renderCallsCsv(data));
  });
});
