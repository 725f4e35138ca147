/**
 * The ceremony with keys in SoftHSM2 tokens: a root key in an "offline HSM" (--root-key), rotation
 * signed through it to new online keys generated in another token, the PIN from the environment,
 * and the refusals (an extractable key, a label already taken, a passphrase for a token root).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type * as Pkcs11js from 'pkcs11js';
import { loadServingKeys } from '../../src/keys/serving.ts';
import { Pkcs11Library } from '../../src/keys/pkcs11/library.ts';
import { runCli, tempDir } from '../helpers/server.ts';
import { SOFTHSM_LIB, USER_PIN, makeToken, requireSoftHsm, type TestToken } from '../helpers/softhsm.ts';

const NAME = 'sum.hsmcli.test';

function opensslVerify(rootPem: string, certs: string[]): void {
  const r = spawnSync('openssl', ['verify', '-CAfile', rootPem, ...certs], { encoding: 'utf8' });
  if (r.error !== undefined) return; // openssl absent: node's chain check in loadServingKeys still runs
  assert.equal(r.status, 0, r.stdout + r.stderr);
}

/** An extractable Ed25519 key made with pkcs11js directly (what a careless operator might have). */
function makeExtractableKey(token: TestToken, label: string): void {
  const m = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11js;
  const p = new m.PKCS11();
  p.load(SOFTHSM_LIB);
  p.C_Initialize();
  try {
    const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === token.label)!;
    assert.ok(slot, `token ${token.label} is present`);
    const s = p.C_OpenSession(slot, m.CKF_SERIAL_SESSION | m.CKF_RW_SESSION);
    p.C_Login(s, m.CKU_USER, USER_PIN);
    p.C_GenerateKeyPair(
      s,
      { mechanism: 0x1055 },
      [
        { type: m.CKA_TOKEN, value: true },
        { type: m.CKA_LABEL, value: label },
        { type: m.CKA_EC_PARAMS, value: Buffer.from('06032b6570', 'hex') },
      ],
      [
        { type: m.CKA_TOKEN, value: true },
        { type: m.CKA_LABEL, value: label },
        { type: m.CKA_SIGN, value: true },
        { type: m.CKA_SENSITIVE, value: false },
        { type: m.CKA_EXTRACTABLE, value: true },
      ],
    );
  } finally {
    p.C_Finalize();
  }
}

