/** Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first failure. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * Runs the steps of a generator (e.g. core/gosum.ts parseGoSumSteps), letting the event loop run
 * other callbacks (timers, I/O, other requests) between two steps; the generator's result. A step
 * should be a few milliseconds of work: that is the longest anything else waits.
 */
export async function stepsYielding<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    await yieldToLoop();
  }
}

/** Resolves after the event loop has run what is waiting (timers, I/O): setImmediate. */
export function yieldToLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
