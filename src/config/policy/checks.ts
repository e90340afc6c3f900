import { z } from 'zod';
import type { Duration } from '../../../domain/types';
import { parseDuration } from '../../common/duration';
import { InputError } from '../../common/errors';
import { parseInstant } from '../../common/instant';

/**
 * Reads a field with a parser of `common/`, `windows/` or the flags, which name the field in their
 * errors. With `ctx`, each problem becomes an issue of the field, without the name (the issue's
 * path names it). `undefined` when the value does not read.
 * @throws anything but an `InputError` the parser throws.
 */
export function readField<T, R>(
  parse: (value: T, field: string) => R,
  value: T,
  ctx?: z.RefinementCtx,
): R | undefined {
  try {
    return parse(value, 'x');
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    for (const p of err.problems) ctx?.addIssue({ code: 'custom', message: p.replace(/^x: /, '') });
    return undefined;
  }
}

/**
 * Runs `schemas` one after the other on the same value and reports every issue of each, in that
 * order. A zod object skips its own refinements once a field has failed; this reports every
 * problem, in a fixed order, so an operator fixes a policy in one pass.
 */
export function inOrder<T>(...schemas: z.ZodType[]) {
  return z.custom<T>().superRefine((value, ctx) => {
    for (const schema of schemas) relay(schema, value, ctx);
  });
}

/** Reports the issues `schema` finds in `value` as issues at `path` below the refined value. */
export function relay(
  schema: z.ZodType,
  value: unknown,
  ctx: z.RefinementCtx,
  path: PropertyKey[] = [],
): void {
  for (const issue of schema.safeParse(value).error?.issues ?? [])
    ctx.addIssue({ code: 'custom', path: [...path, ...issue.path], message: issue.message });
}

/** Reports one problem at `path` below the refined value. */
export function report(ctx: z.RefinementCtx, message: string, path: PropertyKey[] = []): void {
  ctx.addIssue({ code: 'custom', path, message });
}

type Issue = { input?: unknown };

/** A whole number of at least `min`, else `<value> <rule>` (one problem, whatever else is asked). */
export function whole(min: number, rule = `must be a whole number, at least ${min}`) {
  const error = (iss: Issue): string => `${String(iss.input)} ${rule}`;
  return z.number({ error }).refine((n) => Number.isInteger(n) && n >= min, { error, abort: true });
}

/** A number for which `test` holds, else `<value> <rule>`. */
export function numberWhere(test: (n: number) => boolean, rule: string) {
  const error = (iss: Issue): string => `${String(iss.input)} ${rule}`;
  return z.number({ error }).refine(test, { error });
}

/** One of `options`, else `"<value>" must be <wording>`. */
export function oneOf(options: readonly [string, ...string[]], wording = `one of ${options.join(', ')}`) {
  return z.enum(options, { error: (iss) => `${JSON.stringify(iss.input)} must be ${wording}` });
}

/** A duration as text (`10m`) or ms, without turning it into ms; `positive` refuses 0. */
export function duration({ positive = false } = {}) {
  return z.custom<Duration>().superRefine((value, ctx) => {
    if (readField(parseDuration, value, ctx) === 0 && positive) report(ctx, 'must be longer than 0');
  });
}

/** An ISO 8601 instant with an offset, kept as text. */
export const instant = z.custom<string>().superRefine((value, ctx) => {
  readField(parseInstant, value, ctx);
});

/** A period's end after its start, once both read. */
export function endAfterStart(p: { start: string; end: string }, ctx: z.RefinementCtx): void {
  const start = readField(parseInstant, p.start);
  const end = readField(parseInstant, p.end);
  if (start !== undefined && end !== undefined && end <= start)
    report(ctx, `${p.end} must be after start (${p.start})`, ['end']);
}
