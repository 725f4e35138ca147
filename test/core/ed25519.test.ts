import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SumkeepError } from '../../src/core/errors.ts';
import { ed25519PublicFromSeed, ed25519Sign, ed25519Verify } from '../../src/core/ed25519.ts';

function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

// RFC 8032 section 7.1, TEST 1 and TEST 2.
const rfc8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155' +
      '5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
      '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

describe('ed25519 wrappers', () => {
  it('reproduce the RFC 8032 test vectors', () => {
    let replayed = 0;
    for (const v of rfc8032) {
      assert.deepEqual(ed25519PublicFromSeed(hex(v.seed)), hex(v.pub));
      assert.deepEqual(ed25519Sign(hex(v.seed), hex(v.msg)), hex(v.sig));
      assert.equal(ed25519Verify(hex(v.pub), hex(v.msg), hex(v.sig)), true);
      replayed++;
    }
    assert.equal(replayed, rfc8032.length);
  });

  it('verify rejects another message, another key and a flipped signature bit', () => {
    const v = rfc8032[1]!;
    const sig = hex(v.sig);
    assert.equal(ed25519Verify(hex(v.pub), hex('73'), sig), false);
    assert.equal(ed25519Verify(hex(rfc8032[0]!.pub), hex(v.msg), sig), false);
    for (let i = 0; i < sig.length * 8; i += 7) {
      const bad = new Uint8Array(sig);
      bad[i >> 3]! ^= 1 << (i & 7);
      assert.equal(ed25519Verify(hex(v.pub), hex(v.msg), bad), false, `bit ${i}`);
    }
  });

  const junk: [string, unknown, unknown, unknown][] = [
    ['a 31-byte key', new Uint8Array(31), new Uint8Array(0), new Uint8Array(64)],
    ['a 33-byte key', new Uint8Array(33), new Uint8Array(0), new Uint8Array(64)],
    ['a 63-byte signature', hex(rfc8032[0]!.pub), new Uint8Array(0), new Uint8Array(63)],
    ['a 65-byte signature', hex(rfc8032[0]!.pub), new Uint8Array(0), new Uint8Array(65)],
    ['a key that is not a curve point', new Uint8Array(32).fill(0xff), new Uint8Array(0), new Uint8Array(64)],
    ['null arguments', null, null, null],
    ['strings', 'key', 'msg', 'sig'],
  ];
  for (const [what, pub, msg, sig] of junk) {
    it(`verify returns false, never throws, for ${what}`, () => {
      assert.equal(ed25519Verify(pub as Uint8Array, msg as Uint8Array, sig as Uint8Array), false);
    });
  }

  it('sign and public-from-seed refuse a seed that is not 32 bytes with a SumkeepError', () => {
    for (const n of [0, 31, 33, 64]) {
      assert.throws(() => ed25519Sign(new Uint8Array(n), new Uint8Array(0)), SumkeepError);
      assert.throws(() => ed25519PublicFromSeed(new Uint8Array(n)), SumkeepError);
    }
  });
});
