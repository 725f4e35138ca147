/**
 * The client's cancellation, as an AbortSignal for the log: it aborts when the connection closes
 * before the answer was written (the client disconnected or timed out), with
 * SumkeepError('cancelled'). The log then releases the client's share of an upstream fetch; a
 * fetch nobody waits for any more is cancelled (src/log/service.ts).
 *
 * ServerResponse emits 'close' both after a complete answer and when the connection goes early;
 * only in the second case has the answer not ended. (IncomingMessage's 'close' is no use here:
 * since Node 16 it fires once the request body has been read.)
 */
import type { FastifyReply } from 'fastify';
import { SumkeepError } from '../core/errors.ts';

export function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  const res = reply.raw;
  res.once('close', () => {
    if (!res.writableEnded) ac.abort(new SumkeepError('cancelled', 'the client went away'));
  });
  return ac.signal;
}
