/**
 * `ceremony init` encrypts the root key: passphrase from --passphrase-file or typed twice on a real
 * terminal (a pseudo-terminal made by util-linux `script`), without echo; no terminal and no file
 * stops init naming both; every command that needs the root asks for it; a wrong one is a clear
 * error.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../../src/keys/permissions.ts';
import { ENCRYPTED_LABEL } from '../../src/keys/encrypted-key.ts';
import { CLI, REPO, runCli, tempDir } from '../helpers/server.ts';

/** The PEM label of a plaintext PKCS#8 key (what --insecure-plaintext-root writes). */
const PKCS8_LABEL = 'PRIVATE KEY';

const PASS = 'correct horse battery staple';

function passFile(dir: string, text = PASS + '\n'): string {
  const f = join(dir, `pass-${readdirSync(dir).length}`);
  writeFileSync(f, text, { mode: 0o600 });
  return f;
}

const init = (keys: string, root: string, extra: string[]) =>
  runCli(['ceremony', 'init', '--name', 'sum.pass.test', '--keys', keys, '--root', root, ...extra]);

function sameKey(rootDir: string, keysDir: string, passphrase: string): boolean {
  const key = createPrivateKey({ key: readFileSync(join(rootDir, 'root-ca.key'), 'utf8'), passphrase });
  const cert = new X509Certificate(readFileSync(join(keysDir, 'root-ca.pem')));
  return cert.checkPrivateKey(key);
}

/**
 * Runs the CLI on a pseudo-terminal; `answers` are typed one by one, each after its prompt (a
 * regexp) appeared. Returns everything the terminal showed and the exit status.
 */
function onTerminal(
  args: string[],
  answers: [RegExp, string][],
): Promise<{ status: number | null; screen: string }> {
  const cmd = [process.execPath, '--import', 'tsx', CLI, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let next = 0;
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  child.stdout.on('data', (d: Buffer) => {
    screen += d.toString();
    const a = answers[next];
    if (a !== undefined && a[0].test(screen)) {
      next++;
      screen += '<typed>';
      child.stdin.write(a[1] + '\r');
    }
  });
  child.stderr.on('data', (d: Buffer) => (screen += d.toString()));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ status: code, screen });
    });
  });
}

function haveScript(t: { skip: (m: string) => void }): boolean {
  if (spawnSync('script', ['--version']).status === 0) return true;
  if (process.env.CI === 'true') assert.fail('util-linux script is required under CI (a pseudo-terminal)');
  t.skip('util-linux script is not installed');
  return false;
}

