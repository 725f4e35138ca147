/**
 * Retry pacing for upstream requests: exponential backoff with "equal jitter". Before retry n
 * (n = 1 for the first retry) the wait is d/2 + random * d/2 with d = min(maxDelayMs,
 * baseDelayMs * 2^(n-1)): never less than half the exponential step (so a failing proxy is not
 * hammered), spread so that many sumkeep instances do not retry in lock-step.
 */
export interface BackoffPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  readonly random: () => number;
}

export function backoffDelay(policy: BackoffPolicy, retry: number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  const r = Math.min(Math.max(policy.random(), 0), 1);
  return Math.round(step / 2 + (r * step) / 2);
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it aborts (the caller gave
 * up: there is no point finishing the wait).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
