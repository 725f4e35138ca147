import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hash1 } from '../../src/core/dirhash.ts';
import { hashModuleZip } from '../../src/zip/index.ts';
import { ZipWriter, repeatedDeflate, writeZip, type ZipEntrySpec } from '../helpers/zipwriter.ts';

interface DirhashVector {
  desc: string;
  files: Array<{ name: string; content_b64: string }>;
  h1: string;
}
const vectors = JSON.parse(
  fs.readFileSync(new URL('../vectors/go-reference.json', import.meta.url), 'utf8'),
) as { dirhash: DirhashVector[] };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-zip-hash-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const zipPath = (): string => path.join(dir, `z${++seq}.zip`);

const M = 'example.com/m';
const V = 'v1.0.0';
const P = `${M}@${V}/`;
const MiB = 1 << 20;

const sha = (b: string | Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/** The expected h1 of entries (content as written; directories empty), by the core Hash1. */
function expectedH1(entries: ZipEntrySpec[]): string {
  return hash1(
    entries.map((e) => ({
      name: typeof e.name === 'string' ? e.name : Buffer.from(e.name).toString(),
      sha256: sha(e.content ?? ''),
    })),
  );
}

describe('hashModuleZip on valid module zips', () => {
  it("gives Go's h1 for the reference vector of a module zip layout", async () => {
    const v = vectors.dirhash.find(
      (x) => x.files.length > 0 && x.files.every((f) => f.name.startsWith('example.com/a@v1.0.0/')),
    );
    assert.ok(v, 'the vector file has a module-zip vector');
    const file = writeZip(
      zipPath(),
      v.files.map((f) => ({ name: f.name, content: Buffer.from(f.content_b64, 'base64') })),
    );
    const r = await hashModuleZip(file, { path: 'example.com/a', version: 'v1.0.0' });
    assert.equal(r.h1, v.h1);
    assert.equal(r.prefix, 'example.com/a@v1.0.0/');
  });

  it('hashes a zip without entries as Hash1 of nothing (the go command accepts it)', async () => {
    const file = writeZip(zipPath(), []);
    const r = await hashModuleZip(file, { path: M, version: V });
    assert.deepEqual(r, {
      h1: 'h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
      prefix: P,
      goMod: null,
      files: 0,
      bytes: 0,
    });
  });

  it('hashes a zip without entries and without a module, with an empty prefix', async () => {
    const r = await hashModuleZip(writeZip(zipPath(), []));
    assert.equal(r.prefix, '');
    assert.equal(r.h1, 'h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  it('returns the go.mod content, counts files and bytes, takes the prefix from the first entry', async () => {
    const entries: ZipEntrySpec[] = [
      { name: P + 'go.mod', content: `module ${M}\n\ngo 1.19\n` },
      { name: P + 'a.go', content: 'package a\n' },
      { name: P + 'sub/b.go', content: 'package sub\n', method: 0 },
    ];
    const r = await hashModuleZip(writeZip(zipPath(), entries));
    assert.equal(r.h1, expectedH1(entries));
    assert.equal(r.prefix, P);
    assert.equal(Buffer.from(r.goMod ?? []).toString(), `module ${M}\n\ngo 1.19\n`);
    assert.equal(r.files, 3);
    assert.equal(r.bytes, 21 + 9 + 10 + 12);
  });

  it('hashes directory entries as empty files under their names, as dirhash.HashZip does', async () => {
    const entries: ZipEntrySpec[] = [
      { name: P },
      { name: P + 'go.mod', content: `module ${M}\n` },
      { name: P + 'sub/' },
      { name: P + 'sub/x.go', content: 'package sub\n' },
      { name: P + 'sub/' }, // a directory listed twice is allowed
    ];
    const r = await hashModuleZip(writeZip(zipPath(), entries));
    assert.equal(r.h1, expectedH1(entries));
    assert.equal(r.files, 2);
  });

  it('accepts a directory entry whose compressed data is an empty deflate stream', async () => {
    const entries: ZipEntrySpec[] = [
      { name: P + 'go.mod', content: 'module x\n' },
      { name: P + 'd/', data: Buffer.from([0x03, 0x00]), method: 8, size: 0 },
    ];
    const r = await hashModuleZip(writeZip(zipPath(), entries));
    assert.equal(r.h1, expectedH1([entries[0]!, { name: P + 'd/' }]));
  });

  it('hashes unicode names by their UTF-8 bytes, and lets Straße and STRASSE coexist (simple folding)', async () => {
    const entries: ZipEntrySpec[] = [
      { name: P + 'go.mod', content: `module ${M}\n` },
      { name: P + 'ünï/cödé.go', content: 'package x\n' },
      { name: P + '日本語.txt', content: 'こんにちは' },
      { name: P + 'Straße.txt', content: 'a' },
      { name: P + 'STRASSE.txt', content: 'b' },
      { name: P + '\u{1D49C}.txt', content: 'c' }, // above U+FFFF: UTF-16 order differs from byte order
      { name: P + '\uFB00.txt', content: 'd' },
    ];
    const r = await hashModuleZip(writeZip(zipPath(), entries));
    assert.equal(r.h1, expectedH1(entries));
  });

  it('reads names as UTF-8 even without the zip UTF-8 flag, as Go does', async () => {
    const entries: ZipEntrySpec[] = [{ name: P + 'é.go', content: 'x', utf8Flag: false }];
    const r = await hashModuleZip(writeZip(zipPath(), entries));
    assert.equal(r.h1, expectedH1(entries));
  });

  it('hashes 2,000 files', async () => {
    const entries: ZipEntrySpec[] = [{ name: P + 'go.mod', content: `module ${M}\n` }];
    for (let i = 0; i < 2000; i++)
      entries.push({ name: `${P}d${i % 40}/f${i}.go`, content: `package d\n\n// file ${i}\n` });
    const r = await hashModuleZip(writeZip(zipPath(), entries), { path: M, version: V });
    assert.equal(r.files, 2001);
    assert.equal(r.h1, expectedH1(entries));
  });

  it('streams large entries (deflated and stored) and hashes them like small ones', async () => {
    const big = Buffer.alloc(3 * MiB + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 27;
    const entries: ZipEntrySpec[] = [
      { name: P + 'deflated.bin', content: big },
      { name: P + 'stored.bin', content: big, method: 0 },
      { name: P + 'small.bin', content: big.subarray(0, 1000) },
    ];
    const r = await hashModuleZip(writeZip(zipPath(), entries));
    assert.equal(r.h1, expectedH1(entries));
    assert.equal(r.bytes, 2 * big.length + 1000);
  });

  it('hashes a 400 MiB entry (0.4 MiB compressed) without holding it', async () => {
    const chunk = Buffer.alloc(MiB, 'ab');
    const z = repeatedDeflate(chunk, 400);
    const file = writeZip(zipPath(), [
      { name: P + 'big.txt', data: z.data, method: 8, size: z.size, crc: z.crc },
    ]);
    const h = createHash('sha256');
    for (let i = 0; i < 400; i++) h.update(chunk);
    const r = await hashModuleZip(file);
    assert.equal(r.h1, hash1([{ name: P + 'big.txt', sha256: new Uint8Array(h.digest()) }]));
    assert.equal(r.bytes, 400 * MiB);
  });

  it('accepts a declared CRC of 0 without a data descriptor, as Go does', async () => {
    const entries: ZipEntrySpec[] = [{ name: P + 'a.go', content: 'package a\n', crc: 0 }];
    const r = await hashModuleZip(writeZip(zipPath(), entries));
    assert.equal(r.h1, expectedH1(entries));
  });

  it('hashes the same zip written by the streaming writer', async () => {
    const file = zipPath();
    const w = new ZipWriter(file);
    w.add({ name: P + 'go.mod', content: 'module example.com/m\n' });
    await w.addStream({ name: P + 'data.bin' }, [Buffer.from('hello '), Buffer.from('world')]);
    w.close();
    const r = await hashModuleZip(file);
    assert.equal(
      r.h1,
      expectedH1([
        { name: P + 'go.mod', content: 'module example.com/m\n' },
        { name: P + 'data.bin', content: 'hello world' },
      ]),
    );
  });

  it('reports progress up to the zip size', async () => {
    const entries: ZipEntrySpec[] = [];
    for (let i = 0; i < 50; i++) entries.push({ name: `${P}f${i}.txt`, content: 'x'.repeat(1000 * i) });
    entries.push({ name: P + 'big.bin', content: Buffer.alloc(4 * MiB, 7) });
    const file = writeZip(zipPath(), entries);
    const size = fs.statSync(file).size;
    const seen: number[] = [];
    await hashModuleZip(file, {
      onProgress: (done, total) => {
        assert.equal(total, size);
        seen.push(done);
      },
    });
    assert.ok(seen.length > 2);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, 'progress never goes back');
    assert.equal(seen.at(-1), size);
  });

  it('checks an explicit module path and version before reading', async () => {
    const file = writeZip(zipPath(), [{ name: P + 'go.mod', content: 'module x\n' }]);
    await assert.rejects(hashModuleZip(file, { path: M, version: 'v1.0' }), { code: 'bad_version' });
    await assert.rejects(hashModuleZip(file, { path: 'not a path', version: V }), {
      code: 'bad_module_path',
    });
    await assert.rejects(hashModuleZip(file, { path: M }), { code: 'bad_input' });
  });

  it('takes an explicit +incompatible version', async () => {
    const p = 'example.com/inc@v2.0.0+incompatible/';
    const entries: ZipEntrySpec[] = [{ name: p + 'a.go', content: 'package a\n' }];
    const r = await hashModuleZip(writeZip(zipPath(), entries), {
      path: 'example.com/inc',
      version: 'v2.0.0+incompatible',
    });
    assert.equal(r.prefix, p);
    assert.equal(r.goMod, null);
    assert.equal(r.h1, expectedH1(entries));
  });
});
