/**
 * Keys that never touch a disk, against Debian's SoftHSM2 and the real go command: the ceremony
 * generates the note key (Ed25519) and an RSA-PSS response key inside a fresh token, the key
 * directory holds only certificates, trust.json and URIs, serve signs tree heads and API answers
 * in the token, a removed token turns /readyz red and holds new records until it returns, and a
 * wrong PIN stops serve at start with a clear message.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants, createHash, createPublicKey, verify } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Pkcs11js from 'pkcs11js';
import { buildGoProxy, type ProxyModule } from '../helpers/goproxy.ts';
import { goEnv, requireGo, runGo } from '../helpers/go.ts';
import { runCli, startServer, tempDir, type RunningServer } from '../helpers/server.ts';
import { SOFTHSM_LIB, USER_PIN, makeToken, requireSoftHsm, type TestToken } from '../helpers/softhsm.ts';

const NAME = 'sum.hsm.test';
const goMod = (p: string) => `module ${p}\n\ngo 1.17\n`;
const mod = (path: string): ProxyModule => ({
  path,
  version: 'v1.0.0',
  files: { 'go.mod': goMod(path), 'x.go': `package x\n\nfunc X() int { return 1 }\n` },
});
const MODULES = ['example.com/hsm/a', 'example.com/hsm/b', 'example.com/hsm/c', 'example.com/hsm/d'].map(mod);

/** The verifier key of a raw Ed25519 public key, written out here from the sumdb note rules. */
function verifierKeyOf(name: string, pub: Buffer): string {
  const key = Buffer.concat([Buffer.from([0x01]), pub]);
  const hash = createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${name}\n`), key]))
    .digest();
  return `${name}+${hash.subarray(0, 4).toString('hex')}+${key.toString('base64')}`;
}

/** pkcs11js straight, without sumkeep's code: what an auditor would run against the token. */
function withToken<T>(token: TestToken, f: (p: Pkcs11js.PKCS11, s: Buffer, m: typeof Pkcs11js) => T): T {
  const m = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11js;
  const p = new m.PKCS11();
  p.load(SOFTHSM_LIB);
  p.C_Initialize();
  try {
    const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === token.label)!;
    const s = p.C_OpenSession(slot, m.CKF_SERIAL_SESSION);
    p.C_Login(s, m.CKU_USER, USER_PIN);
    return f(p, s, m);
  } finally {
    p.C_Finalize();
  }
}

function findObjects(p: Pkcs11js.PKCS11, s: Buffer, cls: number, label: string): Buffer[] {
  p.C_FindObjectsInit(s, [
    { type: 0 /* CKA_CLASS */, value: cls },
    { type: 3 /* CKA_LABEL */, value: label },
  ]);
  const found = p.C_FindObjects(s, 10);
  p.C_FindObjectsFinal(s);
  return found;
}

async function waitFor(what: string, f: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('keys in a PKCS#11 token (SoftHSM2) with the real go command', { timeout: 600_000 }, () => {
  const root = tempDir('e2e-hsm');
  const keys = join(root, 'keys');
  const offline = join(root, 'offline');
  const proxy = buildGoProxy(join(root, 'proxy'), MODULES);
  let token: TestToken | undefined;
  let init: ReturnType<typeof runCli> | undefined;
  let server: RunningServer | undefined;
  let vkey = '';

  after(async () => {
    await server?.stop();
  });

  const clientEnv = (dir: string) =>
    goEnv(join(root, dir), { GOPROXY: proxy.url, GOSUMDB: server!.gosumdb, extra: { GOFLAGS: '-mod=mod' } });

  it('ceremony init generates the note and response keys in the token; the key directory holds no private key', (t) => {
    if (!requireSoftHsm(t)) return;
    token = makeToken('sumkeep-online');
    const pass = join(root, 'pass');
    writeFileSync(pass, 'passphrase of the test root key\n', { mode: 0o600 });
    init = runCli([
      'ceremony',
      'init',
      '--name',
      NAME,
      '--keys',
      keys,
      '--root',
      offline,
      '--passphrase-file',
      pass,
      '--note-key',
      token.uri('note'),
      '--response-key',
      token.uri('response'),
      '--response-alg',
      'rsa-pss-2048',
      '--generate-in-token',
    ]);
    assert.equal(init.status, 0, init.stderr);
    vkey = /^verifier key: (\S+)$/m.exec(init.stdout)![1]!;

    const files = readdirSync(keys).sort();
    assert.ok(
      files.includes('note.pkcs11') && files.includes('note.pub') && files.includes('note.crt'),
      files.join(),
    );
    assert.ok(
      files.some((f) => /^response-[0-9a-f]{16}\.pkcs11$/.test(f)),
      files.join(),
    );
    assert.deepEqual(
      files.filter((f) => f.endsWith('.key')),
      [],
      'no key file in the key directory',
    );
    for (const f of files)
      assert.doesNotMatch(readFileSync(join(keys, f), 'utf8'), /PRIVATE KEY|PRIVATE\+KEY/, f);
    assert.match(
      readFileSync(join(keys, 'note.pkcs11'), 'utf8'),
      /^pkcs11:token=sumkeep-online;object=note;id=%[0-9A-F]{2}/,
    );
    assert.ok(!readFileSync(join(keys, 'note.pkcs11'), 'utf8').includes(USER_PIN));
    const record = readFileSync(/^ceremony record: (\S+)$/m.exec(init.stdout)![1]!, 'utf8');
    assert.match(record, /CKA_EXTRACTABLE: +false/);
    assert.match(record, /generated in token: +yes/);
  });

  it('the verifier key is derived from the public key in the token', (t) => {
    if (!requireSoftHsm(t)) return;
    assert.ok(token && vkey !== '', 'the ceremony ran (first test)');
    const pub = withToken(token!, (p, s, m) => {
      const [h] = findObjects(p, s, m.CKO_PUBLIC_KEY, 'note');
      const point = p.C_GetAttributeValue(s, h!, [{ type: m.CKA_EC_POINT }])[0]!.value;
      return point.subarray(point.length - 32);
    });
    assert.equal(vkey, verifierKeyOf(NAME, pub));
    assert.equal(JSON.parse(readFileSync(join(keys, 'trust.json'), 'utf8')).verifierKey, vkey);
  });

  it('the private objects are sensitive and non-extractable: the token refuses their value', (t) => {
    if (!requireSoftHsm(t)) return;
    assert.ok(token && vkey !== '', 'the ceremony ran (first test)');
    withToken(token!, (p, s, m) => {
      for (const [label, secret] of [
        ['note', m.CKA_VALUE],
        ['response', m.CKA_PRIVATE_EXPONENT],
      ] as const) {
        const objs = findObjects(p, s, m.CKO_PRIVATE_KEY, label);
        assert.equal(objs.length, 1, label);
        const [sensitive, extractable, never] = p
          .C_GetAttributeValue(s, objs[0]!, [
            { type: m.CKA_SENSITIVE },
            { type: m.CKA_EXTRACTABLE },
            { type: m.CKA_NEVER_EXTRACTABLE },
          ])
          .map((a) => a.value[0]);
        assert.deepEqual([sensitive, extractable, never], [1, 0, 1], label);
        assert.throws(
          () => p.C_GetAttributeValue(s, objs[0]!, [{ type: secret }]),
          /CKR_ATTRIBUTE_SENSITIVE/,
          label,
        );
      }
    });
    const tool = spawnSync(
      'pkcs11-tool',
      [
        '--module',
        SOFTHSM_LIB,
        '--token-label',
        token!.label,
        '--login',
        '--pin',
        USER_PIN,
        '--list-objects',
        '--type',
        'privkey',
      ],
      { env: { ...process.env, ...token!.env }, encoding: 'utf8' },
    );
    if (tool.error === undefined) {
      assert.equal(tool.status, 0, tool.stderr);
      assert.equal(
        (tool.stdout.match(/Access: +sensitive, always sensitive, never extractable/g) ?? []).length,
        2,
        tool.stdout,
      );
    } else if (process.env.CI === 'true') {
      assert.fail('pkcs11-tool (opensc) is required under CI');
    }
  });

  it('serve prints the token key in GOSUMDB and the real go command verifies heads signed in the token', async (t) => {
    if (!requireSoftHsm(t)) return;
    const go = requireGo(t);
    if (go === null) return;
    server = await startServer({
      keys,
      db: join(root, 'db.sqlite'),
      upstream: proxy.url,
      extra: ['--log-level', 'info'],
    });
    assert.equal(server.vkey, vkey);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    const work = join(root, 'dl');
    mkdirSync(work, { recursive: true });
    for (const m of MODULES.slice(0, 2)) {
      const r = runGo(go, ['mod', 'download', '-json', `${m.path}@${m.version}`], {
        cwd: work,
        env: clientEnv('client'),
      });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    }
    const latest = await (await fetch(`${server.url}/latest`)).text();
    assert.match(latest, /^go\.sum database tree\n\d+\n/);
    assert.equal(latest.split('\n').filter((l) => l.startsWith(`\u2014 ${NAME} `)).length, 1);
    assert.ok(!server.stderr().includes(USER_PIN), 'the PIN is never logged');
  });

  it('signed go.sum answers from the RSA-PSS key in the token verify with the JWKS', async (t) => {
    if (!requireSoftHsm(t)) return;
    assert.ok(server, 'serve is running (previous test)');
    const res = await fetch(`${server.url}/api/v1/gosum/${MODULES[0]!.path}@v1.0.0`);
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    assert.match(body.toString(), /^example\.com\/hsm\/a v1\.0\.0 h1:/);
    assert.equal(res.headers.get('x-go-sum-alg'), 'PS256');
    const kid = res.headers.get('x-go-sum-signer')!;
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as {
      keys: Record<string, string>[];
    };
    const jwk = jwks.keys.find((k) => k.kid === kid)!;
    assert.equal(jwk.kty, 'RSA');
    const pub = createPublicKey({ key: { kty: 'RSA', n: jwk.n!, e: jwk.e! }, format: 'jwk' });
    const sig = Buffer.from(res.headers.get('x-go-sum-signature')!, 'base64');
    const check = (data: Buffer) =>
      verify('sha256', data, { key: pub, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
    assert.ok(check(body));
    assert.ok(!check(Buffer.concat([body, Buffer.from(' ')])));
    const files = readdirSync(keys);
    assert.ok(files.includes(`response-${kid.replace(/^resp-/, '')}.pkcs11`), 'signed by the token key');
  });

  it('a removed token turns /readyz red and holds new records (503), and recovers when it returns', async (t) => {
    if (!requireSoftHsm(t)) return;
    assert.ok(server, 'serve is running (previous test)');
    const go = requireGo(t);
    if (go === null) return;
    const url = server.url;
    const sizeBefore = Number((await (await fetch(`${url}/latest`)).text()).split('\n')[1]);
    token!.remove();
    try {
      await waitFor('/readyz to turn red', async () => (await fetch(`${url}/readyz`)).status === 503);
      const held = await fetch(`${url}/lookup/${MODULES[2]!.path}@v1.0.0`);
      assert.equal(held.status, 503);
      const reason = await held.text();
      assert.match(
        reason,
        /^the log cannot sign a new tree head now \(token "sumkeep-online" key "note".*\); nothing was logged, try again later\n$/,
      );
      assert.ok(!reason.includes(SOFTHSM_LIB) && !reason.includes(token!.pinFile), 'no paths in the answer');
      const signed = await fetch(`${url}/api/v1/gosum/${MODULES[0]!.path}@v1.0.0`);
      assert.equal(signed.status, 503, 'no unsigned answer from a signed route');
      assert.match(
        await signed.text(),
        /^the response-signing key cannot sign now \(token "sumkeep-online" key "response".*\n$/,
      );
      assert.equal(signed.headers.get('x-go-sum-signature'), null);
      // What is logged stays readable, signed as it was.
      assert.equal((await fetch(`${url}/lookup/${MODULES[0]!.path}@v1.0.0`)).status, 200);
      const latest = await (await fetch(`${url}/latest`)).text();
      assert.equal(Number(latest.split('\n')[1]), sizeBefore, 'no head was signed without the token');
    } finally {
      token!.restore();
    }
    await waitFor('/readyz to turn green again', async () => (await fetch(`${url}/readyz`)).status === 200);
    const r = runGo(go, ['mod', 'download', '-json', `${MODULES[2]!.path}@v1.0.0`], {
      cwd: join(root, 'dl'),
      env: clientEnv('client'),
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const size = Number((await (await fetch(`${url}/latest`)).text()).split('\n')[1]);
    assert.ok(size > sizeBefore, 'the log grows again, signed in the token');
  });

  it('a wrong PIN stops serve at start with a clear message, without the PIN', async (t) => {
    if (!requireSoftHsm(t)) return;
    assert.ok(token, 'the token exists (first test)');
    await server?.stop();
    server = undefined;
    writeFileSync(token.pinFile, '000000\n', { mode: 0o600 });
    try {
      const r = runCli([
        'serve',
        '--keys',
        keys,
        '--db',
        join(root, 'db.sqlite'),
        '--upstream',
        'off',
        '--listen',
        '127.0.0.1:0',
      ]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(
        r.stderr,
        /token "sumkeep-online" key "note": the token refused the PIN from the PIN file .* \(CKR_PIN_INCORRECT\)/,
      );
      assert.ok(!r.stderr.includes('000000') && !r.stderr.includes(USER_PIN));
      assert.equal(r.stdout, '', 'no GOSUMDB line');
    } finally {
      writeFileSync(token.pinFile, USER_PIN + '\n', { mode: 0o600 });
    }
  });
});
