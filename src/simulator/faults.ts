import { z } from 'zod';
import { errorDefinition } from './errors';
import { seededRandom } from './fleet';

/**
 * Fault injection. A rule selects requests (by action, instance, serial number) and fires
 * either by probability (seeded PRNG, so runs repeat) or by script (the n-th matching call),
 * optionally at most `times` times. Per-action QPS limits answer `Throttling.User` when a
 * one-second window overflows.
 */

export const FAULT_KINDS = [
  'error',
  'html',
  'hang',
  'drop',
  'latency',
  'hang-after',
  'drop-after',
  'after-error',
] as const;

/** Body formats of an `error` or `after-error` answer. */
export const ANSWER_FORMATS = ['json', 'html', 'text'] as const;
export type AnswerFormat = (typeof ANSWER_FORMATS)[number];

/** The kinds whose request is processed in full before the answer is lost or replaced. */
export type AfterKind = 'hang-after' | 'drop-after' | 'after-error';

export const faultRuleSchema = z.strictObject({
  /** Action name, or `*` / absent for every action. */
  action: z.string().optional(),
  smartAgId: z.string().optional(),
  serialNumber: z.string().optional(),
  /**
   * error: a refusal before processing: an Alibaba error body (`code`, status from the
   *   catalogue or `httpStatus`), or with `format` html/text another body;
   * html: a non-JSON HTML page with `httpStatus` (default 502);
   * hang: never answer (until the client gives up or the simulator stops);
   * drop: destroy the socket without a response;
   * latency: wait `latencyMs`, then serve normally;
   * hang-after: process the request (an upgrade is accepted and counted), then never answer;
   * drop-after: process the request, then destroy the socket instead of answering;
   * after-error: process the request, then answer with an error (`format`, `code`, `httpStatus`,
   *   `body`) instead of its own answer.
   */
  kind: z.enum(FAULT_KINDS).default('error'),
  code: z.string().optional(),
  httpStatus: z.number().int().min(100).max(599).optional(),
  message: z.string().optional(),
  /** Body of an `error` / `after-error` answer: Alibaba JSON (default), an HTML page, or `body` as is. */
  format: z.enum(ANSWER_FORMATS).optional(),
  /** The raw body of `format: 'text'`. */
  body: z.string().optional(),
  latencyMs: z.number().min(0).optional(),
  /** Fire with this probability (0-1) on every matching call. */
  probability: z.number().min(0).max(1).optional(),
  /** Fire on these matching calls (1-based). */
  nth: z.array(z.number().int().positive()).optional(),
  /** Fire at most this many times. */
  times: z.number().int().positive().optional(),
});
export type FaultRule = z.input<typeof faultRuleSchema>;
type ParsedRule = z.output<typeof faultRuleSchema>;

export const faultSpecSchema = z.strictObject({
  /** Seed of the PRNG behind `probability`. */
  seed: z.number().int().optional(),
  rules: z.array(faultRuleSchema).default([]),
  /** Requests per second allowed per action; key `*` limits all actions together. */
  qpsLimits: z.record(z.string(), z.number().positive()).optional(),
});
export type FaultSpec = z.input<typeof faultSpecSchema>;

/**
 * An answer that replaces the one the simulator would give: an Alibaba JSON error (`code`,
 * `message`, `httpStatus`), an HTML error page, or a raw text body.
 */
export type ReplacementAnswer =
  | { format: 'json'; httpStatus: number; code: string; message: string }
  | { format: 'html'; httpStatus: number }
  | { format: 'text'; httpStatus: number; body: string };

/** What the server does with a request that a rule selected. */
export type FaultDecision =
  | { kind: 'error'; answer: ReplacementAnswer }
  | { kind: 'html'; httpStatus: number }
  | { kind: 'hang' }
  | { kind: 'drop' }
  | { kind: 'latency'; latencyMs: number }
  | { kind: 'hang-after' }
  | { kind: 'drop-after' }
  | { kind: 'after-error'; answer: ReplacementAnswer };

const HTML_TITLES: Record<number, string> = {
  500: '500 Internal Server Error',
  502: '502 Bad Gateway',
  503: '503 Service Temporarily Unavailable',
  504: '504 Gateway Time-out',
};

