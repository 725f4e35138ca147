import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeKeys, runCli, tempDir } from '../helpers/server.ts';
import { parseTrustBundle } from '../../src/keys/trust.ts';

/** A passphrase file beside `dir` (what an operator would keep on the offline medium). */
function pass(dir: string): string {
  const file = `${dir}.pass`;
  writeFileSync(file, 'correct horse battery staple\n', { mode: 0o600 });
  return file;
}

function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) out[f] = readFileSync(join(dir, f), 'base64');
  return out;
}

describe('sumkeep ceremony init', () => {
  it('prints the verifier key and the GOSUMDB value, and creates the authority with its file modes', () => {
    const keys = join(tempDir('cli-ceremony'), 'keys');
    const r = runCli([
      'ceremony',
      'init',
      '--name',
      'sum.cli.test',
      '--keys',
      keys,
      '--url',
      'https://sum.cli.test:8443',
      '--passphrase-file',
      pass(keys),
    ]);
    assert.equal(r.status, 0, r.stderr);
    const vkey = /^verifier key: (\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(vkey, r.stdout);
    assert.match(vkey, /^sum\.cli\.test\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    const gosumdb = /^GOSUMDB="(.+)"$/m.exec(r.stdout)?.[1];
    assert.equal(gosumdb, `${vkey} https://sum.cli.test:8443`);
    const trust = parseTrustBundle(readFileSync(join(keys, 'trust.json'), 'utf8'));
    assert.equal(trust.gosumdb, gosumdb);
    assert.equal(trust.verifierKey, vkey);
    assert.match(r.stdout, /root CA SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    assert.match(r.stdout, /next steps:/);
    assert.match(r.stdout, /move .*root-ca\.key to offline media/);
    const record = /^ceremony record: (\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(record && readFileSync(record, 'utf8').includes(vkey));

    assert.equal(mode(keys), 0o700);
    for (const f of readdirSync(keys)) {
      const want = f === 'root-ca.key' ? 0o400 : f.endsWith('.key') ? 0o600 : 0o644;
      assert.equal(mode(join(keys, f)), want, f);
      assert.ok(r.stdout.includes(join(keys, f)), `${f} is reported as created`);
    }
  });

  it('refuses to overwrite: a second init fails with exit 2, names rotate and changes nothing', () => {
    const keys = tempDir('cli-twice');
    assert.equal(
      runCli(['ceremony', 'init', '--name', 'sum.twice.test', '--keys', keys, '--insecure-plaintext-root'])
        .status,
      0,
    );
    const before = snapshot(keys);
    const r = runCli([
      'ceremony',
      'init',
      '--name',
      'sum.twice.test',
      '--keys',
      keys,
      '--insecure-plaintext-root',
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /already exists/);
    assert.match(r.stderr, /ceremony rotate/);
    assert.equal(r.stdout, '');
    assert.deepEqual(snapshot(keys), before);
  });

  it('refuses unknown algorithms and out-of-range validity with exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['--root-alg', 'rsa-pss-1024'], /--root-alg .*ed25519, rsa-pss-3072, rsa-pss-4096/],
      [['--response-alg', 'es256'], /--response-alg/],
      [['--valid-days', '900'], /--valid-days/],
      [['--valid-days', 'ten'], /--valid-days/],
    ];
    for (const [extra, msg] of cases) {
      const keys = tempDir('cli-bad');
      const r = runCli([
        'ceremony',
        'init',
        '--name',
        'sum.bad.test',
        '--keys',
        keys,
        '--insecure-plaintext-root',
        ...extra,
      ]);
      assert.equal(r.status, 2, extra.join(' '));
      assert.match(r.stderr, msg);
      assert.deepEqual(readdirSync(keys), []);
    }
  });

  it('keeps working for the test helper that reads the verifier key line', () => {
    const vkey = makeKeys(join(tempDir('cli-helper'), 'keys'), 'sum.helper.test');
    assert.match(vkey, /^sum\.helper\.test\+/);
  });
});

describe('sumkeep ceremony tls, rotate, export-public', () => {
  it('run offline against a root kept in --root and produce public and online files', () => {
    const base = tempDir('cli-flow');
    const keys = join(base, 'keys');
    const root = join(base, 'offline');
    const pp = pass(root);
    const init = runCli([
      'ceremony',
      'init',
      '--name',
      'sum.flow.test',
      '--keys',
      keys,
      '--root',
      root,
      '--passphrase-file',
      pp,
    ]);
    assert.equal(init.status, 0, init.stderr);
    assert.equal(mode(join(root, 'root-ca.key')), 0o400);

    const noRoot = runCli(['ceremony', 'rotate', '--purpose', 'response', '--keys', keys]);
    assert.equal(noRoot.status, 2);
    assert.match(noRoot.stderr, /root-ca\.key/);

    const tls = runCli([
      'ceremony',
      'tls',
      '--host',
      'sum.flow.test',
      '--ip',
      '127.0.0.1',
      '--keys',
      keys,
      '--root',
      root,
      '--passphrase-file',
      pp,
    ]);
    assert.equal(tls.status, 0, tls.stderr);
    assert.match(tls.stdout, /--tls-cert \S+tls\.crt --tls-key \S+tls\.key/);
    assert.equal(mode(join(keys, 'tls.key')), 0o600);

    const rot = runCli([
      'ceremony',
      'rotate',
      '--purpose',
      'note',
      '--keys',
      keys,
      '--root',
      root,
      '--passphrase-file',
      pp,
    ]);
    assert.equal(rot.status, 0, rot.stderr);
    const newKey = /^new verifier key: (\S+)$/m.exec(rot.stdout)?.[1];
    assert.ok(newKey);
    assert.match(
      rot.stdout,
      new RegExp(`^GOSUMDB="${newKey.replace(/[+/]/g, '\\$&')} https://sum\\.flow\\.test"$`, 'm'),
    );
    assert.match(rot.stdout, /still valid/);

    const out = join(base, 'public');
    const exp = runCli(['ceremony', 'export-public', '--keys', keys, '--out', out]);
    assert.equal(exp.status, 0, exp.stderr);
    for (const f of readdirSync(out)) assert.doesNotMatch(readFileSync(join(out, f), 'utf8'), /PRIVATE/, f);
    assert.ok(readdirSync(out).includes('trust.json'));
  });

  it('reports usage errors with exit 2', () => {
    const keys = tempDir('cli-usage');
    assert.equal(
      runCli(['ceremony', 'init', '--name', 'sum.usage.test', '--keys', keys, '--insecure-plaintext-root'])
        .status,
      0,
    );
    const cases: [string[], RegExp][] = [
      [['ceremony', 'tls', '--keys', keys], /at least one --host/],
      [
        ['ceremony', 'tls', '--host', '127.0.0.1', '--keys', keys],
        /--host "127\.0\.0\.1" is an IP address: pass it as --ip 127\.0\.0\.1/,
      ],
      [['ceremony', 'tls', '--host', '[::1]', '--keys', keys], /is an IP address: pass it as --ip ::1/],
      [['ceremony', 'rotate', '--purpose', 'tls', '--keys', keys], /--purpose/],
      [['ceremony', 'rotate', '--purpose', 'note', '--alg', 'rsa-pss-2048', '--keys', keys], /--alg/],
      [['ceremony', 'export-public', '--keys', keys, '--out', keys], /another directory/],
    ];
    for (const [args, msg] of cases) {
      const r = runCli(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, msg);
    }
  });

  it('lists every ceremony command in its help', () => {
    const r = runCli(['ceremony', '--help']);
    assert.equal(r.status, 0);
    for (const c of ['init', 'tls', 'rotate', 'export-public'])
      assert.match(r.stdout, new RegExp(`^\\s+${c}\\b`, 'm'));
  });
});
