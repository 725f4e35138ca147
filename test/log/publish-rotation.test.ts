/**
 * Published lookups across a note-key rotation (real ceremony: `ceremony init`, then `ceremony
 * rotate --purpose note`): a lookup file written before the rotation carries a note signed by the
 * old key only, which a go client holding only the new key rejects. At the next start the
 * publisher (serve --publish through Sequencer.open, and `sumkeep publish`) rewrites every such
 * file with the latest head's note, signed by every current key; a marker names the keys, so the
 * following starts read nothing, and a start after a crash half way redoes only what is missing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../../src/core/bytes.ts';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { newVerifier, open as openNote, verifierSet } from '../../src/core/note.ts';
import { parseRecord, parseTree } from '../../src/core/tlog/index.ts';
import { loadServingKeys } from '../../src/keys/serving.ts';
import { Publisher } from '../../src/log/publish.ts';
import { LOOKUP_KEYS_FILE, parseLookupKeys } from '../../src/log/lookup-keys.ts';
import { Sequencer } from '../../src/log/sequencer.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';
import { makeKeys, passphraseFile, runCli, tempDir } from '../helpers/server.ts';

const NAME = 'sum.rotate.publish';
const H = (s: string) => 'h1:' + Buffer.alloc(32, s).toString('base64');

/** Every lookup file under `out`, relative path -> bytes. */
function lookupFiles(out: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (rel: string) => {
    for (const d of readdirSync(join(out, rel), { withFileTypes: true })) {
      const r = join(rel, d.name);
      if (d.isDirectory()) walk(r);
      else files.set(r, readFileSync(join(out, r)));
    }
  };
  walk('lookup');
  return files;
}

/** The tree size of the lookup file's note when `vkey` alone verifies it; throws otherwise. */
function verifiedSize(file: Uint8Array, vkey: string): number {
  const { rest } = parseRecord(file);
  const note = openNote(rest, verifierSet([newVerifier(vkey)]));
  return parseTree(utf8(note.text)).N;
}

async function grow(store: Store, seq: Sequencer, from: number, to: number): Promise<void> {
  await Promise.all(
    Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      const path = `example.com/Rot${i}`;
      return seq.add({
        path,
        version: 'v1.0.0',
        text: utf8(formatRecordLines(path, 'v1.0.0', H(String(i % 5)), H('m'))),
        source: 't',
      });
    }),
  );
  await seq.flush();
  assert.equal((await store.latestHead())?.size, to);
}

