/** Summarises a V8 `.cpuprofile`: self time by function and by area of the code. */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of samples by area: idle, GC, workflow sandbox, Temporal SDK, pop-core, Node internals... */
  areas: { area: string; ms: number; pct: number }[];
  top: { fn: string; ms: number; pct: number }[];
}

function areaOf(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'native / program';
  if (url.includes('workflow-bundle') || url.includes('/workflows/')) return 'workflow code (sandbox)';
  if (url.includes('@temporalio/workflow')) return 'Temporal workflow runtime (sandbox)';
  if (url.includes('@temporalio/')) return 'Temporal SDK (worker, proto, bridge)';
  if (url.includes('protobufjs') || url.includes('long/')) return 'protobuf';
  if (url.includes('@alicloud/') || url.includes('httpx') || url.includes('kitx')) return 'pop-core client';
  if (url.includes('/src/sag/') || url.includes('/activities/')) return 'SAG client and activities';
  if (url.startsWith('node:') || url === '') return 'Node internals';
  if (url.includes('node_modules')) return 'other dependencies';
  return 'project code';
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 13);
  const parts = url.split('/');
  return parts.slice(-2).join('/');
}

export function summariseProfile(file: string, topN = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  }
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = `${functionName || '(anonymous)'} ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
    fns.set(fn, (fns.get(fn) ?? 0) + ms);
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    total += ms;
  }
  const pct = (ms: number) => Math.round((ms / Math.max(1, total)) * 1000) / 10;
  return {
    totalMs: Math.round(total),
    areas: [...areas]
      .sort((a, b) => b[1] - a[1])
      .map(([area, ms]) => ({ area, ms: Math.round(ms), pct: pct(ms) })),
    top: [...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, topN)
      .map(([fn, ms]) => ({ fn, ms: Math.round(ms), pct: pct(ms) })),
  };
}
