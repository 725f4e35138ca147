import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  TAG,
  bitString,
  decodeOid,
  decodeTime,
  explicit,
  integer,
  namedBits,
  oid,
  readChildren,
  readDer,
  readTlv,
  sequence,
  setOf,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from '../../src/keys/der.ts';
import { isSumkeepError } from '../../src/core/errors.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

describe('der encoder', () => {
  it('writes minimal INTEGERs with a sign byte only when the top bit is set', () => {
    const cases: [number | bigint, string][] = [
      [0, '020100'],
      [1, '020101'],
      [127, '02017f'],
      [128, '02020080'],
      [255, '020200ff'],
      [256, '02020100'],
      [65535, '020300ffff'],
      [2n ** 64n, '0209010000000000000000'],
    ];
    for (const [n, want] of cases) assert.equal(hex(integer(n)), want, String(n));
    assert.equal(hex(unsignedInteger(unhex('000000ff'))), '020200ff');
    assert.equal(hex(unsignedInteger(unhex('0000'))), '020100');
  });

  it('writes short and long lengths minimally', () => {
    const cases: [number, string][] = [
      [0, '0400'],
      [127, '047f'],
      [128, '048180'],
      [255, '0481ff'],
      [256, '04820100'],
      [65536, '0483010000'],
    ];
    for (const [n, head] of cases) {
      const enc = tlv(TAG.OCTET_STRING, new Uint8Array(n));
      assert.equal(hex(enc.subarray(0, head.length / 2)), head, String(n));
      assert.equal(enc.length, head.length / 2 + n);
    }
  });

  it('encodes OIDs as node itself does in SPKI and AlgorithmIdentifier', () => {
    // Independent vectors: the OIDs inside DER that OpenSSL (through node) writes.
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
    assert.ok(hex(ed).includes(hex(oid('1.3.101.112'))));
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    assert.ok(hex(pss).includes(hex(oid('1.2.840.113549.1.1.10'))));
    assert.equal(hex(oid('1.2.840.113549.1.1.10')), '06092a864886f70d01010a');
    assert.equal(hex(oid('2.5.29.19')), '0603551d13');
    assert.equal(hex(oid('2.16.840.1.101.3.4.2.1')), '0609608648016503040201');
  });

  it('round-trips OIDs with arcs beyond 2^53 (2.25 UUID OIDs)', () => {
    for (const s of [
      '2.25.112882966228999194112487829340216386123',
      '1.3.6.1.5.5.7.3.1',
      '2.999.3',
      '0.39',
    ]) {
      assert.equal(decodeOid(readDer(oid(s)).content), s);
    }
    // X.690 8.19 example: 2.999.3 is 0x88 0x37 0x03.
    assert.equal(hex(oid('2.999.3')), '0603883703');
  });

  it('refuses malformed OIDs', () => {
    for (const s of ['', '1', '3.1', '1.40', '1.2.', '1..2', '01.2', '1.2.a']) {
      assert.throws(
        () => oid(s),
        (e: unknown) => isSumkeepError(e, 'bad_input'),
        s,
      );
    }
  });

  it('writes NamedBitLists without trailing zero bits', () => {
    const cases: [number[], string][] = [
      [[], '030100'],
      [[0], '03020780'], // digitalSignature
      [[5, 6], '03020106'], // keyCertSign | cRLSign
      [[0, 2], '030205a0'], // digitalSignature | keyEncipherment
      [[8], '0303070080'], // decipherOnly
    ];
    for (const [bits, want] of cases) assert.equal(hex(namedBits(bits)), want, bits.join(','));
  });

  it('sorts SET OF elements by their encodings', () => {
    const a = utf8String('b');
    const b = integer(5);
    assert.equal(hex(setOf(a, b)), '3106' + hex(b) + hex(a));
  });

  it('writes UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 4.1.2.5)', () => {
    const cases: [string, string][] = [
      ['2049-12-31T23:59:59.999Z', '170d3439313233313233353935395a'],
      ['2050-01-01T00:00:00Z', '180f32303530303130313030303030305a'],
      ['1999-02-03T04:05:06Z', '170d3939303230333034303530365a'],
    ];
    for (const [iso, want] of cases) {
      const enc = time(Date.parse(iso));
      assert.equal(hex(enc), want, iso);
      assert.equal(decodeTime(readDer(enc)), Math.floor(Date.parse(iso) / 1000) * 1000);
    }
  });

  it('refuses times outside 1950..9999', () => {
    assert.throws(
      () => time(Date.parse('1949-12-31T00:00:00Z')),
      (e: unknown) => isSumkeepError(e, 'bad_input'),
    );
    assert.throws(
      () => time(NaN),
      (e: unknown) => isSumkeepError(e, 'bad_input'),
    );
  });
});

describe('der reader', () => {
  it('reads back what the encoder writes', () => {
    const enc = sequence(integer(7), explicit(3, sequence(utf8String('x'))), bitString(unhex('abcd')));
    const kids = readChildren(readDer(enc));
    assert.deepEqual(
      kids.map((k) => k.tag),
      [TAG.INTEGER, 0xa3, TAG.BIT_STRING],
    );
    assert.equal(hex(kids[2]!.content), '00abcd');
    assert.equal(readChildren(readChildren(kids[1]!)[0]!)[0]!.tag, TAG.UTF8_STRING);
  });

  it('refuses what DER forbids', () => {
    const cases: [string, string][] = [
      ['indefinite length', '3080020100'],
      ['long form for a short length', '04810100'],
      ['leading zero in length', '0482000100'],
      ['content past the end', '0405abcd'],
      ['truncated header', '04'],
      ['multi-byte tag', '1f8101'],
      ['trailing bytes', '040100ff'],
    ];
    for (const [what, h] of cases) {
      assert.throws(
        () => readDer(unhex(h)),
        (e: unknown) => isSumkeepError(e, 'bad_input'),
        what,
      );
    }
  });

  it('refuses bad times and OIDs', () => {
    const badTimes = [
      '170d3439313233313233353936305a',
      '170c3439313233313233353935395a'.slice(0, 28),
      '1703313233',
    ];
    for (const h of badTimes) {
      assert.throws(
        () => decodeTime(readTlv(unhex(h)).node),
        (e: unknown) => isSumkeepError(e, 'bad_input'),
        h,
      );
    }
    for (const h of ['8001', '2a86', '']) {
      assert.throws(
        () => decodeOid(unhex(h)),
        (e: unknown) => isSumkeepError(e, 'bad_input'),
        h,
      );
    }
  });

  it('throws only SumkeepError on random and mutated input', () => {
    const base = sequence(
      integer(12345),
      sequence(oid('1.2.3.4'), utf8String('hello')),
      time(Date.UTC(2030, 0, 1)),
    );
    for (let i = 0; i < 3000; i++) {
      const b = i % 2 === 0 ? new Uint8Array(randomBytes(1 + (i % 40))) : Uint8Array.from(base);
      if (i % 2 === 1) b[i % b.length] = b[i % b.length]! ^ (1 << (i % 8));
      try {
        const walk = (n: ReturnType<typeof readDer>): void => {
          if (n.tag & 0x20) for (const c of readChildren(n)) walk(c);
          else if (n.tag === TAG.OID) decodeOid(n.content);
          else if (n.tag === TAG.UTC_TIME || n.tag === TAG.GENERALIZED_TIME) decodeTime(n);
        };
        walk(readDer(b));
      } catch (e) {
        assert.ok(isSumkeepError(e, 'bad_input'), `input ${hex(b)} threw ${String(e)}`);
      }
    }
  });
});
