// Replays every case of the `tlog` section of test/vectors/go-reference.json (computed by Go's
// x/mod sumdb/tlog). Each test counts what it replayed against the length in the file, and one
// test fails when the file grows a section no test replays.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromBase64, toBase64, utf8 } from '../../../src/core/bytes.ts';
import { isSumkeepError } from '../../../src/core/errors.ts';
import {
  checkRecord,
  checkRecordText,
  checkTree,
  formatRecord,
  formatTree,
  newTiles,
  nodeHash,
  parseRecord,
  parseTilePath,
  parseTree,
  proveRecord,
  proveTree,
  readTileData,
  recordHash,
  splitStoredHashIndex,
  storedHashCount,
  storedHashIndex,
  storedHashes,
  tilePath,
  treeHash,
  type Hash,
  type Tile,
} from '../../../src/core/tlog/index.ts';
import { MemLog, vectorRecord } from './memlog.ts';

const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/go-reference.json', import.meta.url), 'utf8'),
) as { tlog: Record<string, unknown> };
const tlog = vectors.tlog;

function cases<T>(name: string): T[] {
  const v = tlog[name];
  assert.ok(Array.isArray(v), `tlog.${name} is an array`);
  return v as T[];
}

function b64(s: string): Uint8Array {
  const b = fromBase64(s);
  assert.ok(b !== null, `valid base64 ${s}`);
  return b;
}

const hashB64 = (h: Hash) => toBase64(h);

const handled = new Set<string>(['records_note']);

// One log big enough for every tree size in the file (the largest is 65537).
let shared: MemLog | undefined;
function logOf(n: number): MemLog {
  shared ??= new MemLog();
  return shared.growTo(n);
}

