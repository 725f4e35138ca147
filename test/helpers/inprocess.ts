/**
 * An in-process sumkeep server (fastify + in-memory SQLite) for HTTP-level tests, with a fake
 * upstream whose module hashes are derived from the module path and version, and a few paths that
 * fail the way real proxies do.
 */
import type { FastifyInstance } from 'fastify';
import { SumkeepError } from '../../src/core/errors.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { AuditStore } from '../../src/store/store.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { LogService, type ModuleSource } from '../../src/log/service.ts';
import { buildServer, type ServerOptions } from '../../src/http/server.ts';
import type { ServingKeys } from '../../src/keys/types.ts';
import { sha256 } from '../../src/core/sha256.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';

/** The zip (or go.mod) hash the fake upstream serves for path@version. */
export function fakeHash(path: string, version: string, kind: 'zip' | 'go.mod'): string {
  return 'h1:' + toBase64(sha256(utf8(`${kind} ${path}@${version}`)));
}

export class FakeUpstream implements ModuleSource {
  calls = 0;
  async fetchModule(path: string, version: string) {
    this.calls++;
    const k = `${path}@${version}`;
    if (path.startsWith('example.com/missing'))
      throw new SumkeepError('upstream_not_found', `${k}: not found upstream`);
    if (path.startsWith('example.com/down'))
      throw new SumkeepError('upstream_error', `${k}: upstream answered 502`);
    if (path.startsWith('example.com/bug')) throw new Error('SELECT secret FROM internals');
    return {
      zipHash: fakeHash(path, version, 'zip'),
      modHash: fakeHash(path, version, 'go.mod'),
      source: 'fake',
    };
  }
}

export interface App {
  app: FastifyInstance;
  store: AuditStore;
  service: LogService;
  upstream: FakeUpstream;
  close(): Promise<void>;
}

export async function startApp(
  keys: ServingKeys,
  opts: {
    upstream?: FakeUpstream | null;
    /** A string, or a function when the URL is known only after listen (port 0). */
    publicUrl?: ServerOptions['publicUrl'];
    /** The sequencer's clock (the heads' and records' createdAt). */
    now?: () => number;
    verify?: ServerOptions['verify'];
    timeouts?: ServerOptions['timeouts'];
    noKeys?: boolean;
    loggerInstance?: ServerOptions['loggerInstance'];
  } = {},
): Promise<App> {
  const store = await openSqliteStore(':memory:');
  const sequencer = await Sequencer.open(store, keys.noteSigners, {
    maxDelayMs: 1,
    maxBatch: 100,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const upstream = opts.upstream === undefined ? new FakeUpstream() : opts.upstream;
  const service = new LogService(store, sequencer, upstream ?? null);
  const app = buildServer({
    log: service,
    name: keys.name,
    keys: opts.noKeys ? null : keys,
    publicUrl: opts.publicUrl ?? 'http://sum.test.local:8080',
    ...(opts.verify ? { verify: opts.verify } : {}),
    ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : {}),
  });
  await app.ready();
  return {
    app,
    store,
    service,
    upstream: upstream ?? new FakeUpstream(),
    close: async () => {
      await app.close();
      await sequencer.close();
      await store.close();
    },
  };
}