describe('published lookups across a note-key rotation', { timeout: 300_000 }, () => {
  const dir = tempDir('publish-rotation');
  const keys = join(dir, 'keys');
  const db = join(dir, 'log.db');
  const out = join(dir, 'pub');
  const cliOut = join(dir, 'pub-cli');
  let oldKey = '';
  let newKey = '';
  const open = async (log: string[]) => {
    const store = await openSqliteStore(db);
    const seq = await Sequencer.open(store, loadServingKeys(keys).noteSigners, {
      maxDelayMs: 1,
      maxBatch: 7,
      publisher: new Publisher(out, store, (l) => log.push(l)),
    });
    return { store, seq };
  };

  it('serve --publish rewrites the lookup files signed before the rotation at its next start', async () => {
    oldKey = makeKeys(keys, NAME);
    // Published with key A only: several heads (batches of 7), each file with its first head.
    let log: string[] = [];
    let { store, seq } = await open(log);
    await grow(store, seq, 0, 40);
    await seq.close();
    await store.close();
    const cli = runCli(['publish', '--db', db, '--out', cliOut]);
    assert.equal(cli.status, 0, cli.stderr);
    // Published from scratch by heads all signed with A: the marker says so (no file read back).
    assert.equal(parseLookupKeys(readFileSync(join(cliOut, LOOKUP_KEYS_FILE)))?.size, 1);
    assert.doesNotMatch(cli.stderr, /rewritten/);
    const before = lookupFiles(out);
    assert.equal(before.size, 40);
    // serve --publish from the empty log knows what it wrote: the marker names A, no file read.
    assert.equal(parseLookupKeys(readFileSync(join(out, LOOKUP_KEYS_FILE)))?.size, 1);
    const sizes = new Set([...before.values()].map((f) => verifiedSize(f, oldKey)));
    assert.ok(sizes.size > 3, 'the files carry the heads that first included them');

    const rot = runCli([
      'ceremony',
      'rotate',
      '--purpose',
      'note',
      '--keys',
      keys,
      '--root',
      `${keys}.root`,
      '--passphrase-file',
      passphraseFile(keys),
    ]);
    assert.equal(rot.status, 0, rot.stdout + rot.stderr);
    newKey = /^new verifier key: (\S+)$/m.exec(rot.stdout)![1]!;
    assert.notEqual(newKey, oldKey);
    // What a client holding only the new key gets from these files today: no verifiable signature.
    for (const f of before.values()) assert.throws(() => verifiedSize(f, newKey), /verifiable signatures/);

    // The restart: the latest head is signed again by A and B, and every lookup file rewritten
    // with it before anything is served.
    ({ store, seq } = await open(log));
    let after = lookupFiles(out);
    assert.equal(after.size, 40);
    for (const [rel, f] of after) {
      assert.equal(verifiedSize(f, newKey), 40, rel);
      assert.equal(verifiedSize(f, oldKey), 40, rel);
      // The same id and record text as before.
      const a = parseRecord(f);
      const b = parseRecord(before.get(rel)!);
      assert.deepEqual([a.id, Buffer.from(a.text)], [b.id, Buffer.from(b.text)], rel);
    }
    const marker = parseLookupKeys(readFileSync(join(out, LOOKUP_KEYS_FILE)));
    assert.equal(marker?.size, 2);
    assert.ok(
      log.some((l) => /40 rewritten/.test(l)),
      log.join('\n'),
    );
    // The rewritten file is the one served: /latest's note (the co-signed head) is in it.
    assert.ok(
      after
        .values()
        .next()
        .value!.includes(readFileSync(join(out, 'latest'))),
    );

    // Records logged after the rotation: published with both signatures.
    await grow(store, seq, 40, 45);
    after = lookupFiles(out);
    assert.equal(after.size, 45);
    for (const [rel, f] of after) {
      assert.ok(verifiedSize(f, newKey) >= 40, rel);
      verifiedSize(f, oldKey);
    }
    await seq.close();
    await store.close();

    // The next start reads no lookup file: the marker names both keys.
    const inode = (rel: string) => statSync(join(out, rel)).ino;
    const inodes = new Map([...after.keys()].map((r) => [r, inode(r)]));
    log = [];
    ({ store, seq } = await open(log));
    await seq.close();
    await store.close();
    for (const [r, ino] of inodes) assert.equal(inode(r), ino, r);
    assert.deepEqual(log, []);

    // A start that died half way: no marker yet, one file still as it was before the rotation.
    // The next start rewrites that one and leaves the rewritten ones alone.
    const [stale, staleBytes] = [...before][3]!;
    writeFileSync(join(out, stale), staleBytes);
    rmSync(join(out, LOOKUP_KEYS_FILE));
    const staleIno = inode(stale);
    ({ store, seq } = await open(log));
    await seq.close();
    await store.close();
    assert.equal(verifiedSize(readFileSync(join(out, stale)), newKey), 45);
    assert.notEqual(inode(stale), staleIno);
    for (const [r, ino] of inodes) if (r !== stale) assert.equal(inode(r), ino, r);
    assert.ok(existsSync(join(out, LOOKUP_KEYS_FILE)));
    assert.ok(
      log.some((l) => /1 rewritten/.test(l)),
      log.join('\n'),
    );
  });

  it('sumkeep publish rewrites a directory published before the rotation, and writes a new one verifiable with the new key', () => {
    assert.notEqual(newKey, '', 'needs the rotation above');
    const fresh = join(dir, 'pub-fresh');
    for (const target of [cliOut, fresh]) {
      const r = runCli(['publish', '--db', db, '--out', target]);
      assert.equal(r.status, 0, r.stderr);
      const files = lookupFiles(target);
      assert.equal(files.size, 45, target);
      for (const [rel, f] of files) {
        verifiedSize(f, newKey);
        verifiedSize(f, oldKey);
        assert.ok(rel.startsWith('lookup/example.com/!rot'), rel);
      }
      assert.match(r.stderr, /rewritten/, target);
    }
  });
});
