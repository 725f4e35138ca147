import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SumkeepError } from '../../src/core/errors.ts';
import {
  MAX_KEY_STRING_LENGTH,
  MalformedKeyError,
  generateKey,
  isNoteKeyName,
  isValidKeyName,
  keyHash,
  newSigner,
  newVerifier,
  verifierKeyFromSignerKey,
} from '../../src/core/note-keys.ts';
import { fromB64, loadNoteVectors, onlySumkeepError, splitMix64Bytes } from './note-fixtures.ts';

const vectors = loadNoteVectors();

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** [name, hash, key data] of a verifier or signer key (key data is base64 and may hold '+'). */
function keyParts(key: string): [string, string, string] {
  const rest = key.startsWith('PRIVATE+KEY+') ? key.slice('PRIVATE+KEY+'.length) : key;
  const a = rest.indexOf('+');
  const b = rest.indexOf('+', a + 1);
  return [rest.slice(0, a), rest.slice(a + 1, b), rest.slice(b + 1)];
}

describe('note keys: Go reference vectors', () => {
  it('derives every vector key pair from its SplitMix64 seed, byte for byte', () => {
    let replayed = 0;
    for (const k of vectors.keys) {
      const got = generateKey(k.name, splitMix64Bytes(k.seed, 32));
      assert.equal(got.skey, k.skey, `seed ${k.seed}`);
      assert.equal(got.vkey, k.vkey, `seed ${k.seed}`);
      replayed++;
    }
    assert.ok(vectors.keys.length > 0);
    assert.equal(replayed, vectors.keys.length);
  });

  it('parses every vector signer and verifier key to the same name and hash', () => {
    let replayed = 0;
    for (const k of vectors.keys) {
      const s = newSigner(k.skey);
      const v = newVerifier(k.vkey);
      const hashHex = keyParts(k.vkey)[1];
      assert.equal(s.name, k.name);
      assert.equal(v.name, k.name);
      assert.equal(hex8(s.keyHash), hashHex);
      assert.equal(hex8(v.keyHash), hashHex);
      assert.equal(verifierKeyFromSignerKey(k.skey), k.vkey);
      const pubkey = fromB64(keyParts(k.vkey)[2]);
      assert.equal(keyHash(k.name, pubkey), v.keyHash);
      replayed++;
    }
    assert.equal(replayed, vectors.keys.length);
  });

  it('accepts and refuses the vector verifier keys with Go error texts', () => {
    let replayed = 0;
    for (const c of vectors.verifier_keys) {
      if (c.ok) {
        const v = newVerifier(c.vkey);
        assert.equal(`${v.name}+${hex8(v.keyHash)}`, c.vkey.split('+').slice(0, 2).join('+'));
      } else {
        assert.ok(c.error.length > 0);
        assert.throws(
          () => newVerifier(c.vkey),
          (e: unknown) =>
            e instanceof MalformedKeyError && e.code === 'malformed_key' && e.message.includes(c.error),
          c.vkey,
        );
      }
      replayed++;
    }
    assert.ok(vectors.verifier_keys.length > 0);
    assert.equal(replayed, vectors.verifier_keys.length);
  });
});

describe('isValidKeyName', () => {
  const table: [string, boolean][] = [
    ['sum.golang.org', true],
    ['example.com/path/to/log', true],
    ['例え.テスト', true],
    ['a\u0001b', true], // Go allows control characters in names; isNoteKeyName does not
    ['', false],
    ['a b', false],
    ['a\tb', false],
    ['a\nb', false],
    ['a\u0085b', false], // NEL
    ['a\u00a0b', false], // no-break space
    ['a\u2003b', false], // em space
    ['a\u3000b', false], // ideographic space
    ['a+b', false],
    ['a\ud800b', false], // lone surrogate: not valid Unicode
    ['\udc00', false],
  ];
  for (const [name, want] of table) {
    it(`${want ? 'accepts' : 'rejects'} ${JSON.stringify(name)}`, () => {
      assert.equal(isValidKeyName(name), want);
    });
  }

  it('isNoteKeyName also rejects ASCII control characters', () => {
    assert.equal(isNoteKeyName('a\u0001b'), false);
    assert.equal(isNoteKeyName('a\u007fb'), true); // DEL is not below U+0020, notes may hold it
    assert.equal(isNoteKeyName('sum.golang.org'), true);
  });
});

describe('keyHash', () => {
  it('is the big-endian first 4 bytes of SHA-256(name || "\\n" || key)', () => {
    // Same hash as the vector key, recomputed independently with node:crypto.
    const k = vectors.keys[0]!;
    const key = fromB64(keyParts(k.vkey)[2]);
    assert.equal(hex8(keyHash(k.name, key)), keyParts(k.vkey)[1]);
  });

  it('refuses a name with a lone surrogate', () => {
    assert.throws(() => keyHash('a\ud800', new Uint8Array([1])), MalformedKeyError);
  });
});

