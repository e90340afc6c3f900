/** A seeded generator and the draws the soak and the chaos run make with it, so a run can be repeated. */

export type Random = () => number;

/** xorshift32: the same seed always gives the same sequence, in [0, 1). */
export function seeded(seed: number): Random {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** A number in [min, max). */
export function between(rand: Random, min: number, max: number): number {
  return min + rand() * (max - min);
}

/** One element of a non-empty list. */
export function pick<T>(rand: Random, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

/** A shuffled copy (Fisher-Yates). */
export function shuffled<T>(rand: Random, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
