/**
 * Reads the examples of the operator docs and compares them with real output.
 *
 * An example is marked with an HTML comment, invisible in rendered markdown:
 *
 *   <!-- example: NAME -->          on a line of its own before a fenced block: the block is the
 *                                   example (in a text block, lines starting `$ ` are the commands
 *                                   whose output the other lines show)
 *   <!-- example: NAME -->`text`    inside a paragraph (never at the start of a line, which would
 *                                   make the line raw HTML) before an inline code span: the span
 *                                   is the example
 *
 * A block of `sag-rollout ...` lines is a command example, a ```json block a JSON shape, a
 * ```jsonl block one JSON shape a line, anything else text output.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DOCS = path.resolve(__dirname, '../../docs');

/** One marked example of a doc. */
export interface DocExample {
  name: string;
  /** `docs/cli.md:193`, for failure messages. */
  where: string;
  /** The fence's info string (`json`, `jsonl`, `ts`, ``), or `inline`. */
  lang: string;
  body: string;
}

const MARKER = /<!-- example: ([a-z0-9-]+) -->/g;

/** Every marked example of a doc (a file name under docs/). */
export function readExamples(doc: string): DocExample[] {
  const text = readFileSync(path.join(DOCS, doc), 'utf8');
  const lines = text.split('\n');
  const found: DocExample[] = [];
  lines.forEach((line, i) => {
    for (const m of line.matchAll(MARKER)) {
      const name = m[1]!;
      const where = `docs/${doc}:${i + 1}`;
      const after = line.slice(m.index + m[0].length);
      // Prettier keeps a blank line between the comment and the fence.
      let at = i + 1;
      while (lines[at]?.trim() === '') at++;
      const fence = /^(\s*)(`{3,})(\S*)\s*$/.exec(lines[at] ?? '');
      if (after.trim() === '' && fence) {
        const end = lines.findIndex((l, j) => j > at && l.trim() === fence[2]);
        if (end < 0) throw new Error(`${where}: the block of example ${name} is not closed`);
        const indent = fence[1]!.length;
        const body = lines
          .slice(at + 1, end)
          .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
          .join('\n');
        found.push({ name, where, lang: fence[3]!, body });
      } else {
        // An inline span may start on the next line, and wrap onto the next lines of its paragraph.
        const rest = [after, ...lines.slice(i + 1, i + 4)].join('\n').trimStart();
        const span = /^`([^`]+)`/.exec(rest);
        if (!span) throw new Error(`${where}: example ${name} is not followed by an inline code span`);
        found.push({ name, where, lang: 'inline', body: span[1]!.replace(/\s*\n\s*/g, ' ') });
      }
    }
  });
  return found;
}

/** Every fenced block of a doc with its first line number, marked or not. */
export function fencedBlocks(doc: string): { where: string; lang: string; body: string }[] {
  const lines = readFileSync(path.join(DOCS, doc), 'utf8').split('\n');
  const blocks: { where: string; lang: string; body: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^\s*(`{3,})(\S*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && l.trim() === fence[1]);
    if (end < 0) break;
    blocks.push({ where: `docs/${doc}:${i + 1}`, lang: fence[2]!, body: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** A text block as the commands its `$ ` lines run and the output its other lines show. */
export function session(body: string): { commands: string[][]; output: string } {
  const lines = body.split('\n');
  return {
    commands: commandLines(
      lines
        .filter((l) => l.startsWith('$ '))
        .map((l) => l.slice(2))
        .join('\n'),
    ),
    output: lines.filter((l) => !l.startsWith('$ ')).join('\n'),
  };
}

/**
 * The command lines of a block: the words after `sag-rollout` (or `npx sag-rollout`), quotes
 * removed, a trailing `# comment` left out, and `[optional]` groups left out unless their first
 * word is in `keep`.
 */
export function commandLines(body: string, keep: readonly string[] = []): string[][] {
  const commands: string[][] = [];
  for (const raw of body.split('\n')) {
    const line = raw.replace(/\[([^\]]*)\]/g, (_, group: string) =>
      keep.includes(group.trim().split(/\s+/)[0]!) ? ` ${group} ` : ' ',
    );
    const words = shellWords(line);
    const at = words.indexOf('sag-rollout');
    if (at < 0 || (at > 0 && !['npx', '&&', '|', ';'].includes(words[at - 1]!))) continue;
    commands.push(words.slice(at + 1));
  }
  return commands;
}

/** Splits a shell line into words: single and double quotes group, `#` starts a comment. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (ch === '#' && word === undefined) {
      break;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * What varies from run to run, masked on both sides: instants, dates and times, durations and
 * numbers; runs of spaces collapse (table columns are padded to their content).
 */
function mask(line: string): string {
  return line
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<t>')
    .replace(/\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?/g, '<t>')
    .replace(/\b\d{2}:\d{2}(:\d{2})?\b/g, '<t>')
    .replace(/\b\d+(\.\d+)?(ms|s|m|h|d)\b( \d+(ms|s|m|h|d)\b)*/g, '<d>')
    .replace(/\d+(\.\d+)*/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A documented line as a pattern: masked, `...` and `…` standing for any text. */
function linePattern(doc: string): RegExp {
  const parts = mask(doc).split(/\.\.\.|…/);
  return new RegExp(`^${parts.map(escape).join('.*')}$`);
}

/**
 * How a documented text differs from real output, line by line in order (leading and trailing
 * blank lines aside), after `substitute` turned the real run's names into the doc's.
 */
export function textMismatches(doc: string, real: string, substitute: Record<string, string> = {}): string[] {
  const trimmed = (s: string) =>
    s
      .replace(/^\s*\n/, '')
      .replace(/\s+$/, '')
      .split('\n');
  let text = real;
  // Longest first, so an ID that contains another is replaced whole.
  for (const [from, to] of Object.entries(substitute).sort((a, b) => b[0].length - a[0].length))
    text = text.split(from).join(to);
  const want = trimmed(doc);
  const got = trimmed(text);
  const problems: string[] = [];
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    const w = want[i];
    const g = got[i];
    if (w === undefined) problems.push(`line ${i + 1}: real output has more: ${g}`);
    else if (g === undefined) problems.push(`line ${i + 1}: documented, missing from real output: ${w}`);
    else if (!linePattern(w).test(mask(g)))
      problems.push(`line ${i + 1}:\n  documented: ${w}\n  real:       ${g}`);
  }
  return problems;
}

/** A documented value of any type: a key named without a value (`{ "a", "b" }`), or a capital letter (`N`). */
export const ANY = Symbol('any value');

/**
 * Parses a documented JSON example: JSON, where `...` (or `…`) may stand for left-out array items
 * or object entries (`{ ... }`, `[ ... ]`, `, ...`), a key may stand alone (its value is {@link ANY}),
 * and a capital letter stands for any value.
 */
export function parseDocJson(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at ${i}: ${text.slice(Math.max(0, i - 30), i + 30)}`);
  };
  const elision = (): boolean => {
    ws();
    if (text.startsWith('...', i)) i += 3;
    else if (text[i] === '…') i += 1;
    else return false;
    return true;
  };
  const value = (): unknown => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const obj: Record<string, unknown> = {};
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return obj;
        }
        if (!elision()) {
          const key = value();
          if (typeof key !== 'string') fail('expected a key');
          ws();
          if (text[i] === ':') {
            i++;
            obj[key as string] = value();
          } else {
            obj[key as string] = ANY;
          }
        }
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail('expected , or }');
      }
    }
    if (ch === '[') {
      i++;
      const arr: unknown[] = [];
      for (;;) {
        ws();
        if (text[i] === ']') {
          i++;
          return arr;
        }
        if (!elision()) arr.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail('expected , or ]');
      }
    }
    if (ch === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
      if (!m) return fail('unterminated string');
      i += m[0].length;
      return JSON.parse(m[0]) as string;
    }
    if (/^[A-Z]\b/.test(text.slice(i))) {
      i++;
      return ANY;
    }
    const m = /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (!m) return fail('unexpected text');
    i += m[0].length;
    return JSON.parse(m[0]) as unknown;
  };
  const v = value();
  ws();
  if (i < text.length) fail('text after the value');
  return v;
}

type Kind = 'null' | 'string' | 'number' | 'boolean' | 'array' | 'object';

function kindOf(v: unknown): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as Kind;
}

/**
 * Where a documented JSON example claims more than real output holds: every documented key must
 * exist, with the documented type, in at least one of the real samples (recursively; a documented
 * array item is compared with the items of the real arrays). The docs may leave out keys and
 * array items; they may not name a key or a type that the real output lacks.
 */
export function shapeMismatches(doc: unknown, samples: unknown[], at = '$'): string[] {
  if (doc === ANY) return [];
  const kind = kindOf(doc);
  const same = samples.filter((s) => kindOf(s) === kind);
  if (same.length === 0) {
    const real = [...new Set(samples.map(kindOf))].join(' or ');
    return [`${at}: documented as ${kind}, real output has ${real || 'nothing'}`];
  }
  const problems: string[] = [];
  if (kind === 'object') {
    for (const [key, v] of Object.entries(doc as Record<string, unknown>)) {
      const values = (same as Record<string, unknown>[])
        .filter((s) => Object.hasOwn(s, key))
        .map((s) => s[key]);
      if (values.length === 0) problems.push(`${at}.${key}: documented, absent from real output`);
      else problems.push(...shapeMismatches(v, values, `${at}.${key}`));
    }
  }
  if (kind === 'array') {
    const items = (same as unknown[][]).flat();
    (doc as unknown[]).forEach((d, n) => {
      if (items.length === 0) problems.push(`${at}[${n}]: documented, the real arrays are empty`);
      else problems.push(...shapeMismatches(d, items, `${at}[${n}]`));
    });
  }
  return problems;
}
