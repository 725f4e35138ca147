/**
 * Go's reference checksum database for the cross-check tests: bench/go/refserver (x/mod's
 * sumdb.NewServer over an in-memory log), built by the test from Debian's x/mod sources offline
 * (a copy of the program in a temporary directory, GOPROXY=off, GOFLAGS=-mod=mod, GOTOOLCHAIN=local),
 * and a loopback "company proxy" that serves a GOPROXY directory and passes /sumdb/<name>/... on to
 * a database it can be pointed at, logging every request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { goEnv, runGo } from '../helpers/go.ts';
import { REPO } from '../helpers/server.ts';

/** Builds refserver into `dir` with `go`; returns the binary. */
export function buildRefServer(go: string, dir: string): string {
  const src = path.join(dir, 'refserver-src');
  fs.mkdirSync(src, { recursive: true });
  for (const f of ['go.mod', 'main.go']) {
    fs.copyFileSync(path.join(REPO, 'bench', 'go', 'refserver', f), path.join(src, f));
  }
  const bin = path.join(dir, 'refserver');
  const r = runGo(go, ['build', '-o', bin, '.'], {
    cwd: src,
    env: goEnv(path.join(dir, 'refserver-go'), { GOPROXY: 'off', go }),
  });
  if (r.status !== 0) throw new Error(`go build of refserver failed:\n${r.stderr}`);
  return bin;
}

export interface RefDb {
  url: string;
  size: number;
  stop(): Promise<void>;
}

/** Starts refserver over `records` (texts in log order) signed with `skey`. */
export async function startRefDb(
  bin: string,
  dir: string,
  records: readonly string[],
  skey: string,
): Promise<RefDb> {
  fs.mkdirSync(dir, { recursive: true });
  const recordsFile = path.join(dir, 'records');
  const keyFile = path.join(dir, 'key');
  fs.writeFileSync(recordsFile, records.join(''));
  fs.writeFileSync(keyFile, skey + '\n', { mode: 0o600 });
  const proc: ChildProcess = spawn(bin, ['-records', recordsFile, '-key', keyFile, '-batch', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`refserver exited with ${code}: ${err}`)));
  });
  const j = JSON.parse(line) as { addr: string; records: number };
  return {
    url: `http://${j.addr}`,
    size: j.records,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A company proxy (Athens, Artifactory) on 127.0.0.1: module files from `dir`, and, for the
 * database `name`, /sumdb/<name>/supported (200) and /sumdb/<name>/<rest> passed on to `target`
 * (set it to another database, or to a closed port, at any time). Every request path is logged.
 */
export class SumdbProxy {
  readonly requests: string[] = [];
  target: string;
  url = '';
  private server: Server | undefined;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    target: string,
  ) {
    this.target = target;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const p = decodeURIComponent((req.url ?? '/').split('?')[0]!);
      this.requests.push(p);
      const prefix = `/sumdb/${this.name}/`;
      if (p === `${prefix}supported`) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end();
        return;
      }
      if (p.startsWith(prefix)) {
        fetch(`${this.target}/${(req.url ?? '/').slice(prefix.length)}`)
          .then(async (r) => {
            const body = Buffer.from(await r.arrayBuffer());
            res
              .writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' })
              .end(body);
          })
          .catch(() => res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n'));
        return;
      }
      const file = path.join(this.dir, ...p.split('/').filter((s) => s !== '' && s !== '..'));
      fs.readFile(file, (e, data) => {
        if (e) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(data);
      });
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
    const s = this.server;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