describe('Go reference vectors: tlog', () => {
  it('node_hash: nodeHash(left, right)', () => {
    handled.add('node_hash');
    const cs = cases<{ left: string; right: string; hash: string }>('node_hash');
    let n = 0;
    for (const c of cs) {
      assert.equal(hashB64(nodeHash(b64(c.left), b64(c.right))), c.hash);
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('record_hash: recordHash(data)', () => {
    handled.add('record_hash');
    const cs = cases<{ data_b64: string; hash: string }>('record_hash');
    let n = 0;
    for (const c of cs) {
      assert.equal(hashB64(recordHash(b64(c.data_b64))), c.hash);
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('stored_hash_index: storedHashIndex and its inverse', () => {
    handled.add('stored_hash_index');
    const cs = cases<{ level: number; n: number; index: number; split: [number, number] }>(
      'stored_hash_index',
    );
    let n = 0;
    for (const c of cs) {
      assert.equal(storedHashIndex(c.level, c.n), c.index, `storedHashIndex(${c.level}, ${c.n})`);
      assert.deepEqual(splitStoredHashIndex(c.index), c.split, `splitStoredHashIndex(${c.index})`);
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('stored_hash_count: storedHashCount(n), up to n = 2^40', () => {
    handled.add('stored_hash_count');
    const cs = cases<{ n: number; count: number }>('stored_hash_count');
    let n = 0;
    for (const c of cs) {
      assert.equal(storedHashCount(c.n), c.count, `storedHashCount(${c.n})`);
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('stored_hashes_for_record: storedHashes(n, data) over records 0..n-1', () => {
    handled.add('stored_hashes_for_record');
    const cs = cases<{ n: number; data_b64: string; hashes: string[] }>('stored_hashes_for_record');
    let n = 0;
    for (const c of cs) {
      const log = new MemLog().growTo(c.n);
      assert.deepEqual(storedHashes(c.n, b64(c.data_b64), log.reader).map(hashB64), c.hashes, `n=${c.n}`);
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('tree_hash: treeHash(n), including the empty tree', () => {
    handled.add('tree_hash');
    const cs = cases<{ n: number; hash: string }>('tree_hash');
    let n = 0;
    for (const c of cs) {
      assert.equal(hashB64(treeHash(c.n, logOf(c.n).reader)), c.hash, `treeHash(${c.n})`);
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('prove_record: proveRecord gives Go’s proof and checkRecord accepts it', () => {
    handled.add('prove_record');
    const cs = cases<{
      tree_size: number;
      n: number;
      proof: string[];
      record_hash: string;
      tree_hash: string;
    }>('prove_record');
    let n = 0;
    for (const c of cs) {
      const log = logOf(c.tree_size);
      const proof = proveRecord(c.tree_size, c.n, log.reader);
      assert.deepEqual(proof.map(hashB64), c.proof, `proveRecord(${c.tree_size}, ${c.n})`);
      assert.equal(hashB64(treeHash(c.tree_size, log.reader)), c.tree_hash);
      assert.equal(hashB64(recordHash(vectorRecord(c.n))), c.record_hash);
      assert.equal(
        checkRecord(c.proof.map(b64), c.tree_size, b64(c.tree_hash), c.n, b64(c.record_hash)),
        true,
      );
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('prove_tree: proveTree gives Go’s proof and checkTree accepts it', () => {
    handled.add('prove_tree');
    const cs = cases<{ t: number; n: number; proof: string[]; t_hash: string; n_hash: string }>('prove_tree');
    let n = 0;
    for (const c of cs) {
      const log = logOf(c.t);
      assert.deepEqual(proveTree(c.t, c.n, log.reader).map(hashB64), c.proof, `proveTree(${c.t}, ${c.n})`);
      assert.equal(hashB64(treeHash(c.t, log.reader)), c.t_hash);
      assert.equal(hashB64(treeHash(c.n, log.reader)), c.n_hash);
      assert.equal(checkTree(c.proof.map(b64), c.t, b64(c.t_hash), c.n, b64(c.n_hash)), true);
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('tile_data: readTileData over a tree of the given size', () => {
    handled.add('tile_data');
    const cs = cases<{ tile: Tile; path: string; tree_size: number; data_b64: string }>('tile_data');
    let n = 0;
    for (const c of cs) {
      assert.equal(tilePath(c.tile), c.path);
      assert.equal(toBase64(readTileData(c.tile, logOf(c.tree_size).reader)), c.data_b64, c.path);
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('tile_path: tilePath(tile)', () => {
    handled.add('tile_path');
    const cs = cases<{ tile: Tile; path: string }>('tile_path');
    let n = 0;
    for (const c of cs) {
      assert.equal(tilePath(c.tile), c.path);
      assert.deepEqual(parseTilePath(c.path), c.tile);
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('parse_tile_path: parseTilePath accepts and refuses what Go does, with Go’s message', () => {
    handled.add('parse_tile_path');
    const cs = cases<{ path: string; ok: boolean; tile?: Tile; canonical_path?: string; error?: string }>(
      'parse_tile_path',
    );
    let n = 0;
    for (const c of cs) {
      if (c.ok) {
        const t = parseTilePath(c.path);
        assert.deepEqual(t, c.tile, c.path);
        assert.equal(tilePath(t), c.canonical_path);
      } else {
        assert.throws(
          () => parseTilePath(c.path),
          (e: unknown) => isSumkeepError(e, 'malformed_tile') && e.message === c.error,
          c.path,
        );
      }
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('new_tiles: newTiles(h, old, new) lists Go’s tiles in Go’s order', () => {
    handled.add('new_tiles');
    const cs = cases<{ h: number; old: number; new: number; tiles: { path: string; tile: Tile }[] }>(
      'new_tiles',
    );
    let n = 0;
    for (const c of cs) {
      const got = newTiles(c.h, c.old, c.new);
      assert.deepEqual(
        got,
        c.tiles.map((x) => x.tile),
        `newTiles(${c.h}, ${c.old}, ${c.new})`,
      );
      assert.deepEqual(
        got.map(tilePath),
        c.tiles.map((x) => x.path),
      );
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('format_record: formatRecord(id, text) and parseRecord give the lookup framing', () => {
    handled.add('format_record');
    const c = tlog.format_record as { id: number; msg: string };
    const prefix = `${c.id}\n`;
    assert.ok(c.msg.startsWith(prefix) && c.msg.endsWith('\n\n'));
    const text = utf8(c.msg.slice(prefix.length, -1));
    assert.deepEqual(formatRecord(c.id, text), utf8(c.msg));
    const parsed = parseRecord(utf8(c.msg));
    assert.equal(parsed.id, c.id);
    assert.deepEqual(parsed.text, text);
    assert.equal(parsed.rest.length, 0);
  });

  it('format_record_validity: record text accepted or refused as Go does', () => {
    handled.add('format_record_validity');
    const cs = cases<{ text: string; ok: boolean; error: string }>('format_record_validity');
    let n = 0;
    for (const c of cs) {
      const text = utf8(c.text);
      if (c.ok) {
        checkRecordText(text);
        assert.deepEqual(formatRecord(7, text), utf8(`7\n${c.text}\n`));
      } else {
        const isGoError = (e: unknown) =>
          isSumkeepError(e, 'malformed_record') && e.message.startsWith(c.error);
        assert.throws(() => checkRecordText(text), isGoError, JSON.stringify(c.text));
        assert.throws(() => formatRecord(7, text), isGoError, JSON.stringify(c.text));
      }
      n++;
    }
    assert.equal(n, cs.length);
  });

  it('format_tree: formatTree and parseTree', () => {
    handled.add('format_tree');
    const c = tlog.format_tree as { n: number; hash: string; text: string };
    const log = logOf(c.n);
    assert.equal(hashB64(treeHash(c.n, log.reader)), c.hash);
    assert.deepEqual(formatTree({ N: c.n, hash: b64(c.hash) }), utf8(c.text));
    assert.deepEqual(parseTree(utf8(c.text)), { N: c.n, hash: b64(c.hash) });
  });

  it('replays every section of the tlog vectors (runs last)', () => {
    assert.deepEqual(
      Object.keys(tlog).filter((k) => !handled.has(k)),
      [],
    );
  });
});
