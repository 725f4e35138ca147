/**
 * (A minimal configuration of its own, for the end-to-end test; the documented configuration
 * itself is run by test/helpers/nginx.ts and test/docs/nginx-config.test.ts.)
 * Debian's nginx (/usr/sbin/nginx, or $SUMKEEP_TEST_NGINX) in front of sumkeep, as
 * docs/operations.md's static read path has it: `/latest` and `/tile/` from the published
 * directory, `/lookup/` from it with `try_files` falling back to sumkeep (first-time lookups),
 * everything else proxied. It runs in the foreground (daemon off) with its whole configuration,
 * pid, logs and temporary files under a directory of the test's, on 127.0.0.1 and a free port.
 *
 * Lookup files are named `<escaped path>@<escaped version>` with the go command's escaping ("!"
 * before a lower-cased capital): that is the request path as the go command sends it, so `$uri`
 * (nginx's decoded, normalized path: a "%21" from another client is "!" there too) names the file
 * directly; no rewrite and no case folding may come in between.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export const NGINX = process.env.SUMKEEP_TEST_NGINX ?? '/usr/sbin/nginx';

/** True when nginx is there; fails under CI=true, skips elsewhere, when it is not. */
export function requireNginx(t: TestContext): boolean {
  if (existsSync(NGINX) && spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).status === 0) return true;
  const why = `nginx not found at ${NGINX} (apt-get install nginx, or set SUMKEEP_TEST_NGINX)`;
  if (process.env.CI === 'true') assert.fail(`${why} (required under CI)`);
  t.skip(`${why}; skipping the static read path test`);
  return false;
}

/** A free TCP port on 127.0.0.1 (the kernel's choice, released for nginx to take). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  srv.close();
  await once(srv, 'close');
  return port;
}

export interface RunningNginx {
  url: string;
  /** The access log: one line per request, `<status> <upstream addr or -> <request uri>`. */
  accessLog(): string[];
  errorLog(): string;
  stop(): Promise<void>;
}

/** The server block of the static read path (also what docs/operations.md shows). */
export function readPathConfig(pub: string, upstream: string): string {
  return `
    root ${pub};
    location = /latest {
      default_type text/plain;
      add_header Cache-Control "no-cache";
    }
    location /tile/ {
      default_type application/octet-stream;
    }
    location /lookup/ {
      default_type "text/plain; charset=utf-8";
      try_files $uri @sumkeep;
    }
    location / {
      proxy_pass ${upstream};
    }
    location @sumkeep {
      proxy_pass ${upstream};
    }`;
}

/** Starts nginx serving `pub` and proxying to `upstream` (http://127.0.0.1:port). */
export async function startNginx(dir: string, pub: string, upstream: string): Promise<RunningNginx> {
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  // As root the workers would run as nobody and could not read the test's 0700 temp dirs.
  const user = process.getuid?.() === 0 ? 'user root root;' : '';
  writeFileSync(
    conf,
    `${user}
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  log_format sk '$status $upstream_addr $request_uri';
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  server {
    listen 127.0.0.1:${port};
    access_log ${join(dir, 'logs', 'access.log')} sk;
${readPathConfig(pub, upstream)}
  }
}
`,
  );
  const proc: ChildProcess = spawn(NGINX, ['-p', dir, '-c', conf, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}: ${err}`);
    try {
      await fetch(`${url}/latest`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not listen on ${url} in 30 s: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  return {
    url,
    accessLog: () =>
      read(join(dir, 'logs', 'access.log'))
        .split('\n')
        .filter((l) => l !== ''),
    errorLog: () => read(join(dir, 'logs', 'error.log')) + err,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGQUIT');
      await exited;
    },
  };
}
