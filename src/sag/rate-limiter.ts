/**
 * A token bucket: `acquire()` resolves when a request may be sent. Every smartag call of a worker
 * goes through one, so the worker never exceeds its configured API request rate.
 */
export interface RateLimiter {
  acquire(): Promise<void>;
  /** Changes the rate (requests per second) without losing queued callers. */
  setRate(ratePerSecond: number): void;
  readonly rate: number;
}

export function createRateLimiter(ratePerSecond: number, burst = Math.max(1, Math.ceil(ratePerSecond / 10))): RateLimiter {
  if (!(ratePerSecond > 0)) throw new Error(`API rate must be a positive number of requests per second, got ${ratePerSecond}`);
  let rate = ratePerSecond;
  let capacity = burst;
  let tokens = burst;
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
    while (waiters.length > 0 && tokens >= 1) {
      tokens -= 1;
      waiters.shift()!();
    }
    if (waiters.length > 0) {
      const waitMs = Math.max(1, ((1 - tokens) / rate) * 1000);
      timer = setTimeout(drain, waitMs);
    }
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
      if (!(r > 0)) throw new Error(`API rate must be positive, got ${r}`);
      refill();
      rate = r;
      capacity = Math.max(1, Math.ceil(r / 10));
      tokens = Math.min(tokens, capacity);
    },
  };
}