describe('ceremony init root key passphrase', () => {
  it('without a terminal and without --passphrase-file, stops, names both, and writes nothing', () => {
    const base = tempDir('pass-none');
    const r = init(join(base, 'keys'), join(base, 'offline'), []);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--passphrase-file <file>/);
    assert.match(r.stderr, /terminal/);
    assert.match(r.stderr, /--insecure-plaintext-root/);
    assert.equal(r.stdout, '');
    assert.ok(!existsSync(join(base, 'keys', 'root-ca.pem')));
    assert.ok(!existsSync(join(base, 'offline', 'root-ca.key')));
  });

  it('encrypts root-ca.key with the passphrase file; rotate and tls need it and refuse a wrong one', () => {
    const base = tempDir('pass-file');
    const keys = join(base, 'keys');
    const root = join(base, 'offline');
    const pp = passFile(base);
    const r = init(keys, root, ['--passphrase-file', pp]);
    assert.equal(r.status, 0, r.stderr);
    const pem = readFileSync(join(root, 'root-ca.key'), 'utf8');
    assert.ok(pem.startsWith(`-----BEGIN ${ENCRYPTED_LABEL}-----`), pem.slice(0, 40));
    assert.doesNotMatch(pem, /BEGIN PRIVATE KEY/);
    assert.ok(sameKey(root, keys, PASS));
    const record = readFileSync(/^ceremony record: (\S+)$/m.exec(r.stdout)![1]!, 'utf8');
    assert.match(
      record,
      /private key protection: +encrypted PKCS#8 \(PBES2: PBKDF2-HMAC-SHA256, 600000 iterations/,
    );
    assert.ok(!record.includes(PASS) && !r.stdout.includes(PASS) && !r.stderr.includes(PASS));

    const before = readdirSync(keys).sort();
    const wrong = runCli([
      'ceremony',
      'rotate',
      '--purpose',
      'response',
      '--keys',
      keys,
      '--root',
      root,
      '--passphrase-file',
      passFile(base, 'not the passphrase\n'),
    ]);
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /root-ca\.key: wrong passphrase/);
    const none = runCli(['ceremony', 'tls', '--host', 'sum.pass.test', '--keys', keys, '--root', root]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /root-ca\.key is encrypted and there is no terminal .*--passphrase-file/);
    assert.deepEqual(readdirSync(keys).sort(), before, 'refused commands create nothing');

    const ok = runCli([
      'ceremony',
      'rotate',
      '--purpose',
      'response',
      '--keys',
      keys,
      '--root',
      root,
      '--passphrase-file',
      pp,
    ]);
    assert.equal(ok.status, 0, ok.stderr);
    const tls = runCli([
      'ceremony',
      'tls',
      '--host',
      'sum.pass.test',
      '--keys',
      keys,
      '--root',
      root,
      '--passphrase-file',
      pp,
    ]);
    assert.equal(tls.status, 0, tls.stderr);
  });

  it('refuses a short passphrase and contradicting options before writing anything', () => {
    const base = tempDir('pass-bad');
    const keys = join(base, 'keys');
    const short = init(keys, join(base, 'offline'), ['--passphrase-file', passFile(base, 'short\n')]);
    assert.equal(short.status, 2);
    assert.match(short.stderr, /12 to 1024 characters/);
    const both = init(keys, join(base, 'offline'), [
      '--passphrase-file',
      passFile(base),
      '--insecure-plaintext-root',
    ]);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /contradict/);
    assert.ok(!existsSync(join(keys, 'root-ca.pem')));
  });

  it('--insecure-plaintext-root writes the key in the clear and says so on the record', () => {
    const base = tempDir('pass-plain');
    const r = init(join(base, 'keys'), join(base, 'offline'), ['--insecure-plaintext-root']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(
      readFileSync(join(base, 'offline', 'root-ca.key'), 'utf8').startsWith(`-----BEGIN ${PKCS8_LABEL}-----`),
    );
    const record = readFileSync(/^ceremony record: (\S+)$/m.exec(r.stdout)![1]!, 'utf8');
    assert.match(record, /NOT ENCRYPTED \(--insecure-plaintext-root\)/);
  });

  it('asks twice on a terminal, without echo, and encrypts with what was typed', async (t) => {
    if (!haveScript(t)) return;
    const base = tempDir('pass-tty');
    const keys = join(base, 'keys');
    const root = join(base, 'offline');
    const typed = 'typed on the terminal 123';
    const r = await onTerminal(
      ['ceremony', 'init', '--name', 'sum.tty.test', '--keys', keys, '--root', root],
      [
        [/Passphrase for the new root CA key: $/, typed],
        [/The same passphrase again: $/, typed],
      ],
    );
    assert.equal(r.status, 0, r.screen);
    assert.ok(!r.screen.includes(typed), `the passphrase was echoed:\n${r.screen}`);
    assert.match(r.screen, /verifier key: sum\.tty\.test\+/);
    assert.ok(sameKey(root, keys, typed));

    // rotate asks once, on the terminal too.
    const rot = await onTerminal(
      ['ceremony', 'rotate', '--purpose', 'response', '--keys', keys, '--root', root],
      [[/Passphrase for \S+root-ca\.key: $/, typed]],
    );
    assert.equal(rot.status, 0, rot.screen);
    assert.ok(!rot.screen.includes(typed));
    const bad = await onTerminal(
      ['ceremony', 'rotate', '--purpose', 'response', '--keys', keys, '--root', root],
      [[/Passphrase for \S+root-ca\.key: $/, 'something else entirely']],
    );
    assert.equal(bad.status, 2);
    assert.match(bad.screen, /wrong passphrase/);
  });

  it('stops when the two typed passphrases differ, writing nothing', async (t) => {
    if (!haveScript(t)) return;
    const base = tempDir('pass-tty2');
    const r = await onTerminal(
      [
        'ceremony',
        'init',
        '--name',
        'sum.tty.test',
        '--keys',
        join(base, 'keys'),
        '--root',
        join(base, 'offline'),
      ],
      [
        [/Passphrase for the new root CA key: $/, 'first passphrase here'],
        [/The same passphrase again: $/, 'second passphrase here'],
      ],
    );
    assert.equal(r.status, 2, r.screen);
    assert.match(r.screen, /the two passphrases differ; nothing was written/);
    assert.ok(!existsSync(join(base, 'keys', 'root-ca.pem')));
  });
});
