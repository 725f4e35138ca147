/**
 * Debian's nginx over a published directory, configured with the exact configuration that
 * docs/operations.md ("Static read path") gives users: the test of that configuration
 * (test/docs/nginx-config.test.ts) and the read-path benchmark (bench/readpath.ts) both run it, so
 * the documented block is the one that is checked and measured.
 *
 * The documented block is the first ```nginx fence under "## Static read path". It names
 * production values, which are replaced here by exact string substitution (each must occur, so a
 * changed document fails loudly instead of running something else):
 *   listen 80;                         -> listen 127.0.0.1:<port>;
 *   server 127.0.0.1:3080;             -> server <sumkeep's host:port>;   (the upstream block)
 *   root /var/lib/sumkeep/publish;     -> root <published directory>;
 *   sum.corp.internal / sum\.corp\.internal  -> the log's name (plain and as a regex)
 *   access_log /var/log/nginx/sumkeep.access.log  -> access_log <dir>/access.log (buffered as
 *                                      documented; mainConfig's `dir` unless `accessLog` is given)
 * and wrapped in a main configuration of its own (pid, error log and temporary directories in a
 * directory of the caller's, no daemon), as /etc/nginx/nginx.conf wraps a site.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const OPERATIONS_MD = path.join(REPO, 'docs', 'operations.md');
/** Debian's extension-to-type table (package nginx-common), included by /etc/nginx/nginx.conf. */
const MIME_TYPES = '/etc/nginx/mime.types';

/** Debian's nginx (/usr/sbin/nginx, not on a non-root PATH), or nginx on PATH, or null. */
export function findNginx(): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
  for (const d of ['/usr/sbin', ...dirs]) {
    const p = path.join(d, 'nginx');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** nginx, or: under CI=true the test fails (a missing nginx must not pass silently), else it is skipped. */
export function requireNginx(t: TestContext): string | null {
  const nginx = findNginx();
  if (nginx !== null) return nginx;
  const why = 'nginx is not installed (apt-get install nginx)';
  if (process.env.CI === 'true') assert.fail(`${why} (required under CI)`);
  t.skip(`${why}; skipping the nginx check`);
  return null;
}

/** The first ```nginx block of the "## Static read path" section of docs/operations.md. */
export function documentedNginxSite(markdown = fs.readFileSync(OPERATIONS_MD, 'utf8')): string {
  const start = markdown.indexOf('\n## Static read path\n');
  if (start < 0) throw new Error('docs/operations.md has no "## Static read path" section');
  const next = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, next < 0 ? undefined : next);
  const m = /\n```nginx\n([\s\S]*?)\n```\n/.exec(section);
  if (m === null) throw new Error('the "Static read path" section has no ```nginx block');
  return m[1]! + '\n';
}

export interface SiteValues {
  /** 127.0.0.1:<port> nginx listens on. */
  listen: string;
  /** host:port of sumkeep serve. */
  sumkeep: string;
  /** The published directory (serve --publish, sumkeep publish --out). */
  root: string;
  /** The log name (the key name): the /sumdb/<name>/ prefix. */
  name: string;
  /** The access log file (default: access.log beside the published directory's root). */
  accessLog?: string;
}

const DOC_VALUES = {
  listen: 'listen 80;',
  sumkeep: 'server 127.0.0.1:3080;',
  root: 'root /var/lib/sumkeep/publish;',
  nameRegex: 'sum\\.corp\\.internal',
  name: 'sum.corp.internal',
  accessLog: 'access_log /var/log/nginx/sumkeep.access.log ',
};

/** The documented site with the production values replaced; throws if one of them is missing. */
export function siteConfig(v: SiteValues, site = documentedNginxSite()): string {
  const replace = (s: string, from: string, to: string): string => {
    if (!s.includes(from))
      throw new Error(`the documented nginx block no longer holds ${JSON.stringify(from)}`);
    return s.split(from).join(to);
  };
  let s = site;
  s = replace(s, DOC_VALUES.listen, `listen ${v.listen};`);
  s = replace(s, DOC_VALUES.sumkeep, `server ${v.sumkeep};`);
  s = replace(s, DOC_VALUES.root, `root ${v.root};`);
  s = replace(s, DOC_VALUES.nameRegex, v.name.replace(/[.\\+*?^$()[\]{}|]/g, '\\$&'));
  s = replace(s, DOC_VALUES.name, v.name);
  s = replace(
    s,
    DOC_VALUES.accessLog,
    `access_log ${v.accessLog ?? path.join(path.dirname(v.root), 'access.log')} `,
  );
  return s;
}

/**
 * A complete nginx.conf around `site`, everything nginx writes kept under `dir`. `workers` is
 * worker_processes (nginx's own default is 1; `auto` is one per core, as Debian's nginx.conf).
 */
export function mainConfig(dir: string, site: string, workers: number | 'auto' = 1): string {
  const tmp = (name: string) => path.join(dir, name);
  return [
    // As root (CI, this machine), workers would switch to `nobody`, who cannot enter the 0700
    // temporary directories holding the published files; these are the caller's own files.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `worker_processes ${workers};`,
    `pid ${tmp('nginx.pid')};`,
    `error_log ${tmp('error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${tmp('client_body')};`,
    `  proxy_temp_path ${tmp('proxy')};`,
    `  fastcgi_temp_path ${tmp('fastcgi')};`,
    `  uwsgi_temp_path ${tmp('uwsgi')};`,
    `  scgi_temp_path ${tmp('scgi')};`,
    // What Debian's /etc/nginx/nginx.conf sets for every site: the site must hold up against
    // the extension-to-type table (a version may end in ".html").
    '  sendfile on;',
    '  tcp_nopush on;',
    ...(fs.existsSync(MIME_TYPES) ? [`  include ${MIME_TYPES};`] : []),
    '  default_type application/octet-stream;',
    site,
    '}',
    '',
  ].join('\n');
}

/** `nginx -t -c <conf>`: status and output (nginx writes its verdict on stderr). */
export function testConfig(nginx: string, conf: string): { status: number | null; output: string } {
  const r = spawnSync(nginx, ['-t', '-q', '-p', path.dirname(conf), '-e', 'stderr', '-c', conf], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A loopback port nothing listens on right now (the kernel's choice). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as net.AddressInfo).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

export interface RunningNginx {
  url: string;
  proc: ChildProcess;
  /** The configuration file it runs. */
  conf: string;
  /** SIGQUIT (graceful shutdown), wait for the master to exit. */
  stop(): Promise<void>;
}

/**
 * Writes the documented site for `v` (listen port chosen here) into `<dir>/nginx.conf`, checks it
 * with `nginx -t`, starts nginx in the foreground and waits until it accepts connections.
 */
export async function startNginx(
  nginx: string,
  dir: string,
  v: Omit<SiteValues, 'listen'>,
  workers: number | 'auto' = 1,
): Promise<RunningNginx> {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    mainConfig(
      dir,
      siteConfig({ accessLog: path.join(dir, 'access.log'), ...v, listen: `127.0.0.1:${port}` }),
      workers,
    ),
  );
  const t = testConfig(nginx, conf);
  if (t.status !== 0) throw new Error(`nginx -t -c ${conf} failed:\n${t.output}`);
  const proc = spawn(nginx, ['-p', dir, '-e', 'stderr', '-c', conf, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited (${proc.exitCode}):\n${err}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nginx did not listen on 127.0.0.1:${port} within 30 s:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    proc,
    conf,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGQUIT');
      await exited;
    },
  };
}
