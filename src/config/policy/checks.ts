import { z } from 'zod';
import { InputError } from '../../common/errors';

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