describe('generateKey / newSigner / newVerifier round trip', () => {
  const names = ['sum.example.com', 'sumdb.corp.internal/path', 'ключ.test', 'a'];
  for (const name of names) {
    it(`round-trips a random key named ${JSON.stringify(name)}`, () => {
      const { skey, vkey } = generateKey(name);
      assert.match(skey, /^PRIVATE\+KEY\+/);
      assert.equal(
        skey.slice('PRIVATE+KEY+'.length).split('+').slice(0, 2).join('+'),
        vkey.split('+').slice(0, 2).join('+'),
      );
      const s = newSigner(skey);
      const v = newVerifier(vkey);
      assert.equal(s.name, name);
      assert.equal(v.name, name);
      assert.equal(s.keyHash, v.keyHash);
      assert.equal(verifierKeyFromSignerKey(skey), vkey);
      const msg = new TextEncoder().encode('hello\n');
      const sig = s.sign(msg);
      assert.equal(sig.length, 64);
      assert.equal(v.verify(msg, sig), true);
      assert.equal(v.verify(new TextEncoder().encode('hullo\n'), sig), false);
    });
  }

  it('gives two random keys different hashes and key data', () => {
    const a = generateKey('x.test');
    const b = generateKey('x.test');
    assert.notEqual(a.vkey, b.vkey);
    assert.notEqual(a.skey, b.skey);
  });

  it('reads the key hash in upper-case hex as Go does, and writes lower case', () => {
    const k = vectors.keys[0]!;
    const [name, hash, data] = keyParts(k.vkey);
    const v = newVerifier(`${name}+${hash.toUpperCase()}+${data}`);
    assert.equal(hex8(v.keyHash), hash);
    const s = newSigner(`PRIVATE+KEY+${name}+${hash.toUpperCase()}+${keyParts(k.skey)[2]}`);
    assert.equal(s.keyHash, v.keyHash);
  });

  const badGenerate: [string, string, Uint8Array | undefined][] = [
    ['empty name', '', undefined],
    ['name with space', 'a b', undefined],
    ['name with plus', 'a+b', undefined],
    ['name with control character', 'a\u0001b', undefined],
    ['31-byte seed', 'x.test', new Uint8Array(31)],
    ['33-byte seed', 'x.test', new Uint8Array(33)],
  ];
  for (const [what, name, seed] of badGenerate) {
    it(`generateKey refuses ${what}`, () => {
      assert.throws(() => generateKey(name, seed), MalformedKeyError);
    });
  }
});

