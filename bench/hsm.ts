/**
 * `npm run bench -- hsm [--sigs N] [--records N]`: signing through PKCS#11 (Debian's SoftHSM2) against
 * node:crypto, and sequencing with the note key in the token.
 *
 *  1. Signatures/s, one after another on one thread (how serve signs: tree heads and API answers
 *     are signed synchronously): Ed25519 and RSA-PSS-2048 with
 *       - node:crypto (a key in memory: what a PEM key file gives),
 *       - sumkeep's TokenSigner (src/keys/pkcs11/signer.ts over pkcs11js: C_SignInit + C_Sign),
 *       - graphene-pk11's Sign.once over the same token key, when graphene-pk11 is installed
 *         (`npm install --no-save graphene-pk11`; it is not a dependency, it is measured only to
 *         choose the binding).
 *     Every 100th signature is verified with node:crypto, so a broken mechanism cannot look fast.
 *  2. --records (default 100,000) records sequenced by the real Sequencer into a new SQLite file,
 *     batches of 1,000, with the note key in the token and, for comparison, in memory.
 *
 * A fresh token in a temporary SOFTHSM2_CONF is made for the run (softhsm2-util) and left behind
 * in the OS temp directory.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8 } from '../src/core/bytes.ts';
import { newSigner, generateKey, type Signer } from '../src/core/note.ts';
import { verifyBytes } from '../src/keys/algorithms.ts';
import { generateInToken } from '../src/keys/pkcs11/keygen.ts';
import { Pkcs11Library } from '../src/keys/pkcs11/library.ts';
import { TokenSigner } from '../src/keys/pkcs11/signer.ts';
import { memorySigner, type KeySigner } from '../src/keys/signer.ts';
import { Sequencer } from '../src/log/sequencer.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { recordAt } from './server/records.ts';

const LIB = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '123456';

function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i < 0 ? dflt : Number(args[i + 1]);
}

function rate(n: number, ms: number): string {
  return Math.round((n * 1000) / ms).toLocaleString('en-US');
}

/** Signs `n` times (after 50 warm-up signatures); returns ms. Checks every 100th signature. */
function timeSigns(sign: (d: Uint8Array) => Uint8Array, pub: KeyObject, n: number): number {
  const msg = utf8('go.sum database tree\n123456\nq0uqVpDXJ3fDE1xkCzOmqLsTGdsZ7Wv3TQZ8lP0ndNk=\n');
  for (let i = 0; i < 50; i++) sign(msg);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const sig = sign(msg);
    if (i % 100 === 0 && !verifyBytes(pub, msg, sig)) throw new Error('a signature does not verify');
  }
  return performance.now() - t0;
}

interface Graphene {
  Module: { load(lib: string, name: string): GrapheneModule };
  ObjectClass: { PRIVATE_KEY: number };
}
interface GrapheneModule {
  initialize(): void;
  finalize(): void;
  getSlots(present: boolean): {
    length: number;
    items(i: number): { getToken(): { label: string }; open(flags: number): GrapheneSession };
  };
}
interface GrapheneSession {
  login(pin: string): void;
  find(t: object): { items(i: number): { toType(): unknown } };
  createSign(alg: unknown, key: unknown): { once(d: Buffer): Buffer };
  close(): void;
}

async function loadGraphene(): Promise<Graphene | null> {
  try {
    return createRequire(import.meta.url)('graphene-pk11') as Graphene;
  } catch {
    return null;
  }
}

async function sequence(signer: Signer, records: number, dir: string, label: string): Promise<number> {
  const store = await openSqliteStore(join(dir, `${label}.db`));
  const seq = await Sequencer.open(store, [signer], { maxDelayMs: 10, maxBatch: 1000 });
  const recs = [];
  for (let i = 0; i < records; i++) {
    const r = recordAt(i);
    recs.push({ path: r.path, version: r.version, text: utf8(r.text), source: 'bench' });
  }
  const t0 = performance.now();
  const logged = await Promise.all(recs.map((r) => seq.add(r)));
  const ms = performance.now() - t0;
  if (logged.at(-1)?.id !== records - 1 || seq.latest()?.size !== records)
    throw new Error('not all records logged');
  await seq.close();
  await store.close();
  return ms;
}

