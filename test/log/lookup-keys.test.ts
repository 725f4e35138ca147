import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKey, newSigner, sign } from '../../src/core/note.ts';
import { formatRecord } from '../../src/core/tlog/index.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { coversKeys, formatLookupKeys, parseLookupKeys, signingKeys } from '../../src/log/lookup-keys.ts';

const TREE = 'go.sum database tree\n3\n' + Buffer.alloc(32, 1).toString('base64') + '\n';

describe('lookup-keys', () => {
  const a = generateKey('sum.keys.test');
  const b = generateKey('sum.keys.test');
  const id = (vkey: string) => vkey.split('+').slice(0, 2).join('+');

  it('names the keys that signed a note, also at the end of a lookup answer', () => {
    const note = sign(TREE, [newSigner(a.skey), newSigner(b.skey)]);
    const want = new Set([id(a.vkey), id(b.vkey)]);
    assert.deepEqual(signingKeys(note), want);
    const text = utf8('example.com/m v1.0.0 h1:x=\nexample.com/m v1.0.0/go.mod h1:y=\n');
    const answer = Buffer.concat([formatRecord(2, text), note]);
    assert.deepEqual(signingKeys(answer), want);
    assert.deepEqual(signingKeys(sign(TREE, [newSigner(a.skey)])), new Set([id(a.vkey)]));
    assert.equal(signingKeys(utf8('no signatures here\n')).size, 0);
  });

  it('compares key sets and round-trips the marker', () => {
    const both = new Set([id(a.vkey), id(b.vkey)]);
    assert.ok(coversKeys(both, new Set([id(b.vkey)])));
    assert.ok(!coversKeys(new Set([id(a.vkey)]), both));
    const marker = formatLookupKeys(both);
    assert.match(
      Buffer.from(marker).toString(),
      /^sumkeep lookup keys v1\n(sum\.keys\.test\+[0-9a-f]{8}\n){2}$/,
    );
    assert.deepEqual(parseLookupKeys(marker), both);
    // Anything else counts as no marker: the files are checked again.
    assert.equal(parseLookupKeys(utf8('sumkeep lookup keys v1\nnot a key\n')), null);
    assert.equal(parseLookupKeys(utf8('other\n')), null);
    assert.equal(parseLookupKeys(marker.subarray(0, marker.length - 1)), null);
  });
});