describe('newSigner / newVerifier error texts', () => {
  const k = vectors.keys[0]!;
  const [name, hash, vdata] = keyParts(k.vkey);
  const sdata = keyParts(k.skey)[2];
  const pubRaw = fromB64(vdata);
  const seedRaw = fromB64(sdata);

  function withAlg(raw: Uint8Array, alg: number): string {
    const b = new Uint8Array(raw);
    b[0] = alg;
    return Buffer.from(b).toString('base64');
  }
  function hashOf(keyB64: string): string {
    return hex8(keyHash(name, fromB64(keyB64)));
  }

  const rsaLike = withAlg(pubRaw, 2);
  const shortKey = Buffer.from(pubRaw.subarray(0, 32)).toString('base64');
  const verifierTable: [string, string, string][] = [
    ['no plus at all', name, 'malformed verifier id'],
    ['missing key data', `${name}+${hash}`, 'malformed verifier id'],
    ['empty key data', `${name}+${hash}+`, 'malformed verifier id'],
    ['7 hex digits', `${name}+${hash.slice(1)}+${vdata}`, 'malformed verifier id'],
    ['9 hex digits', `${name}+0${hash}+${vdata}`, 'malformed verifier id'],
    ['0x prefix', `${name}+0x${hash.slice(2)}+${vdata}`, 'malformed verifier id'],
    ['non-hex digit', `${name}+${hash.slice(0, 7)}g+${vdata}`, 'malformed verifier id'],
    ['empty name', `+${hash}+${vdata}`, 'malformed verifier id'],
    ['name with space', `a b+${hash}+${vdata}`, 'malformed verifier id'],
    ['unpadded base64', `${name}+${hash}+${vdata.slice(0, -1)}`, 'malformed verifier id'],
    ['url-safe base64', `${name}+${hash}+${vdata.slice(0, -1)}_`, 'malformed verifier id'],
    ['wrong hash', `${name}+00000000+${vdata}`, 'invalid verifier hash'],
    ['hash of another name', `other+${hash}+${vdata}`, 'invalid verifier hash'],
    ['unknown algorithm 0x02', `${name}+${hashOf(rsaLike)}+${rsaLike}`, 'unknown verifier algorithm'],
    ['31-byte public key', `${name}+${hashOf(shortKey)}+${shortKey}`, 'malformed verifier id'],
  ];
  for (const [what, vkey, want] of verifierTable) {
    it(`newVerifier refuses ${what} with "${want}"`, () => {
      assert.throws(
        () => newVerifier(vkey),
        (e: unknown) => e instanceof MalformedKeyError && e.message.includes(want),
      );
    });
  }

  const otherAlgSeed = withAlg(seedRaw, 2);
  const signerTable: [string, string, string][] = [
    ['no PRIVATE+KEY prefix', `${name}+${hash}+${sdata}`, 'malformed verifier id'],
    ['lower-case prefix', `private+key+${name}+${hash}+${sdata}`, 'malformed verifier id'],
    ['bad hex', `PRIVATE+KEY+${name}+${hash.slice(1)}+${sdata}`, 'malformed verifier id'],
    ['bad name', `PRIVATE+KEY+a b+${hash}+${sdata}`, 'malformed verifier id'],
    ['bad base64', `PRIVATE+KEY+${name}+${hash}+${sdata.slice(1)}`, 'malformed verifier id'],
    ['unknown algorithm', `PRIVATE+KEY+${name}+${hash}+${otherAlgSeed}`, 'unknown verifier algorithm'],
    ['wrong hash', `PRIVATE+KEY+${name}+00000000+${sdata}`, 'invalid verifier hash'],
    ['a verifier key', `PRIVATE+KEY+${k.vkey}`, 'invalid verifier hash'],
  ];
  for (const [what, skey, want] of signerTable) {
    it(`newSigner refuses ${what} with "${want}"`, () => {
      assert.throws(
        () => newSigner(skey),
        (e: unknown) => e instanceof MalformedKeyError && e.message.includes(want),
      );
    });
  }

  it('never quotes the secret key data in a signer error', () => {
    const bad = `PRIVATE+KEY+${name}+00000000+${sdata}`;
    const e = onlySumkeepError(() => newSigner(bad), 'newSigner');
    assert.ok(e !== undefined);
    assert.equal(e.message.includes(sdata), false);
  });
});

describe('key string mutation sweep', () => {
  const k = vectors.keys[0]!;
  const original = newVerifier(k.vkey);
  const signer = newSigner(k.skey);
  const msg = new TextEncoder().encode(
    'go.sum database tree\n5\nLobODv7p97cLGvtRjgAuviQrKCEUWoQR9uqu11RvJdM=\n',
  );
  const sig = signer.sign(msg);
  const MASKS = [0x01, 0x80];

  function flipped(s: string, i: number, mask: number): string {
    return s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ mask) + s.slice(i + 1);
  }

  // Property: flipping any one character of a verifier key (code unit xor 0x01 or 0x80) gives a
  // string that either fails to parse with MalformedKeyError, or parses to a verifier whose
  // (name, key hash) differs from the original AND that does not verify the original signature.
  // No flipped key can pass for the original identity or accept its signatures.
  it('every flipped character of a verifier key fails to parse or is a different, non-verifying key', () => {
    let flips = 0;
    let parsed = 0;
    for (let i = 0; i < k.vkey.length; i++) {
      for (const mask of MASKS) {
        const mutated = flipped(k.vkey, i, mask);
        assert.notEqual(mutated, k.vkey);
        let v;
        try {
          v = newVerifier(mutated);
        } catch (e) {
          assert.ok(e instanceof MalformedKeyError, `flip ${i}^${mask}: ${String(e)}`);
          flips++;
          continue;
        }
        parsed++;
        assert.ok(
          v.name !== original.name || v.keyHash !== original.keyHash,
          `flip ${i}^${mask} kept identity`,
        );
        assert.equal(v.verify(msg, sig), false, `flip ${i}^${mask} verified`);
        flips++;
      }
    }
    assert.equal(flips, k.vkey.length * MASKS.length);
    // Every single-character change alters the name, the hash or the key bytes, and the key hash
    // binds all three: so in fact none of them parses.
    assert.equal(parsed, 0);
  });

  // Property: flipping any one character of a signer key either fails to parse, or parses to a
  // signer whose (name, key hash) differs from the original, so it cannot sign as the original key.
  it('every flipped character of a signer key fails to parse or is a different identity', () => {
    let flips = 0;
    for (let i = 0; i < k.skey.length; i++) {
      for (const mask of MASKS) {
        const mutated = flipped(k.skey, i, mask);
        let s;
        try {
          s = newSigner(mutated);
        } catch (e) {
          assert.ok(e instanceof MalformedKeyError, `flip ${i}^${mask}: ${String(e)}`);
          flips++;
          continue;
        }
        assert.ok(s.name !== signer.name || s.keyHash !== signer.keyHash, `flip ${i}^${mask} kept identity`);
        assert.equal(original.verify(msg, s.sign(msg)), false);
        flips++;
      }
    }
    assert.equal(flips, k.skey.length * MASKS.length);
  });
});

