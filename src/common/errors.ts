/**
 * The one error type for bad operator input (inventory, policy, flags, windows). It carries every
 * problem found, so an operator can fix a file in one pass instead of one error per run.
 */
export class InputError extends Error {
  /** Each problem on its own, naming where it is (file and line, or field path) and what is wrong. */
  readonly problems: string[];

  /**
   * @param problems - one or more problems; the message lists them one per line.
   * @param heading - an optional first line (for example `policy.yaml is not valid:`).
   */
  constructor(problems: string[], heading?: string) {
    const list = problems.length > 0 ? problems : ['invalid input'];
    super(heading ? [heading, ...list.map((p) => `  ${p}`)].join('\n') : list.join('\n'));
    this.name = 'InputError';
    this.problems = list;
  }
}

/**
 * Collects problems while a file or a policy is checked, and throws them together.
 */
export class ProblemList {
  readonly problems: string[] = [];

  /** Records one problem. */
  add(problem: string): void {
    this.problems.push(problem);
  }

  /** Records the problems of a thrown `InputError`, or rethrows anything else. */
  absorb(err: unknown, prefix?: string): void {
    if (err instanceof InputError) {
      for (const p of err.problems) this.add(prefix ? `${prefix}: ${p}` : p);
    } else {
      throw err;
    }
  }

  /** Runs `fn`, recording an `InputError` it throws; returns its result or `undefined`. */
  attempt<T>(fn: () => T, prefix?: string): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.absorb(err, prefix);
      return undefined;
    }
  }

  /**
   * Throws an `InputError` with every recorded problem, if there is any.
   * @throws {InputError}
   */
  throwIfAny(heading?: string): void {
    if (this.problems.length > 0) throw new InputError(this.problems, heading);
  }
}

/** Renders a field path as `waves[2]` or `windows[0].timeZone`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'symbol') out += `[${String(key)}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out === '' ? '(root)' : out;
}
