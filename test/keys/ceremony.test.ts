import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSumkeepError } from '../../src/core/errors.ts';
import { newVerifier, open, sign, verifierSet } from '../../src/core/note.ts';
import { createDevelopmentAuthority, initAuthority } from '../../src/keys/ceremony.ts';
import { exportPublic } from '../../src/keys/export.ts';
import { createNoteKey, loadNoteKeys } from '../../src/keys/notekey.ts';
import { OID_DOCUMENT_SIGNING, hasPurpose } from '../../src/keys/profiles.ts';
import { rotateKey } from '../../src/keys/rotate.ts';
import { loadServingKeys } from '../../src/keys/serving.ts';
import { issueTlsCertificate } from '../../src/keys/tls.ts';
import { parseTrustBundle } from '../../src/keys/trust.ts';
import { certificateProfile, parseCertificate } from '../../src/keys/x509.ts';

const DAY = 86_400_000;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sumkeep-ceremony-'));
}

function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir).sort()) out[f] = readFileSync(join(dir, f), 'base64');
  return out;
}

function opensslVerify(
  root: string,
  certs: string[],
  extra: string[] = [],
): { status: number | null; out: string } {
  const r = spawnSync('/usr/bin/openssl', ['verify', '-x509_strict', ...extra, '-CAfile', root, ...certs], {
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('initAuthority', () => {
  it('creates the root, note and response keys, certificates, trust.json and the record with their modes', () => {
    const dir = join(tempDir(), 'keys');
    const r = initAuthority({ name: 'sum.corp.test', keysDir: dir, url: 'https://sum.corp.test/' });
    const files = readdirSync(dir).sort();
    const resp = files.find((f) => /^response-[0-9a-f]{16}\.key$/.test(f))!;
    const base = resp.slice(0, -4);
    assert.deepEqual(
      files.filter((f) => !f.startsWith('ceremony-')),
      [
        'note.crt',
        'note.key',
        'note.pub',
        `${base}.crt`,
        `${base}.key`,
        'root-ca.key',
        'root-ca.pem',
        'trust.json',
      ].sort(),
    );
    assert.equal(files.filter((f) => /^ceremony-\d{8}T\d{6}Z\.txt$/.test(f)).length, 1);
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(join(dir, 'root-ca.key')), 0o400);
    assert.equal(mode(join(dir, 'note.key')), 0o600);
    assert.equal(mode(join(dir, resp)), 0o600);
    for (const f of ['root-ca.pem', 'note.pub', 'note.crt', `${base}.crt`, 'trust.json'])
      assert.equal(mode(join(dir, f)), 0o644, f);
    assert.equal(r.url, 'https://sum.corp.test');
    assert.equal(r.gosumdb, `${r.verifierKey} https://sum.corp.test`);
    assert.equal(readFileSync(join(dir, 'note.pub'), 'utf8'), r.verifierKey + '\n');
    assert.deepEqual(r.created.map((c) => c.file).sort(), files.map((f) => join(dir, f)).sort());
    const record = readFileSync(r.recordFile, 'utf8');
    assert.match(record, /SUMKEEP KEY CEREMONY RECORD/);
    assert.ok(record.includes(r.verifierKey));
    assert.ok(record.includes(r.rootSha256.toUpperCase().match(/../g)!.join(':')));
    assert.match(record, /signature: _+/);
  });

  it('makes a root CA and certificates that chain to it (node X509Certificate and openssl verify)', () => {
    for (const rootAlg of ['ed25519', 'rsa-pss-3072'] as const) {
      const dir = tempDir();
      const r = initAuthority({ name: 'sum.chain.test', keysDir: dir, rootAlg, responseAlg: 'rsa-pss-2048' });
      const root = new X509Certificate(readFileSync(join(dir, 'root-ca.pem')));
      assert.equal(root.ca, true);
      assert.equal(root.verify(root.publicKey), true);
      const certs = readdirSync(dir)
        .filter((f) => f.endsWith('.crt'))
        .map((f) => join(dir, f));
      assert.equal(certs.length, 2);
      for (const c of certs) {
        const x = new X509Certificate(readFileSync(c));
        assert.equal(x.ca, false, c);
        assert.equal(x.checkIssued(root), true, c);
        assert.equal(x.verify(root.publicKey), true, c);
      }
      const v = opensslVerify(join(dir, 'root-ca.pem'), certs);
      assert.equal(v.status, 0, v.out);
      // The note certificate certifies exactly the GOSUMDB key, for the note purpose.
      const noteCert = new X509Certificate(readFileSync(join(dir, 'note.crt')));
      const raw = noteCert.publicKey.export({ type: 'spki', format: 'der' }).subarray(12);
      const keyPart = r.verifierKey.slice(r.verifierKey.indexOf('+', r.verifierKey.indexOf('+') + 1) + 1);
      assert.equal(Buffer.concat([Buffer.of(1), raw]).toString('base64'), keyPart);
      assert.deepEqual(noteCert.keyUsage, [OID_DOCUMENT_SIGNING]);
      const respCert = certs.find((c) => c.includes('response-'))!;
      assert.deepEqual(new X509Certificate(readFileSync(respCert)).keyUsage, [OID_DOCUMENT_SIGNING]);
      const noteParsed = parseCertificate(new Uint8Array(noteCert.raw));
      const respParsed = parseCertificate(new Uint8Array(new X509Certificate(readFileSync(respCert)).raw));
      assert.deepEqual([hasPurpose(noteParsed, 'note'), hasPurpose(noteParsed, 'response')], [true, false]);
      assert.deepEqual([hasPurpose(respParsed, 'response'), hasPurpose(respParsed, 'note')], [true, false]);
      assert.equal(
        new X509Certificate(readFileSync(respCert)).publicKey.asymmetricKeyDetails?.modulusLength,
        2048,
      );
    }
  });

  it('bounds the validity: 397 days by default, within the root', () => {
    const dir = tempDir();
    const now = Date.UTC(2030, 3, 1);
    initAuthority({ name: 'sum.valid.test', keysDir: dir, now });
    const root = parseCertificate(
      new Uint8Array(new X509Certificate(readFileSync(join(dir, 'root-ca.pem'))).raw),
    );
    const note = parseCertificate(
      new Uint8Array(new X509Certificate(readFileSync(join(dir, 'note.crt'))).raw),
    );
    assert.equal(root.notAfter - root.notBefore, 3650 * DAY);
    assert.equal(note.notAfter - note.notBefore, 397 * DAY);
    assert.ok(note.notBefore <= now && note.notBefore >= now - 2 * 3_600_000);
    const cases: [Partial<Parameters<typeof initAuthority>[0]>, RegExp][] = [
      [{ validDays: 826 }, /--valid-days/],
      [{ validDays: 0 }, /--valid-days/],
      [{ validDays: 1.5 }, /--valid-days/],
      [{ rootValidDays: 100, validDays: 101 }, /longer than the root/],
      [{ rootValidDays: 7306 }, /--root-valid-days/],
      [{ rootAlg: 'rsa-pss-2048' }, /--root-alg/],
      [{ responseAlg: 'rsa-pss-4096' }, /--response-alg/],
      [{ url: 'ftp://x' }, /--url/],
      [{ name: 'bad name' }, /invalid log name/],
    ];
    for (const [opts, msg] of cases) {
      const d = tempDir();
      assert.throws(
        () => initAuthority({ name: 'sum.valid.test', keysDir: d, ...opts }),
        (e: unknown) => isSumkeepError(e, 'config') && msg.test(e.message),
        JSON.stringify(opts),
      );
      assert.deepEqual(readdirSync(d), [], 'a refused init writes nothing');
    }
  });

  it('refuses to run twice and leaves the directory untouched, explaining rotate', () => {
    const dir = tempDir();
    initAuthority({ name: 'sum.twice.test', keysDir: dir });
    const before = snapshot(dir);
    assert.throws(
      () => initAuthority({ name: 'sum.twice.test', keysDir: dir }),
      (e: unknown) => isSumkeepError(e, 'key_exists') && /rotate/.test(e.message),
    );
    assert.deepEqual(snapshot(dir), before);
    // Even with the root key moved away, the certificate shows the ceremony happened.
    const moved = tempDir();
    writeFileSync(join(moved, 'root-ca.key'), readFileSync(join(dir, 'root-ca.key')));
    unlinkSync(join(dir, 'root-ca.key'));
    assert.throws(
      () => initAuthority({ name: 'sum.twice.test', keysDir: dir, rootDir: tempDir() }),
      (e: unknown) => isSumkeepError(e, 'key_exists'),
    );
  });

  it('certifies in place the note key of an earlier init, never touching note.key', () => {
    const dir = tempDir();
    const vkey = createNoteKey(dir, 'sum.legacy.test');
    unlinkSync(join(dir, 'note.pub')); // an old directory may lack it: init writes it
    const key = readFileSync(join(dir, 'note.key'));
    const r = initAuthority({ name: 'sum.legacy.test', keysDir: dir });
    assert.equal(r.certifiedExistingNoteKey, true);
    assert.equal(r.verifierKey, vkey);
    assert.deepEqual(readFileSync(join(dir, 'note.key')), key);
    assert.equal(readFileSync(join(dir, 'note.pub'), 'utf8'), vkey + '\n');
    assert.equal(parseTrustBundle(readFileSync(join(dir, 'trust.json'), 'utf8')).verifierKey, vkey);
    assert.equal(loadServingKeys(dir, { allowRootKey: true }).verifierKey, vkey);
  });

  it('refuses to certify a note key of another log or a development key', () => {
    const other = tempDir();
    createNoteKey(other, 'sum.one.test');
    assert.throws(
      () => initAuthority({ name: 'sum.two.test', keysDir: other }),
      (e: unknown) => isSumkeepError(e, 'config') && /--name sum\.one\.test/.test(e.message),
    );
    const dev = tempDir();
    createNoteKey(dev, 'sum.dev.test', { development: true });
    const before = snapshot(dev);
    assert.throws(
      () => initAuthority({ name: 'sum.dev.test', keysDir: dev }),
      (e: unknown) => isSumkeepError(e, 'config') && /DEVELOPMENT/.test(e.message),
    );
    assert.deepEqual(snapshot(dev), before);
  });

  it('writes the root key into --root, apart from the key directory', () => {
    const base = tempDir();
    const keys = join(base, 'keys');
    const offline = join(base, 'offline');
    initAuthority({ name: 'sum.split.test', keysDir: keys, rootDir: offline });
    assert.equal(existsSync(join(keys, 'root-ca.key')), false);
    assert.equal(mode(join(offline, 'root-ca.key')), 0o400);
    assert.equal(mode(offline), 0o700);
    assert.deepEqual(readFileSync(join(offline, 'root-ca.pem')), readFileSync(join(keys, 'root-ca.pem')));
    // The key directory is servable as is.
    const s = loadServingKeys(keys);
    assert.ok(s.responseSigner !== null && s.trust !== null);
  });
});

describe('trust.json from init', () => {
  it('holds name, verifierKey, gosumdb, url, root and a JWKS with x5c chains', () => {
    const dir = tempDir();
    const r = initAuthority({
      name: 'sum.trust.test',
      keysDir: dir,
      url: 'https://sum.trust.test:8443/base',
      responseAlg: 'rsa-pss-2048',
    });
    const text = readFileSync(join(dir, 'trust.json'), 'utf8');
    const raw = JSON.parse(text) as Record<string, unknown>;
    const t = parseTrustBundle(text);
    assert.deepEqual(Object.keys(raw).sort(), [
      'gosumdb',
      'jwks',
      'name',
      'root',
      'url',
      'verifierKey',
      'verifierKeys',
    ]);
    assert.equal(t.name, 'sum.trust.test');
    assert.equal(t.verifierKey, r.verifierKey);
    assert.deepEqual(t.verifierKeys, [r.verifierKey]);
    assert.equal(t.gosumdb, `${r.verifierKey} https://sum.trust.test:8443/base`);
    assert.equal(t.url, 'https://sum.trust.test:8443/base');
    assert.equal(t.root.certificate, readFileSync(join(dir, 'root-ca.pem'), 'utf8'));
    const root = new X509Certificate(t.root.certificate);
    assert.equal(t.root.sha256, root.fingerprint256.replace(/:/g, '').toLowerCase());
    assert.equal(t.jwks.keys.length, 2);
    const [noteJwk, respJwk] = t.jwks.keys;
    assert.equal(noteJwk!.alg, 'EdDSA');
    assert.equal(noteJwk!.kty, 'OKP');
    assert.match(noteJwk!.kid, /^note-[0-9a-f]{16}$/);
    assert.equal(respJwk!.alg, 'PS256');
    assert.equal(respJwk!.kty, 'RSA');
    assert.equal(respJwk!.kid, r.responseKid);
    for (const jwk of t.jwks.keys) {
      assert.equal(jwk.use, 'sig');
      assert.equal(jwk.x5c.length, 2);
      assert.equal(jwk.x5c[1], Buffer.from(root.raw).toString('base64'));
      const cert = new X509Certificate(Buffer.from(jwk.x5c[0]!, 'base64'));
      assert.equal(cert.verify(root.publicKey), true);
      const fromJwk = createPublicKey({
        key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, n: jwk.n, e: jwk.e },
        format: 'jwk',
      });
      assert.deepEqual(
        fromJwk.export({ type: 'spki', format: 'der' }),
        cert.publicKey.export({ type: 'spki', format: 'der' }),
      );
    }
  });
});

describe('rotateKey', () => {
  it('adds a response key; both stay in trust.json and the newest signs', () => {
    const dir = tempDir();
    const now = Date.UTC(2030, 0, 1);
    const first = initAuthority({ name: 'sum.rot.test', keysDir: dir, now, validDays: 30 });
    rotateKey({ keysDir: dir, purpose: 'note', now: now + 5 * DAY });
    const r = rotateKey({ keysDir: dir, purpose: 'response', now: now + 10 * DAY });
    assert.notEqual(r.kid, first.responseKid);
    assert.deepEqual(
      r.stillValid.map((k) => k.kid),
      [first.responseKid],
    );
    const t = parseTrustBundle(readFileSync(join(dir, 'trust.json'), 'utf8'));
    assert.deepEqual(
      t.jwks.keys.filter((k) => k.kid.startsWith('resp-')).map((k) => k.kid),
      [r.kid, first.responseKid],
    );
    assert.equal(
      loadServingKeys(dir, { allowRootKey: true, now: now + 11 * DAY }).responseSigner?.kid,
      r.kid,
    );
    // After the first key's certificate ends it leaves the bundle on the next rotation.
    const later = rotateKey({ keysDir: dir, purpose: 'response', now: now + 40 * DAY });
    const t2 = parseTrustBundle(readFileSync(join(dir, 'trust.json'), 'utf8'));
    assert.deepEqual(
      t2.jwks.keys.filter((k) => k.kid.startsWith('resp-')).map((k) => k.kid),
      [later.kid, r.kid],
    );
  });

  it('keeps the response algorithm unless told otherwise', () => {
    const dir = tempDir();
    initAuthority({ name: 'sum.alg.test', keysDir: dir, responseAlg: 'rsa-pss-2048' });
    const r = rotateKey({ keysDir: dir, purpose: 'response' });
    const t = parseTrustBundle(readFileSync(join(dir, 'trust.json'), 'utf8'));
    assert.equal(t.jwks.keys.find((k) => k.kid === r.kid)?.alg, 'PS256');
    const e = rotateKey({ keysDir: dir, purpose: 'response', alg: 'ed25519' });
    assert.equal(
      parseTrustBundle(readFileSync(join(dir, 'trust.json'), 'utf8')).jwks.keys.find((k) => k.kid === e.kid)
        ?.alg,
      'EdDSA',
    );
  });

  it('adds a note key: both sign every tree head, clients with either key accept it', () => {
    const dir = tempDir();
    const first = initAuthority({ name: 'sum.note.test', keysDir: dir });
    const r = rotateKey({ keysDir: dir, purpose: 'note' });
    assert.ok(existsSync(join(dir, 'note-1.key')) && existsSync(join(dir, 'note-1.crt')));
    assert.equal(mode(join(dir, 'note-1.key')), 0o600);
    const t = parseTrustBundle(readFileSync(join(dir, 'trust.json'), 'utf8'));
    assert.equal(t.verifierKey, r.verifierKey);
    assert.deepEqual(t.verifierKeys, [r.verifierKey, first.verifierKey]);
    assert.equal(t.gosumdb, `${r.verifierKey} ${first.url}`);
    const s = loadServingKeys(dir, { allowRootKey: true });
    assert.equal(s.verifierKey, r.verifierKey);
    assert.equal(s.noteSigners.length, 2);
    const note = sign(
      'go.sum database tree\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n',
      s.noteSigners,
    );
    for (const vkey of [first.verifierKey, r.verifierKey!]) {
      const opened = open(note, verifierSet([newVerifier(vkey)]));
      assert.equal(opened.sigs.length, 1);
      assert.equal(opened.unverifiedSigs.length, 1);
    }
    const v = opensslVerify(join(dir, 'root-ca.pem'), [join(dir, 'note-1.crt')]);
    assert.equal(v.status, 0, v.out);
    // A second rotation takes the next generation.
    rotateKey({ keysDir: dir, purpose: 'note' });
    assert.ok(existsSync(join(dir, 'note-2.key')));
  });

  it('drops the old note key once its certificate ends', () => {
    const dir = tempDir();
    const t0 = Date.UTC(2031, 0, 1);
    const first = initAuthority({ name: 'sum.end.test', keysDir: dir, now: t0, validDays: 30 });
    const r = rotateKey({ keysDir: dir, purpose: 'note', now: t0 + 20 * DAY });
    assert.equal(loadNoteKeys(dir, { now: t0 + 25 * DAY }).signers.length, 2);
    const after = loadNoteKeys(dir, { now: t0 + 31 * DAY });
    assert.deepEqual(
      after.keys.map((k) => k.verifierKey),
      [r.verifierKey],
    );
    assert.notEqual(after.verifierKey, first.verifierKey);
  });

  it('needs the root private key and refuses a note key algorithm other than ed25519', () => {
    const base = tempDir();
    const keys = join(base, 'keys');
    initAuthority({ name: 'sum.need.test', keysDir: keys, rootDir: join(base, 'root') });
    assert.throws(
      () => rotateKey({ keysDir: keys, purpose: 'response' }),
      (e: unknown) => isSumkeepError(e, 'config') && /root-ca\.key/.test(e.message),
    );
    const r = rotateKey({ keysDir: keys, rootDir: join(base, 'root'), purpose: 'response' });
    assert.match(r.kid, /^resp-/);
    assert.throws(
      () => rotateKey({ keysDir: keys, rootDir: join(base, 'root'), purpose: 'note', alg: 'rsa-pss-2048' }),
      (e: unknown) => isSumkeepError(e, 'config'),
    );
  });

  it('works from public files only (online private keys moved away)', () => {
    const dir = tempDir();
    initAuthority({ name: 'sum.pub.test', keysDir: dir });
    for (const f of readdirSync(dir)) if (f.endsWith('.key') && f !== 'root-ca.key') unlinkSync(join(dir, f));
    const r = rotateKey({ keysDir: dir, purpose: 'note' });
    assert.equal(parseTrustBundle(readFileSync(join(dir, 'trust.json'), 'utf8')).verifierKeys.length, 2);
    assert.ok(r.verifierKey);
  });
});

describe('issueTlsCertificate', () => {
  it('issues an ECDSA P-256 server certificate with SANs and serverAuth, chaining to the root', () => {
    for (const rootAlg of ['ed25519', 'rsa-pss-3072'] as const) {
      const dir = tempDir();
      initAuthority({ name: 'sum.tls.test', keysDir: dir, rootAlg });
      const r = issueTlsCertificate({
        keysDir: dir,
        hosts: ['Sum.TLS.test', 'localhost'],
        ips: ['127.0.0.1', '::1'],
      });
      assert.equal(mode(r.keyFile), 0o600);
      const cert = new X509Certificate(readFileSync(r.certFile));
      assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      assert.equal(cert.checkHost('sum.tls.test'), 'sum.tls.test');
      assert.equal(cert.checkIP('::1'), '::1');
      const prof = certificateProfile(parseCertificate(new Uint8Array(cert.raw)));
      assert.deepEqual(prof.dns, ['sum.tls.test', 'localhost']);
      assert.deepEqual(prof.keyUsage, [0]);
      const p = parseCertificate(new Uint8Array(cert.raw));
      assert.ok(p.notAfter - p.notBefore <= 397 * DAY);
      const v = opensslVerify(
        join(dir, 'root-ca.pem'),
        [r.certFile],
        ['-purpose', 'sslserver', '-verify_hostname', 'localhost'],
      );
      assert.equal(v.status, 0, v.out);
      const chain = readFileSync(r.chainFile, 'utf8');
      assert.equal(chain, readFileSync(r.certFile, 'utf8') + readFileSync(join(dir, 'root-ca.pem'), 'utf8'));
      // Never replaced: a second run needs another name.
      assert.throws(
        () => issueTlsCertificate({ keysDir: dir, hosts: ['localhost'], ips: [] }),
        (e: unknown) => isSumkeepError(e, 'key_exists'),
      );
      const again = issueTlsCertificate({ keysDir: dir, hosts: ['localhost'], ips: [], basename: 'tls-2' });
      assert.ok(again.certFile.endsWith('tls-2.crt'));
    }
  });

  it('refuses bad names, no names and validity over 397 days', () => {
    const dir = tempDir();
    initAuthority({ name: 'sum.tlsbad.test', keysDir: dir });
    const cases: [Parameters<typeof issueTlsCertificate>[0], RegExp][] = [
      [{ keysDir: dir, hosts: [], ips: [] }, /at least one/],
      [{ keysDir: dir, hosts: ['bad_name'], ips: [] }, /--host/],
      [{ keysDir: dir, hosts: ['a..b'], ips: [] }, /--host/],
      [{ keysDir: dir, hosts: [], ips: ['1.2.3'] }, /--ip/],
      [{ keysDir: dir, hosts: ['x.test'], ips: [], validDays: 398 }, /--valid-days/],
      [{ keysDir: dir, hosts: ['x.test'], ips: [], basename: '../x' }, /--out-name/],
    ];
    for (const [opts, msg] of cases) {
      assert.throws(
        () => issueTlsCertificate(opts),
        (e: unknown) => isSumkeepError(e, 'config') && msg.test(e.message),
        msg.source,
      );
    }
  });
});

describe('issueTlsCertificate --host', () => {
  const dir = tempDir();
  initAuthority({ name: 'sum.tlsip.test', keysDir: dir });
  // Resolvers (inet_aton, the WHATWG URL parser) read all of these as addresses, so a dNSName of
  // that text would never match: each must be refused with the --ip to pass instead.
  const cases: [string, string | null][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['10.1.2', '10.1.0.2'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0X7F.1', '127.0.0.1'],
    ['010.0.0.1', '8.0.0.1'],
    ['0', '0.0.0.0'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['[fe80::1%25eth0]', 'fe80::1'],
    // Shaped like addresses, but not valid ones: still not DNS names.
    ['1.2.3.256', null],
    ['1.2.3.4.5', null],
    ['1.2.3.08', null],
    ['*.10.0.0.1', null],
    ['[::1', null],
    ['fe80::zz', null],
  ];
  for (const [host, ip] of cases) {
    it(`refuses ${JSON.stringify(host)}${ip === null ? '' : ` and points to --ip ${ip}`}`, () => {
      const want =
        ip === null
          ? /^--host "[^"]+" looks like an IP address but is not a valid one \(nor a DNS name\); give addresses with --ip$/
          : new RegExp(
              `^--host "[^"]+" is an IP address.*: pass it as --ip ${ip.replace(/\./g, '\\.')}( |$)`,
            );
      assert.throws(
        () => issueTlsCertificate({ keysDir: dir, hosts: [host], ips: [] }),
        (e: unknown) => isSumkeepError(e, 'config') && want.test(e.message),
        `${host}: ${want.source}`,
      );
    });
  }

  it('still takes DNS names with numeric labels that are not last', () => {
    const r = issueTlsCertificate({
      keysDir: dir,
      hosts: ['1.2.3.4.nip.example', '0x7f.test', '123abc.test', '0x1g'],
      ips: [],
      basename: 'names',
    });
    const prof = certificateProfile(
      parseCertificate(new Uint8Array(new X509Certificate(readFileSync(r.certFile)).raw)),
    );
    assert.deepEqual(prof.dns, ['1.2.3.4.nip.example', '0x7f.test', '123abc.test', '0x1g']);
  });
});

describe('exportPublic', () => {
  it('writes only public material', () => {
    const dir = tempDir();
    initAuthority({ name: 'sum.export.test', keysDir: dir });
    rotateKey({ keysDir: dir, purpose: 'note' });
    issueTlsCertificate({ keysDir: dir, hosts: ['localhost'], ips: [] });
    const out = join(tempDir(), 'public');
    const r = exportPublic({ keysDir: dir, outDir: out });
    const files = readdirSync(out).sort();
    assert.deepEqual(
      r.created.map((c) => c.file).sort(),
      files.map((f) => join(out, f)),
    );
    assert.ok(files.includes('trust.json') && files.includes('root-ca.pem') && files.includes('note.pub'));
    assert.ok(files.includes('note-1.pub') && files.includes('note.crt') && files.includes('tls.crt'));
    for (const f of files) {
      assert.ok(/\.(crt|pub|pem|json)$/.test(f), f);
      assert.doesNotMatch(readFileSync(join(out, f), 'utf8'), /PRIVATE/, f);
      assert.equal(mode(join(out, f)), 0o644);
    }
    assert.throws(
      () => exportPublic({ keysDir: dir, outDir: out }),
      (e: unknown) => isSumkeepError(e, 'key_exists'),
    );
  });

  it('refuses to copy a public-looking file that holds a private key', () => {
    const dir = tempDir();
    initAuthority({ name: 'sum.leak.test', keysDir: dir });
    writeFileSync(join(dir, 'oops.crt'), readFileSync(join(dir, 'root-ca.key')));
    assert.throws(
      () => exportPublic({ keysDir: dir, outDir: join(tempDir(), 'out') }),
      (e: unknown) => isSumkeepError(e, 'config') && /private key/.test(e.message),
    );
  });
});

describe('createDevelopmentAuthority', () => {
  it('creates a DEVELOPMENT authority once, keeping the root key in the directory', () => {
    const dir = join(tempDir(), 'keys');
    const r = createDevelopmentAuthority(dir, 'sumkeep-dev.localhost');
    assert.ok(r !== null);
    assert.ok(existsSync(join(dir, 'DEVELOPMENT')) && existsSync(join(dir, 'root-ca.key')));
    assert.match(new X509Certificate(readFileSync(join(dir, 'root-ca.pem'))).subject, /DEVELOPMENT/);
    assert.equal(createDevelopmentAuthority(dir, 'sumkeep-dev.localhost'), null);
    assert.throws(
      () => loadServingKeys(dir),
      (e: unknown) => isSumkeepError(e, 'config'),
    );
    const s = loadServingKeys(dir, { allowRootKey: true });
    assert.equal(s.development, true);
    assert.equal(s.verifierKey, r.verifierKey);
    assert.ok(s.responseSigner && s.trust);
  });

  it('certifies an older development note key, and never touches a production note key', () => {
    const dev = tempDir();
    const vkey = createNoteKey(dev, 'old-dev.localhost', { development: true });
    const r = createDevelopmentAuthority(dev, 'other-name.localhost');
    assert.equal(r?.verifierKey, vkey);
    const prod = tempDir();
    createNoteKey(prod, 'sum.prod.test');
    const before = snapshot(prod);
    assert.equal(createDevelopmentAuthority(prod, 'sumkeep-dev.localhost'), null);
    assert.deepEqual(snapshot(prod), before);
  });
});
