import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import type { RolloutPolicy } from '../../../domain/types';
import { InputError, formatPath } from '../../common/errors';
import { policySchema } from './schema';

/**
 * Reads a policy file (YAML or JSON) into a complete {@link RolloutPolicy}, filling every
 * default. Durations come out as numbers of milliseconds. An empty file gives the defaults.
 *
 * This checks the shape and each field on its own (types, enums, durations, cron, time zones,
 * instants); {@link validatePolicy} checks the policy as a whole against an inventory.
 *
 * @param format - `auto` reads JSON when `source` ends in `.json`, YAML otherwise (YAML also
 *   reads JSON).
 * @param source - the file name used in errors, with the line of each problem.
 * @throws {InputError} listing every problem with its line and field path.
 */
export function loadPolicy(
  text: string,
  format: 'yaml' | 'json' | 'auto' = 'auto',
  source = 'policy',
): RolloutPolicy {
  const body = text.replace(/^\uFEFF/, '');
  const kind = format === 'auto' ? (/\.json$/i.test(source) ? 'json' : 'yaml') : format;
  if (kind === 'json') {
    try {
      JSON.parse(body);
    } catch (err) {
      throw new InputError([
        `${source}: not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      ]);
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(body, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new InputError(
      doc.errors.map(
        (e) => `${source} line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0] ?? e.message}`,
      ),
      `${source} cannot be read:`,
    );
  }
  const data: unknown = doc.toJS() ?? {};
  const result = policySchema.safeParse(data);
  if (!result.success) {
    const located = issueMessages(result.error.issues).map(({ path, message }) => {
      const line = lineOf(doc, lineCounter, path);
      return {
        line: line ?? Number.MAX_SAFE_INTEGER,
        text: `${source}${line ? ` line ${line}` : ''}: ${formatPath(path)}: ${message}`,
      };
    });
    located.sort((a, b) => a.line - b.line);
    throw new InputError(
      located.map((p) => p.text),
      `${source} is not a valid policy:`,
    );
  }
  return result.data;
}

function issueMessages(
  issues: z.core.$ZodIssue[],
  base: PropertyKey[] = [],
): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path, key], message: 'unknown field' });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the option that got furthest (the one with the deepest issue).
      const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
      out.push(...issueMessages(best, path));
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

function depth(issues: z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)));
}

/** The 1-based line of the nearest node on `path` that exists in the YAML document. */
function lineOf(doc: Document, counter: LineCounter, path: PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown =
      n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as Array<string | number>, true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}