describe('sumkeep ceremony with PKCS#11 tokens', { timeout: 300_000 }, () => {
  it('keeps the root in an offline HSM and rotates through it to keys generated in the online token', (t) => {
    if (!requireSoftHsm(t)) return;
    const rootToken = makeToken('offline-root');
    const online = makeToken('online-keys');
    const base = tempDir('cli-hsm');
    const keys = join(base, 'keys');
    const offline = join(base, 'offline');
    const init = runCli([
      'ceremony',
      'init',
      '--name',
      NAME,
      '--keys',
      keys,
      '--root',
      offline,
      '--root-key',
      rootToken.uri('root'),
      '--note-key',
      online.uri('note'),
      '--generate-in-token',
    ]);
    assert.equal(init.status, 0, init.stderr);
    assert.ok(existsSync(join(offline, 'root-ca.pkcs11')));
    assert.ok(!existsSync(join(offline, 'root-ca.key')) && !existsSync(join(keys, 'root-ca.key')));
    assert.match(
      init.stdout,
      /root-ca\.pkcs11 +\(mode 0600, PKCS#11 URI of the root key: keep the HSM OFFLINE\)/,
    );
    assert.match(init.stdout, /disconnect the root HSM/);
    opensslVerify(join(keys, 'root-ca.pem'), [join(keys, 'note.crt')]);

    const rot = runCli([
      'ceremony',
      'rotate',
      '--purpose',
      'response',
      '--keys',
      keys,
      '--root',
      offline,
      '--key',
      online.uri('response-2'),
      '--generate-in-token',
      '--alg',
      'rsa-pss-2048',
    ]);
    assert.equal(rot.status, 0, rot.stderr);
    const note = runCli([
      'ceremony',
      'rotate',
      '--purpose',
      'note',
      '--keys',
      keys,
      '--root',
      offline,
      '--key',
      online.uri('note-2'),
      '--generate-in-token',
    ]);
    assert.equal(note.status, 0, note.stderr);
    assert.ok(existsSync(join(keys, 'note-1.pkcs11')));
    const newVkey = /^new verifier key: (\S+)$/m.exec(note.stdout)![1]!;
    const certs = readdirSync(keys).filter((f) => f.endsWith('.crt'));
    opensslVerify(
      join(keys, 'root-ca.pem'),
      certs.map((f) => join(keys, f)),
    );

    t.after(() => Pkcs11Library.closeAll());
    const served = loadServingKeys(keys);
    assert.equal(served.verifierKey, newVkey);
    assert.equal(served.noteSigners.length, 2, 'both note keys in the token sign');
    assert.equal(served.responseSigner?.alg, 'PS256');
    assert.equal(served.responseSigner?.inToken, true);
    assert.deepEqual(
      readdirSync(keys).filter((f) => f.startsWith('note') && f.endsWith('.key')),
      [],
      'no note key file in the key directory',
    );

    // The online server must not see the root: a key directory naming the root token is refused.
    assert.throws(() => loadServingKeys(offline), /root-ca\.pkcs11.*never needs/);
  });

  it('reads the PIN from SUMKEEP_PKCS11_PIN when the URI has no pin-source', (t) => {
    if (!requireSoftHsm(t)) return;
    const token = makeToken('env-pin');
    const uri = `pkcs11:token=env-pin;object=note?module-path=${SOFTHSM_LIB}`;
    const args = (keys: string) => [
      'ceremony',
      'init',
      '--name',
      NAME,
      '--keys',
      keys,
      '--insecure-plaintext-root',
      '--note-key',
      uri,
      '--generate-in-token',
    ];
    const base = tempDir('cli-hsm-env');
    const none = runCli(args(join(base, 'a')), { env: { SUMKEEP_PKCS11_PIN: undefined } });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no PIN for the token: set SUMKEEP_PKCS11_PIN, or add pin-source=file:<path>/);
    const ok = runCli(args(join(base, 'b')), { env: { SUMKEEP_PKCS11_PIN: USER_PIN } });
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(!ok.stdout.includes(USER_PIN));
    assert.equal(token.label, 'env-pin');
  });

  it('refuses an extractable key, a label already taken, and a passphrase for a root in a token', (t) => {
    if (!requireSoftHsm(t)) return;
    const token = makeToken('refusals');
    makeExtractableKey(token, 'loose');
    const base = tempDir('cli-hsm-refuse');
    const init = (dir: string, extra: string[]) =>
      runCli([
        'ceremony',
        'init',
        '--name',
        NAME,
        '--keys',
        join(base, dir),
        '--insecure-plaintext-root',
        ...extra,
      ]);

    const loose = init('a', ['--note-key', token.uri('loose')]);
    assert.equal(loose.status, 2);
    assert.match(
      loose.stderr,
      /token "refusals" key "loose" can leave the token \(CKA_SENSITIVE false or CKA_EXTRACTABLE true\)/,
    );
    assert.ok(!existsSync(join(base, 'a', 'root-ca.pem')), 'nothing written');

    assert.equal(init('b', ['--note-key', token.uri('note'), '--generate-in-token']).status, 0);
    const again = init('c', ['--note-key', token.uri('note'), '--generate-in-token']);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already exists in the token; sumkeep never replaces key material/);
    // Without --generate-in-token the existing key is certified as it is.
    const reuse = init('d', ['--note-key', token.uri('note')]);
    assert.equal(reuse.status, 0, reuse.stderr);
    assert.equal(
      readFileSync(join(base, 'd', 'note.pub'), 'utf8'),
      readFileSync(join(base, 'b', 'note.pub'), 'utf8'),
    );

    const pass = runCli([
      'ceremony',
      'init',
      '--name',
      NAME,
      '--keys',
      join(base, 'e'),
      '--root-key',
      token.uri('root'),
      '--generate-in-token',
      '--insecure-plaintext-root',
    ]);
    assert.equal(pass.status, 2);
    assert.match(pass.stderr, /--root-key keeps the root key in its HSM/);
    const bad = init('f', [
      '--response-key',
      'pkcs11:token=refusals;object=x?module-path=/lib/x.so&pin-value=1234',
    ]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--response-key: invalid PKCS#11 URI: pin-value is refused/);
    assert.ok(!bad.stderr.includes('1234'));
  });
});
