import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpAddress } from '../../src/keys/ip.ts';
import { readPem, readPemBlocks, toPem } from '../../src/keys/pem.ts';
import { isSumkeepError } from '../../src/core/errors.ts';

describe('parseIpAddress', () => {
  it('parses IPv4 and IPv6 text to 4 and 16 bytes', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', '7f000001'],
      ['0.0.0.0', '00000000'],
      ['255.255.255.255', 'ffffffff'],
      ['::1', '00000000000000000000000000000001'],
      ['::', '00000000000000000000000000000000'],
      ['fe80::1:2', 'fe800000000000000000000000010002'],
      ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
      ['2001:DB8::8:800:200C:417A', '20010db80000000000080800200c417a'],
      ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
      ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
    ];
    for (const [s, want] of cases) assert.equal(Buffer.from(parseIpAddress(s)!).toString('hex'), want, s);
  });

  it('refuses what is not an address', () => {
    const bad = [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3.4 ',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '12345::',
      'fe80::1%eth0',
      '::1.2.3',
      'g::1',
      'localhost',
    ];
    for (const s of bad) assert.equal(parseIpAddress(s), null, s);
  });
});

describe('pem', () => {
  it('round-trips DER through 64-column PEM', () => {
    const der = new Uint8Array(200).map((_, i) => i);
    const pem = toPem(der, 'CERTIFICATE');
    assert.ok(pem.split('\n').every((l) => l.length <= 64));
    assert.deepEqual(readPem(pem, 'CERTIFICATE'), der);
    assert.deepEqual(readPem(pem.replace(/\n/g, '\r\n'), 'CERTIFICATE'), der);
  });

  it('reads several blocks and refuses broken ones', () => {
    const two = toPem(Uint8Array.of(1), 'A') + 'junk\n' + toPem(Uint8Array.of(2), 'B');
    assert.deepEqual(
      readPemBlocks(two).map((b) => b.label),
      ['A', 'B'],
    );
    const bad = [
      toPem(Uint8Array.of(1), 'A').replace('-----END A-----', ''),
      '-----BEGIN A-----\n!!!!\n-----END A-----\n',
      two, // two blocks where one is wanted
    ];
    for (const text of bad) {
      assert.throws(
        () => readPem(text, 'A'),
        (e: unknown) => isSumkeepError(e, 'bad_input'),
      );
    }
    assert.throws(
      () => readPem(toPem(Uint8Array.of(1), 'B'), 'A'),
      (e: unknown) => isSumkeepError(e, 'bad_input'),
    );
  });
});
