/**
 * A counting semaphore with a first-in, first-out queue: the one limit on upstream requests in
 * flight in this process (`--upstream-concurrency`). Every HTTP attempt takes a slot for as long
 * as it runs, retries included; the backoff between attempts holds none.
 *
 * Cancellation: a task whose signal aborts while it waits leaves the queue at once (its place is
 * free for the next, and it never starts) and rejects with the signal's reason. A running task is
 * expected to honour the same signal itself; its slot is freed when it settles, however it ends.
 */
export class Limiter {
  readonly max: number;
  private running = 0;
  /** Waiting tasks in arrival order (a Set keeps insertion order and removes in O(1)). */
  private readonly waiting = new Set<() => void>();

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1)
      throw new RangeError('Limiter: max must be a positive integer');
    this.max = max;
  }

  /** Slots held: tasks running, and a slot just freed until it is handed over (see release). */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.size;
  }

  /** Runs `task` when a slot is free; see the file comment for `signal`. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.running < this.max && this.waiting.size === 0) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiting.delete(grant);
        reject(signal?.reason);
      };
      // Called by release() with the slot already counted for this task.
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiting.add(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * The slot passes to the first waiter on the next turn of the event loop, not at once: when many
   * clients disconnect together (a load balancer drops its connections, a CI job is cancelled),
   * the running fetches they abort free their slots while the close events of the queued clients
   * of the same I/O round are still to be handled; handing over at once would start an upstream
   * request for each of those, only to abort it a moment later. The slot stays counted meanwhile,
   * so that no newcomer overtakes the queue.
   */
  private release(): void {
    setImmediate(() => {
      const next = this.waiting.values().next();
      if (next.done) {
        this.running--;
        return;
      }
      this.waiting.delete(next.value);
      next.value();
    });
  }
}
