import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/sag/rate-limiter';

async function timeAcquisitions(limiter: ReturnType<typeof createRateLimiter>, n: number): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, () => limiter.acquire()));
  return performance.now() - started;
}

describe('createRateLimiter', () => {
  it('lets requests through at the configured rate after a small burst', async () => {
    const limiter = createRateLimiter(100);
    // 51 requests at 100/s with a burst of 2: about 490 ms.
    const ms = await timeAcquisitions(limiter, 51);
    expect(ms).toBeGreaterThan(440);
    expect(ms).toBeLessThan(900);
  });

  it('applies a new rate to callers already queued', async () => {
    const limiter = createRateLimiter(1);
    await limiter.acquire();
    const queued = timeAcquisitions(limiter, 5);
    await new Promise((r) => setTimeout(r, 20));
    limiter.setRate(200);
    // At 1/s these would take 5 s; at 200/s about 25 ms.
    expect(await queued).toBeLessThan(500);
  });

  it('holds callers while closed (rate 0) and lets them through when reopened', async () => {
    const limiter = createRateLimiter(100);
    limiter.setRate(0);
    let passed = 0;
    const all = Promise.all(Array.from({ length: 3 }, () => limiter.acquire().then(() => passed++)));
    await new Promise((r) => setTimeout(r, 200));
    expect(passed).toBe(0);
    limiter.setRate(100);
    await all;
    expect(passed).toBe(3);
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => createRateLimiter(0)).toThrow(/positive/);
    expect(() => createRateLimiter(10).setRate(-1)).toThrow(/positive/);
    expect(() => createRateLimiter(Number.NaN)).toThrow(/positive/);
  });
});