export async function main(args: string[]): Promise<void> {
  const sigs = flag(args, '--sigs', 5000);
  const records = flag(args, '--records', 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'sumkeep-bench-hsm-'));
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens);
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  const init = spawnSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', 'bench', '--pin', PIN, '--so-pin', '87654321'],
    {
      encoding: 'utf8',
    },
  );
  if (init.status !== 0) throw new Error(`softhsm2-util failed (apt-get install softhsm2): ${init.stderr}`);
  const pinFile = join(dir, 'pin');
  writeFileSync(pinFile, PIN + '\n', { mode: 0o600 });
  const uri = (o: string) => `pkcs11:token=bench;object=${o}?module-path=${LIB}&pin-source=file:${pinFile}`;
  const edToken = new TokenSigner(generateInToken(uri('ed'), 'ed25519'));
  const rsaToken = new TokenSigner(generateInToken(uri('rsa'), 'rsa-pss-2048'));
  const ed = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const mem = (k: KeyObject): KeySigner =>
    memorySigner(createPrivateKey(k.export({ type: 'pkcs8', format: 'pem' })), 'memory');

  const rows: [string, string, string][] = [];
  const load0 = loadavg()[0]!;
  const rsaN = Math.max(100, Math.floor(sigs / 5));
  const edMem = mem(ed.privateKey);
  const rsaMem = mem(rsa.privateKey);
  rows.push([
    'node:crypto',
    'Ed25519',
    rate(
      sigs,
      timeSigns((d) => edMem.sign(d), ed.publicKey, sigs),
    ),
  ]);
  rows.push([
    'SoftHSM2 via pkcs11js (TokenSigner)',
    'Ed25519 (CKM_EDDSA)',
    rate(
      sigs,
      timeSigns((d) => edToken.sign(d), edToken.publicKey, sigs),
    ),
  ]);
  rows.push([
    'node:crypto',
    'RSA-PSS-2048',
    rate(
      rsaN,
      timeSigns((d) => rsaMem.sign(d), rsa.publicKey, rsaN),
    ),
  ]);
  rows.push([
    'SoftHSM2 via pkcs11js (TokenSigner)',
    'RSA-PSS-2048 (CKM_SHA256_RSA_PKCS_PSS)',
    rate(
      rsaN,
      timeSigns((d) => rsaToken.sign(d), rsaToken.publicKey, rsaN),
    ),
  ]);

  const graphene = await loadGraphene();
  if (graphene === null) {
    rows.push(['graphene-pk11', 'Ed25519', 'not installed (npm install --no-save graphene-pk11)']);
  } else {
    // graphene keeps its own module instance: finalize ours first (one C_Initialize per process).
    Pkcs11Library.closeAll();
    const m = graphene.Module.load(LIB, 'SoftHSM');
    m.initialize();
    const slots = m.getSlots(true);
    let session: GrapheneSession | undefined;
    for (let i = 0; i < slots.length; i++) {
      if (slots.items(i).getToken().label.trim() === 'bench') session = slots.items(i).open(4 | 2);
    }
    if (session === undefined) throw new Error('graphene: token not found');
    session.login(PIN);
    const key = session.find({ class: graphene.ObjectClass.PRIVATE_KEY, label: 'ed' }).items(0).toType();
    const s = session;
    rows.push([
      'graphene-pk11 (Sign.once)',
      'Ed25519 (CKM_EDDSA)',
      rate(
        sigs,
        timeSigns(
          (d) => new Uint8Array(s.createSign(0x1057, key).once(Buffer.from(d))),
          edToken.publicKey,
          sigs,
        ),
      ),
    ]);
    session.close();
    m.finalize();
  }

  // Sequencing: the note key in the token (reopened after graphene's finalize) and in memory.
  const noteToken = new TokenSigner(generateInToken(uri('note'), 'ed25519'));
  const { skey } = generateKey('bench.hsm');
  const fileSigner = newSigner(skey);
  const tokenNote: Signer = {
    name: fileSigner.name,
    keyHash: fileSigner.keyHash,
    sign: (m) => noteToken.sign(m),
  };
  const seqToken = await sequence(tokenNote, records, dir, 'token');
  const seqFile = await sequence(fileSigner, records, dir, 'file');
  const load1 = loadavg()[0]!;

  console.log(
    '\nsignatures/s, one thread, one signature at a time (every 100th verified with node:crypto)\n',
  );
  console.log('| signer | algorithm | signatures/s |\n| --- | --- | --- |');
  for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
  console.log(
    `\n${records.toLocaleString('en-US')} records sequenced (Sequencer, SQLite file, batches of 1,000)\n`,
  );
  console.log('| note key | seconds | records/s |\n| --- | --- | --- |');
  console.log(`| in SoftHSM2 (TokenSigner) | ${(seqToken / 1000).toFixed(2)} | ${rate(records, seqToken)} |`);
  console.log(`| in memory (note.key) | ${(seqFile / 1000).toFixed(2)} | ${rate(records, seqFile)} |`);
  console.log(
    `\nEd25519 signatures: ${sigs}; RSA-PSS: ${rsaN}; load average (1 min) before ${load0.toFixed(2)}, after ${load1.toFixed(2)}; files in ${dir}`,
  );
  Pkcs11Library.closeAll();
}
