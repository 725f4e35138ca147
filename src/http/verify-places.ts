/**
 * The one limit on go.sum checks in flight (--verify-concurrency), shared by every route that runs
 * one: POST /api/v1/verify and the status page's form, POST /verify. A check holds its place from
 * before its body is read until its answer has been sent or its connection has gone, whichever
 * comes first; past the limit a request is refused at once with `overloaded` (503, Retry-After).
 */
import type { FastifyReply } from 'fastify';
import { SumkeepError } from '../core/errors.ts';

export class VerifyPlaces {
  private inFlight = 0;

  /** `onChange(+1 | -1)` follows the count (the sumkeep_verify_requests_in_flight gauge). */
  constructor(
    readonly limit: number,
    private readonly onChange?: (delta: 1 | -1) => void,
  ) {}

  /** Takes a place for the request answered by `reply`, or throws `overloaded`. */
  take(reply: FastifyReply): void {
    if (this.inFlight >= this.limit) {
      throw new SumkeepError(
        'overloaded',
        `${this.limit} go.sum checks are running (--verify-concurrency); try again in a moment`,
      );
    }
    this.inFlight++;
    this.onChange?.(1);
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      this.inFlight--;
      this.onChange?.(-1);
    };
    reply.raw.once('finish', release);
    reply.raw.once('close', release);
  }
}