describe('hostile key strings', () => {
  function rng(seed: number): () => number {
    const bytes = splitMix64Bytes(seed, 1 << 16);
    let i = 0;
    return () => bytes[i++ % bytes.length]!;
  }

  it('throws only SumkeepError for random code-unit strings, lone surrogates and NULs', () => {
    const next = rng(42);
    const alphabet = [
      '+',
      'A',
      '0',
      'f',
      '=',
      '/',
      ' ',
      '\u0000',
      '\ud800',
      '\udfff',
      '\u2014',
      'é',
      'P',
      '\n',
    ];
    let cases = 0;
    for (let n = 0; n < 400; n++) {
      const len = next() % 80;
      let s = n % 2 === 0 ? 'PRIVATE+KEY+' : '';
      for (let j = 0; j < len; j++) {
        const r = next();
        s += r < 128 ? alphabet[r % alphabet.length]! : String.fromCharCode((r << 8) | next());
      }
      for (const parse of [newVerifier, newSigner, verifierKeyFromSignerKey]) {
        onlySumkeepError(() => parse(s), `${parse.name}(${JSON.stringify(s)})`);
        cases++;
      }
    }
    assert.equal(cases, 1200);
  });

  const hostile: [string, unknown][] = [
    ['a lone high surrogate name', '\ud800+12345678+AQ=='],
    ['a NUL name', '\u0000+12345678+AQ=='],
    ['a huge string', 'a'.repeat(MAX_KEY_STRING_LENGTH + 1)],
    ['a huge string of plus signs', '+'.repeat(1_000_000)],
    ['an empty string', ''],
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an object', { toString: () => 'x+12345678+AQ==' }],
  ];
  for (const [what, input] of hostile) {
    it(`refuses ${what} with MalformedKeyError`, () => {
      assert.throws(() => newVerifier(input as string), MalformedKeyError);
      assert.throws(() => newSigner(input as string), MalformedKeyError);
      assert.throws(() => verifierKeyFromSignerKey(input as string), MalformedKeyError);
    });
  }

  it('refuses a key string one character over the length bound, and accepts names up to it', () => {
    // The signer key is "PRIVATE+KEY+" + name + "+" + 8 hex + "+" + 44 base64: 66 more than the name.
    const name = 'n'.repeat(MAX_KEY_STRING_LENGTH - 66);
    const { skey, vkey } = generateKey(name);
    assert.equal(skey.length, MAX_KEY_STRING_LENGTH);
    assert.equal(newVerifier(vkey).name, name);
    assert.equal(newSigner(skey).name, name);
    // One character more and the keys could not be loaded again, so generateKey refuses the name.
    assert.throws(() => generateKey(name + 'n'), MalformedKeyError);
    // Well-formed key strings of the bound and one character over it, made by hand (right hash
    // and all): exactly the longer ones are refused.
    const pair = generateKey('n', splitMix64Bytes(7, 32));
    const [, , pub64] = keyParts(pair.vkey);
    const [, , seed64] = keyParts(pair.skey);
    const byHand = (n: number) => {
      const vName = 'n'.repeat(n - 54);
      const sName = 'n'.repeat(n - 66);
      return {
        vkey: `${vName}+${hex8(keyHash(vName, fromB64(pub64)))}+${pub64}`,
        skey: `PRIVATE+KEY+${sName}+${hex8(keyHash(sName, fromB64(pub64)))}+${seed64}`,
      };
    };
    const fits = byHand(MAX_KEY_STRING_LENGTH);
    const over = byHand(MAX_KEY_STRING_LENGTH + 1);
    assert.deepEqual([fits.vkey.length, fits.skey.length], [MAX_KEY_STRING_LENGTH, MAX_KEY_STRING_LENGTH]);
    assert.deepEqual(
      [over.vkey.length, over.skey.length],
      [MAX_KEY_STRING_LENGTH + 1, MAX_KEY_STRING_LENGTH + 1],
    );
    assert.equal(newVerifier(fits.vkey).name.length, MAX_KEY_STRING_LENGTH - 54);
    assert.equal(newSigner(fits.skey).name.length, MAX_KEY_STRING_LENGTH - 66);
    assert.throws(() => newVerifier(over.vkey), MalformedKeyError);
    assert.throws(
      () => newSigner(over.skey),
      (e: unknown) => e instanceof SumkeepError && e.code === 'malformed_key',
    );
  });
});
