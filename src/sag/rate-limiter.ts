/**
 * A token bucket: `acquire()` resolves when a request may be sent. Every smartag call of a worker
 * goes through one, so the worker never exceeds its configured API request rate.
 */
export interface RateLimiter {
  acquire(): Promise<void>;
  /**
   * Changes the rate (requests per second) at once, queued callers included. A rate of 0 closes
   * the limiter: callers wait until a positive rate is set.
   */
  setRate(ratePerSecond: number): void;
  readonly rate: number;
}

/** Default burst: 2% of a second's worth, so no one-second window overshoots the rate by more. */
export const DEFAULT_BURST_FRACTION = 0.02;

/**
 * @param burstFraction the bucket holds this share of one second's requests (at least one).
 * @throws Error when the rate is not a positive number (setRate also takes 0: closed).
 */
export function createRateLimiter(
  ratePerSecond: number,
  burstFraction = DEFAULT_BURST_FRACTION,
): RateLimiter {
  const check = (r: number, allowZero: boolean) => {
    if (!(r > 0 || (allowZero && r === 0)) || !Number.isFinite(r)) {
      throw new Error(`API rate must be a positive number of requests per second, got ${r}`);
    }
  };
  check(ratePerSecond, false);
  const capacityFor = (r: number) => Math.max(1, Math.floor(r * burstFraction));
  let rate = ratePerSecond;
  let capacity = capacityFor(rate);
  let tokens = capacity;
  let last = performance.now();
  const waiters: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;

  const refill = () => {
    const now = performance.now();
    tokens = Math.min(capacity, tokens + ((now - last) / 1000) * rate);
    last = now;
  };
  const drain = () => {
    timer = undefined;
    refill();
    if (rate === 0) return; // closed: setRate wakes the queue
    while (waiters.length > 0 && tokens >= 1) {
      tokens -= 1;
      waiters.shift()!();
    }
    if (waiters.length > 0) timer = setTimeout(drain, Math.max(1, ((1 - tokens) / rate) * 1000));
  };
  return {
    get rate() {
      return rate;
    },
    acquire() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        if (!timer) drain();
      });
    },
    setRate(r: number) {
      check(r, true);
      refill();
      rate = r;
      capacity = capacityFor(r);
      tokens = Math.min(tokens, capacity);
      // A wait scheduled at the old rate would hold queued callers too long (or too short), and
      // callers queued while the limiter was closed have no wait scheduled at all.
      if (timer) clearTimeout(timer);
      if (waiters.length > 0) drain();
    },
  };
}
