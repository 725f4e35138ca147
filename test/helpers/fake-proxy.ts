/**
 * A fault-injecting HTTP module proxy for the upstream tests: a real node:http server on
 * 127.0.0.1 (port chosen by the kernel) that answers each path from a script of responses and
 * logs every request it receives. It is about failure behaviour (status codes, hangs, stalls,
 * resets); the module content it serves comes from the shared goproxy/zipwriter helpers.
 */
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';

export type Reply =
  | { status: number; body?: Uint8Array | string; headers?: Record<string, string>; reasonPhrase?: string }
  /** Accept the request and never answer. */
  | { hang: true }
  /** Send 200 (with `headers`) and `body`, then stall without ending the response. */
  | { stallAfter: Uint8Array | string; headers?: Record<string, string> }
  /** Send 200 and the chunks one by one, `gapMs` apart, then end. */
  | { trickle: string[]; gapMs: number }
  /** Close the connection without a response. */
  | { reset: true };

export interface LoggedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export class FakeProxy {
  readonly requests: LoggedRequest[] = [];
  /** Requests being answered now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Paths of requests whose connection closed before the answer was complete (the client left, or a `reset` reply). */
  readonly aborted: string[] = [];
  /** Paths without a script are served from this directory (a goproxy tree), else 404. */
  dir: string | undefined;
  /** Replies per path: consumed in order; the last one repeats. Missing path: 404. */
  private readonly scripts = new Map<string, Reply[]>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  url = '';

  /** Sets the replies for `path` (e.g. "/example.com/m/@v/v1.0.0.mod"). */
  on(path: string, ...replies: Reply[]): this {
    this.scripts.set(path, replies);
    return this;
  }

  /** Requests whose path ends with `suffix`. */
  count(suffix = ''): number {
    return this.requests.filter((r) => r.path.endsWith(suffix)).length;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    this.url = `http://127.0.0.1:${addr.port}`;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private fromDir(path: string): Reply {
    if (this.dir !== undefined && !path.includes('..')) {
      try {
        const file = join(this.dir, ...decodeURIComponent(path).split('/'));
        if (statSync(file).isFile()) return { status: 200, body: readFileSync(file) };
      } catch {
        // fall through to 404
      }
    }
    return { status: 404, body: 'not found' };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '';
    this.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => {
      this.inFlight--;
      if (!res.writableFinished) this.aborted.push(path);
    });
    const script = this.scripts.get(path);
    let reply: Reply = this.fromDir(path);
    if (script !== undefined && script.length > 0) {
      reply = script.length > 1 ? script.shift()! : script[0]!;
    }
    if ('hang' in reply) return;
    if ('reset' in reply) {
      req.socket.destroy();
      return;
    }
    if ('stallAfter' in reply) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', ...reply.headers });
      res.write(reply.stallAfter);
      return;
    }
    if ('trickle' in reply) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunks = [...reply.trickle];
      const next = (): void => {
        const c = chunks.shift();
        if (c === undefined) {
          res.end();
          return;
        }
        res.write(c);
        setTimeout(next, reply.gapMs);
      };
      next();
      return;
    }
    const headers = { 'content-type': 'application/octet-stream', ...reply.headers };
    if (reply.reasonPhrase !== undefined) res.writeHead(reply.status, reply.reasonPhrase, headers);
    else res.writeHead(reply.status, headers);
    res.end(reply.body ?? '');
  }
}
