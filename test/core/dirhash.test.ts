import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SumkeepError } from '../../src/core/errors.ts';
import { goModHash, hash1, hash1Summary, isH1 } from '../../src/core/dirhash.ts';
import type { FileDigest } from '../../src/core/dirhash.ts';
import { sha256 } from '../../src/core/sha256.ts';

interface DirhashVector {
  desc: string;
  files: { name: string; content_b64: string }[];
  h1?: string;
  summary?: string;
  error?: string;
}
interface GoModVector {
  content: string;
  h1: string;
}

const all = JSON.parse(readFileSync(new URL('../vectors/go-reference.json', import.meta.url), 'utf8')) as {
  dirhash: DirhashVector[];
  gomod_hash: GoModVector[];
};
const enc = new TextEncoder();

function digests(files: DirhashVector['files']): FileDigest[] {
  return files.map((f) => ({
    name: f.name,
    sha256: sha256(new Uint8Array(Buffer.from(f.content_b64, 'base64'))),
  }));
}

describe('dirhash: Go reference vectors', () => {
  it('reproduces every Hash1 summary and h1, and refuses the error cases', () => {
    let replayed = 0;
    let errors = 0;
    for (const c of all.dirhash) {
      const files = digests(c.files);
      if (c.error !== undefined) {
        // Go: "dirhash: filenames with newlines are not supported"; we only require the class and code.
        assert.throws(
          () => hash1(files),
          (e: unknown) => e instanceof SumkeepError && e.code === 'bad_dirhash',
          c.desc,
        );
        assert.throws(() => hash1Summary(files), SumkeepError, c.desc);
        errors++;
      } else {
        assert.equal(new TextDecoder().decode(hash1Summary(files)), c.summary, c.desc);
        assert.equal(hash1(files), c.h1, c.desc);
        assert.ok(isH1(c.h1!), c.desc);
      }
      replayed++;
    }
    assert.ok(all.dirhash.length > 0);
    assert.ok(errors > 0);
    assert.equal(replayed, all.dirhash.length);
  });

  it('reproduces every go.mod hash', () => {
    let replayed = 0;
    for (const c of all.gomod_hash) {
      assert.equal(goModHash(enc.encode(c.content)), c.h1, JSON.stringify(c.content));
      replayed++;
    }
    assert.ok(all.gomod_hash.length > 0);
    assert.equal(replayed, all.gomod_hash.length);
  });
});

describe('hash1 name order', () => {
  // U+FB00 is one UTF-16 unit 0xFB00 and UTF-8 EF AC 80; U+1D49C is the UTF-16 pair D835 DC9C and
  // UTF-8 F0 9D 92 9C. UTF-16 order puts the astral character first, UTF-8 byte order last.
  const bmp = '\ufb00.txt';
  const astral = '\u{1d49c}.txt';

  it('sorts names by UTF-8 bytes, not by UTF-16 code units', () => {
    assert.deepEqual([bmp, astral].sort(), [astral, bmp]); // the order the test must not produce
    const files = [astral, bmp].map((name) => ({ name, sha256: sha256(enc.encode(name)) }));
    const lines = new TextDecoder().decode(hash1Summary(files)).split('\n');
    assert.ok(lines[0]!.endsWith(`  ${bmp}`), lines[0]);
    assert.ok(lines[1]!.endsWith(`  ${astral}`), lines[1]);
  });

  it('gives the same hash for every input order', () => {
    const names = ['z', 'a', 'M', '_', bmp, astral, '\u00e9', 'a/b', 'a.b'];
    const files = names.map((name) => ({ name, sha256: sha256(enc.encode(name)) }));
    const want = hash1(files);
    for (let k = 1; k < names.length; k++) {
      const rotated = [...files.slice(k), ...files.slice(0, k)];
      assert.equal(hash1(rotated), want);
      assert.equal(hash1([...rotated].reverse()), want);
    }
  });
});

describe('hash1 refuses', () => {
  const table: [string, FileDigest[]][] = [
    ['a name with a newline', [{ name: 'a\nb', sha256: new Uint8Array(32) }]],
    ['a name with a lone surrogate', [{ name: 'a\ud800', sha256: new Uint8Array(32) }]],
    ['a digest of 31 bytes', [{ name: 'a', sha256: new Uint8Array(31) }]],
  ];
  for (const [what, files] of table) {
    it(what, () => {
      assert.throws(
        () => hash1(files),
        (e: unknown) => e instanceof SumkeepError && e.code === 'bad_dirhash',
      );
    });
  }
});