/** An error page as Alibaba's Tengine load balancers serve it. */
export function htmlErrorPage(httpStatus: number): string {
  const title = HTML_TITLES[httpStatus] ?? `${httpStatus} Error`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>Tengine</center>\r\n</body>\r\n</html>\r\n`;
}

/**
 * The answer an `error` or `after-error` rule gives. JSON: `code` (an `after-error` rule defaults
 * to UnknownError), status `httpStatus`, else the code's catalogue status, else 400 for `error`
 * and 500 for `after-error`; message `message`, else the catalogue's. HTML: status `httpStatus`,
 * default 502. Text: `body` with status `httpStatus`, default 500.
 */
function replacementAnswer(r: ParsedRule): ReplacementAnswer {
  const format = r.format ?? 'json';
  if (format === 'html') return { format, httpStatus: r.httpStatus ?? 502 };
  if (format === 'text') return { format, httpStatus: r.httpStatus ?? 500, body: r.body ?? '' };
  const code = r.code ?? 'UnknownError';
  const def = errorDefinition(code);
  return {
    format,
    code,
    httpStatus: r.httpStatus ?? def?.status ?? (r.kind === 'after-error' ? 500 : 400),
    message: r.message ?? def?.message ?? `The request failed with ${code}.`,
  };
}

interface RuleState {
  rule: ParsedRule;
  seen: number;
  fired: number;
}

/** Live fault configuration and QPS windows. */
export class FaultEngine {
  private rules: RuleState[] = [];
  private random: () => number = seededRandom(1);
  private qpsLimits: Record<string, number> = {};
  private spec: z.output<typeof faultSpecSchema> = { rules: [] };
  private windowSecond = 0;
  private windowCounts = new Map<string, number>();
  private windowTotal = 0;

  constructor(spec?: FaultSpec, qpsLimits?: Record<string, number>) {
    this.set(spec ?? { rules: [] });
    if (qpsLimits) this.qpsLimits = { ...qpsLimits, ...this.qpsLimits };
  }

  /** Replaces the fault rules (and QPS limits, when the spec carries them). */
  set(spec: FaultSpec): void {
    const parsed = faultSpecSchema.parse(spec);
    checkRules(parsed.rules);
    this.spec = parsed;
    this.rules = parsed.rules.map((rule) => ({ rule, seen: 0, fired: 0 }));
    this.random = seededRandom(parsed.seed ?? 1);
    if (parsed.qpsLimits) this.qpsLimits = { ...parsed.qpsLimits };
  }

  /** Adds rules to the current ones. */
  add(rules: FaultRule[]): void {
    const parsed = faultSpecSchema.parse({ rules }).rules;
    checkRules(parsed, this.rules.length);
    this.spec.rules.push(...parsed);
    this.rules.push(...parsed.map((rule) => ({ rule, seen: 0, fired: 0 })));
  }

  setQpsLimits(limits: Record<string, number>): void {
    this.qpsLimits = { ...limits };
  }

  /** The current configuration, with per-rule counters. */
  describe(): {
    seed?: number;
    qpsLimits: Record<string, number>;
    rules: (ParsedRule & { seen: number; fired: number })[];
  } {
    return {
      ...(this.spec.seed !== undefined ? { seed: this.spec.seed } : {}),
      qpsLimits: { ...this.qpsLimits },
      rules: this.rules.map((s) => ({ ...s.rule, seen: s.seen, fired: s.fired })),
    };
  }

  /** Counts the request against the QPS windows; true when it must be throttled. */
  throttled(action: string, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.windowSecond) {
      this.windowSecond = second;
      this.windowCounts.clear();
      this.windowTotal = 0;
    }
    const n = (this.windowCounts.get(action) ?? 0) + 1;
    this.windowCounts.set(action, n);
    this.windowTotal++;
    const limit = this.qpsLimits[action];
    const total = this.qpsLimits['*'];
    return (limit !== undefined && n > limit) || (total !== undefined && this.windowTotal > total);
  }

  /** The first rule that fires for this request, if any. */
  decide(
    action: string,
    smartAgId: string | undefined,
    serialNumber: string | undefined,
  ): FaultDecision | undefined {
    for (const s of this.rules) {
      const r = s.rule;
      if (r.action && r.action !== '*' && r.action !== action) continue;
      if (r.smartAgId && r.smartAgId !== smartAgId) continue;
      if (r.serialNumber && r.serialNumber !== serialNumber) continue;
      if (r.times !== undefined && s.fired >= r.times) continue;
      s.seen++;
      let fire: boolean;
      if (r.nth) fire = r.nth.includes(s.seen);
      else if (r.probability !== undefined) fire = this.random() < r.probability;
      else fire = true;
      if (!fire) continue;
      s.fired++;
      switch (r.kind) {
        case 'error':
        case 'after-error':
          return { kind: r.kind, answer: replacementAnswer(r) };
        case 'html':
          return { kind: 'html', httpStatus: r.httpStatus ?? 502 };
        case 'hang':
          return { kind: 'hang' };
        case 'drop':
          return { kind: 'drop' };
        case 'latency':
          return { kind: 'latency', latencyMs: r.latencyMs ?? 100 };
        case 'hang-after':
          return { kind: 'hang-after' };
        case 'drop-after':
          return { kind: 'drop-after' };
      }
    }
    return undefined;
  }
}

/** The checks zod cannot express: which fields each kind needs or accepts. */
function checkRules(rules: ParsedRule[], offset = 0): void {
  for (const [j, r] of rules.entries()) {
    const at = `rules[${offset + j}]`;
    const format = r.format ?? 'json';
    if (r.kind === 'error' && format === 'json' && !r.code)
      throw new Error(`${at}.code: an error rule needs a code`);
    if (format === 'text' && r.body === undefined) throw new Error(`${at}.body: format text needs a body`);
    if (r.body !== undefined && format !== 'text')
      throw new Error(`${at}.body: only format text takes a body`);
    if (r.format !== undefined && r.kind !== 'error' && r.kind !== 'after-error') {
      throw new Error(`${at}.format: only error and after-error rules take a format`);
    }
  }
}
