import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SumkeepError } from '../../src/core/errors.ts';
import {
  InvalidSignatureError,
  MAX_NOTE_SIGNATURES,
  MAX_NOTE_SIZE,
  MalformedNoteError,
  UnverifiedNoteError,
  generateKey,
  newSigner,
  newVerifier,
  open,
  sign,
  verifierSet,
} from '../../src/core/note.ts';
import type { Note, Signer, Verifier } from '../../src/core/note.ts';
import { fromB64, loadNoteVectors, onlySumkeepError, splitMix64Bytes } from './note-fixtures.ts';

const vectors = loadNoteVectors();
const enc = new TextEncoder();

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}
function bytes(s: string): Uint8Array {
  return enc.encode(s);
}
function str(b: Uint8Array): string {
  return Buffer.from(b).toString('utf8');
}

const [key1, key2, keyOther] = vectors.keys as [
  (typeof vectors.keys)[0],
  (typeof vectors.keys)[0],
  (typeof vectors.keys)[0],
];
const signer1 = newSigner(key1.skey);
const signer2 = newSigner(key2.skey);
const signerOther = newSigner(keyOther.skey);
const verifier1 = newVerifier(key1.vkey);
const verifier2 = newVerifier(key2.vkey);
const verifierOther = newVerifier(keyOther.vkey);
const TREE_TEXT = 'go.sum database tree\n5\nLobODv7p97cLGvtRjgAuviQrKCEUWoQR9uqu11RvJdM=\n';

const ERROR_CLASS = {
  invalid_signature: InvalidSignatureError,
  unverified: UnverifiedNoteError,
  malformed: MalformedNoteError,
} as const;

describe('note: Go reference vectors', () => {
  it('signs every vector text to the exact bytes Go produced', () => {
    let replayed = 0;
    for (const c of vectors.sign) {
      const got = sign(c.text, c.signers.map(newSigner));
      assert.deepEqual(got, fromB64(c.signed_b64));
      replayed++;
    }
    assert.ok(vectors.sign.length > 0);
    assert.equal(replayed, vectors.sign.length);
  });

  it('opens or refuses every vector note as Go did, with the same error class and text', () => {
    let replayed = 0;
    for (const c of vectors.open) {
      const known = verifierSet(c.verifier_keys.map(newVerifier));
      const msg = fromB64(c.msg_b64);
      if (c.ok) {
        const n = open(msg, known);
        assert.equal(n.text, c.text, c.desc);
        assert.deepEqual(
          n.sigs.map((s) => `${s.name}+${hex8(s.hash)}`),
          c.verified_sigs,
          c.desc,
        );
        assert.equal(n.unverifiedSigs.length, c.unverified_sig_count, c.desc);
      } else {
        const cls = ERROR_CLASS[c.error_kind!];
        assert.ok(cls !== undefined, `${c.desc}: unknown error_kind ${String(c.error_kind)}`);
        assert.throws(
          () => open(msg, known),
          (e: unknown) => e instanceof cls && e.message.includes(c.error!),
          c.desc,
        );
      }
      replayed++;
    }
    assert.ok(vectors.open.length > 0);
    assert.equal(replayed, vectors.open.length);
  });
});

describe('sign / open round trip', () => {
  const texts: [string, string][] = [
    ['a tree head', TREE_TEXT],
    ['a lone newline', '\n'],
    ['text with a blank line inside', 'first\n\nsecond\n'],
    ['text ending in a blank line', 'first\n\n'],
    ['text that looks like a signature block', 'x\n\n\u2014 fake AAAAAAAA\n'],
    ['text starting with a byte order mark', '\ufeffBOM\n'],
    ['non-ASCII text and DEL', 'caf\u00e9 \u{1d49c} \u007f\n'],
  ];
  for (const [what, text] of texts) {
    it(`round-trips ${what}`, () => {
      const msg = sign(text, [signer1]);
      const n = open(msg, verifierSet([verifier1]));
      assert.equal(n.text, text);
      assert.equal(n.sigs.length, 1);
      assert.equal(n.sigs[0]!.name, signer1.name);
      assert.equal(n.sigs[0]!.hash, signer1.keyHash);
      assert.deepEqual(n.unverifiedSigs, []);
      // The note is exactly: text, blank line, one signature line.
      assert.equal(str(msg), `${text}\n\u2014 ${signer1.name} ${n.sigs[0]!.base64}\n`);
      const blob = fromB64(n.sigs[0]!.base64);
      assert.equal(blob.length, 68);
      assert.equal(Buffer.from(blob.subarray(0, 4)).readUInt32BE(0), signer1.keyHash);
    });
  }

  it('round-trips freshly generated keys', () => {
    const { skey, vkey } = generateKey('fresh.example/log');
    const msg = sign(TREE_TEXT, [newSigner(skey)]);
    const n = open(msg, verifierSet([newVerifier(vkey)]));
    assert.equal(n.text, TREE_TEXT);
    assert.equal(n.sigs[0]!.name, 'fresh.example/log');
  });

  it('keeps signature order and sorts lines into verified and unverified by the known set', () => {
    const msg = sign(TREE_TEXT, [signer1, signerOther, signer2]);
    const n = open(msg, verifierSet([verifier2, verifier1]));
    assert.deepEqual(
      n.sigs.map((s) => s.hash),
      [signer1.keyHash, signer2.keyHash],
    );
    assert.deepEqual(
      n.unverifiedSigs.map((s) => [s.name, s.hash]),
      [[signerOther.name, signerOther.keyHash]],
    );
  });

  it('counts a repeated signature line by a known key once, and a repeated unknown line once', () => {
    const one = str(sign(TREE_TEXT, [signer1]));
    const other = str(sign(TREE_TEXT, [signerOther])).slice(TREE_TEXT.length + 1);
    const sig1 = one.slice(TREE_TEXT.length + 1);
    const msg = bytes(`${TREE_TEXT}\n${sig1}${other}${sig1}${other}`);
    const n = open(msg, verifierSet([verifier1]));
    assert.equal(n.sigs.length, 1);
    assert.equal(n.unverifiedSigs.length, 1);
  });

  it('skips (as Go does) a second, different signature line by a key that already verified', () => {
    const sig1 = str(sign(TREE_TEXT, [signer1])).slice(TREE_TEXT.length + 1);
    const forged = str(sign('other text\n', [signer1])).slice('other text\n'.length + 1);
    const n = open(bytes(`${TREE_TEXT}\n${sig1}${forged}`), verifierSet([verifier1]));
    assert.equal(n.sigs.length, 1);
    assert.equal(n.sigs[0]!.base64, sig1.split(' ')[2]!.trimEnd());
    // The other way round, the first (bad) line by the known key is checked and fails.
    assert.throws(
      () => open(bytes(`${TREE_TEXT}\n${forged}${sig1}`), verifierSet([verifier1])),
      InvalidSignatureError,
    );
  });

  it('reports no verifiable signature with the note, its text and unverified signatures', () => {
    const msg = sign(TREE_TEXT, [signerOther]);
    let err: unknown;
    try {
      open(msg, verifierSet([verifier1]));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof UnverifiedNoteError);
    assert.equal(err.code, 'no_verifiable_signature');
    assert.equal(err.note.text, TREE_TEXT);
    assert.equal(err.note.sigs.length, 0);
    assert.deepEqual(
      err.note.unverifiedSigs.map((s) => [s.name, s.hash]),
      [[signerOther.name, signerOther.keyHash]],
    );
  });

  it('reports a bad signature by a known key as InvalidSignatureError with its key', () => {
    const msg = str(sign(TREE_TEXT, [signer1])).replace('\n5\n', '\n6\n');
    assert.throws(
      () => open(bytes(msg), verifierSet([verifier1])),
      (e: unknown) =>
        e instanceof InvalidSignatureError &&
        e.code === 'invalid_signature' &&
        e.keyName === signer1.name &&
        e.keyHash === signer1.keyHash,
    );
  });

  it('opens a note of exactly MAX_NOTE_SIZE bytes and refuses one byte more', () => {
    const sigLineLength = sign('x\n', [signer1]).length - 'x\n\n'.length; // bytes: the em dash is 3
    const textLength = MAX_NOTE_SIZE - 1 - sigLineLength;
    const text = 'a'.repeat(textLength - 1) + '\n';
    const msg = sign(text, [signer1]);
    assert.equal(msg.length, MAX_NOTE_SIZE);
    assert.equal(open(msg, verifierSet([verifier1])).text, text);
    const bigger = 'a'.repeat(textLength) + '\n';
    assert.throws(() => sign(bigger, [signer1]), MalformedNoteError);
    const blob = Buffer.concat([Buffer.from(bigger), Buffer.from('\n'), msg.subarray(text.length + 1)]);
    assert.equal(blob.length, MAX_NOTE_SIZE + 1);
    assert.throws(() => open(new Uint8Array(blob), verifierSet([verifier1])), MalformedNoteError);
  });

  it(`opens ${MAX_NOTE_SIGNATURES} signature lines and refuses ${MAX_NOTE_SIGNATURES + 1}`, () => {
    const unknownLines = Array.from({ length: MAX_NOTE_SIGNATURES }, (_, i) => {
      const blob = Buffer.alloc(68, i);
      return `\u2014 unknown${i}.test ${blob.toString('base64')}\n`;
    });
    const good = str(sign(TREE_TEXT, [signer1]));
    const at = good + unknownLines.slice(1).join('');
    const n = open(bytes(at), verifierSet([verifier1]));
    assert.equal(n.sigs.length + n.unverifiedSigs.length, MAX_NOTE_SIGNATURES);
    assert.throws(
      () => open(bytes(good + unknownLines.join('')), verifierSet([verifier1])),
      MalformedNoteError,
    );
  });
});

describe('sign refuses', () => {
  const table: [string, string, readonly Signer[], string][] = [
    ['empty text', '', [signer1], 'malformed_note'],
    ['text without final newline', 'abc', [signer1], 'malformed_note'],
    ['text with a NUL', 'a\u0000b\n', [signer1], 'malformed_note'],
    ['text with a carriage return', 'a\r\n', [signer1], 'malformed_note'],
    ['text with a tab', 'a\tb\n', [signer1], 'malformed_note'],
    ['text with a lone surrogate', 'a\ud800\n', [signer1], 'malformed_note'],
    ['no signers', 'a\n', [], 'bad_input'],
    ['over 100 signers', 'a\n', Array.from({ length: MAX_NOTE_SIGNATURES + 1 }, () => signer1), 'bad_input'],
    ['a signer name with a space', 'a\n', [{ ...signer1, name: 'a b' }], 'malformed_key'],
    ['a signer name with a plus', 'a\n', [{ ...signer1, name: 'a+b' }], 'malformed_key'],
    ['a signer name with a control character', 'a\n', [{ ...signer1, name: 'a\u0001' }], 'malformed_key'],
    ['a signer hash above 32 bits', 'a\n', [{ ...signer1, keyHash: 2 ** 32 }], 'malformed_key'],
    ['a negative signer hash', 'a\n', [{ ...signer1, keyHash: -1 }], 'malformed_key'],
    ['a fractional signer hash', 'a\n', [{ ...signer1, keyHash: 1.5 }], 'malformed_key'],
  ];
  for (const [what, text, signers, code] of table) {
    it(what, () => {
      assert.throws(
        () => sign(text, signers),
        (e: unknown) => e instanceof SumkeepError && e.code === code,
      );
    });
  }
});

describe('verifierSet', () => {
  it('finds a verifier by name and hash only', () => {
    const set = verifierSet([verifier1, verifierOther]);
    assert.equal(set(verifier1.name, verifier1.keyHash), verifier1);
    assert.equal(set(verifierOther.name, verifierOther.keyHash), verifierOther);
    assert.equal(set(verifier1.name, verifierOther.keyHash), undefined);
    assert.equal(set(verifierOther.name, verifier1.keyHash), undefined);
  });

  it('refuses two verifiers with the same name and hash (ambiguous key)', () => {
    assert.throws(
      () => verifierSet([verifier1, newVerifier(key1.vkey)]),
      (e: unknown) =>
        e instanceof SumkeepError && e.code === 'malformed_key' && e.message.includes('ambiguous key'),
    );
  });

  it('accepts two keys with the same name and different hashes', () => {
    const set = verifierSet([verifier1, verifier2]);
    assert.equal(set(verifier2.name, verifier2.keyHash), verifier2);
  });
});

describe('open refuses malformed notes', () => {
  const sig1 = str(sign(TREE_TEXT, [signer1]))
    .slice(TREE_TEXT.length + 1)
    .trimEnd();
  const b64 = sig1.split(' ')[2]!;
  const known = verifierSet([verifier1]);
  const table: [string, Uint8Array][] = [
    ['empty input', new Uint8Array(0)],
    ['text only', bytes(TREE_TEXT)],
    ['no blank line', bytes(`${TREE_TEXT}${sig1}\n`)],
    ['blank line without signatures', bytes(`${TREE_TEXT}\n`)],
    ['two blank lines and nothing after', bytes(`${TREE_TEXT}\n\n`)],
    ['missing final newline', bytes(`${TREE_TEXT}\n${sig1}`)],
    ['hyphen instead of em dash', bytes(`${TREE_TEXT}\n- ${signer1.name} ${b64}\n`)],
    ['en dash instead of em dash', bytes(`${TREE_TEXT}\n\u2013 ${signer1.name} ${b64}\n`)],
    ['em dash without space', bytes(`${TREE_TEXT}\n\u2014${signer1.name} ${b64}\n`)],
    ['two spaces after em dash (empty name)', bytes(`${TREE_TEXT}\n\u2014  ${signer1.name} ${b64}\n`)],
    ['name with plus', bytes(`${TREE_TEXT}\n\u2014 a+b ${b64}\n`)],
    ['no signature after the name', bytes(`${TREE_TEXT}\n\u2014 ${signer1.name}\n`)],
    ['empty signature', bytes(`${TREE_TEXT}\n\u2014 ${signer1.name} \n`)],
    ['trailing space', bytes(`${TREE_TEXT}\n${sig1} \n`)],
    ['two spaces before signature', bytes(`${TREE_TEXT}\n\u2014 ${signer1.name}  ${b64}\n`)],
    ['unpadded base64', bytes(`${TREE_TEXT}\n\u2014 ${signer1.name} ${b64.replace(/=+$/, '')}\n`)],
    [
      'url-safe base64',
      bytes(`${TREE_TEXT}\n\u2014 ${signer1.name} ${b64.replace(/\+/g, '-').replace(/\//g, '_')}_\n`),
    ],
    ['non-canonical base64 (unused bits set)', bytes(`${TREE_TEXT}\n\u2014 ${signer1.name} AAAAAAB=\n`)],
    ['signature of 4 bytes (hash only)', bytes(`${TREE_TEXT}\n\u2014 ${signer1.name} AAAAAA==\n`)],
    ['bad base64', bytes(`${TREE_TEXT}\n\u2014 ${signer1.name} !!!notbase64\n`)],
    ['carriage return', bytes(`${TREE_TEXT}\n${sig1}\r\n`)],
    ['tab in the text', bytes(`a\tb\n\n${sig1}\n`)],
    ['NUL in the text', bytes(`a\u0000b\n\n${sig1}\n`)],
    ['NUL in the signature line', bytes(`${TREE_TEXT}\n${sig1}\u0000\n`)],
    ['invalid UTF-8 byte', new Uint8Array([...bytes('a'), 0xff, ...bytes(`\n\n${sig1}\n`)])],
    ['overlong UTF-8', new Uint8Array([...bytes('a'), 0xc0, 0xaf, ...bytes(`\n\n${sig1}\n`)])],
    [
      'UTF-8 encoded lone surrogate',
      new Uint8Array([...bytes('a'), 0xed, 0xa0, 0x80, ...bytes(`\n\n${sig1}\n`)]),
    ],
    [
      'truncated UTF-8 em dash',
      new Uint8Array([...bytes(`${TREE_TEXT}\n`), 0xe2, 0x80, ...bytes(` x ${b64}\n`)]),
    ],
  ];
  for (const [what, msg] of table) {
    it(what, () => {
      assert.throws(
        () => open(msg, known),
        (e: unknown) =>
          e instanceof MalformedNoteError &&
          e.code === 'malformed_note' &&
          e.message.includes('malformed note'),
      );
    });
  }
});

describe('open finds the text at the last blank line', () => {
  it('takes a blank line between signature lines as the end of the text, so the signature fails', () => {
    const sig1 = str(sign(TREE_TEXT, [signer1])).slice(TREE_TEXT.length + 1);
    const msg = bytes(`${TREE_TEXT}\n${sig1}\n${sig1}`);
    assert.throws(() => open(msg, verifierSet([verifier1])), InvalidSignatureError);
    // With the key unknown, the "text" is reported as everything up to the last blank line.
    assert.throws(
      () => open(msg, verifierSet([verifierOther])),
      (e: unknown) => e instanceof UnverifiedNoteError && e.note.text === `${TREE_TEXT}\n${sig1}`,
    );
  });
});

describe('signed note mutation sweep', () => {
  // A note with one signature by key1 and then one by key2, both known.
  const msg = sign(TREE_TEXT, [signer1, signer2]);
  const known = verifierSet([verifier1, verifier2]);
  const original = open(msg, known);
  const textEnd = bytes(TREE_TEXT).length; // text bytes are [0, textEnd), then the blank line "\n"
  const MASKS = [0x01, 0x80];

  // Property: after flipping any one byte of the note (xor 0x01 or xor 0x80), `open` either throws
  // a SumkeepError, or returns a note whose text is byte-for-byte the original text and whose
  // verified signatures are a subset of the original ones (same name, hash and base64): a flipped
  // note never yields a verified signature over a different text, nor a new verified signature.
  // Stronger, for flips in the text or the blank line, `open` throws. (A flip in one signature line
  // may still open: that line's key becomes unknown while the other line still verifies.)
  it('no flipped byte yields a verified signature over a different text', () => {
    let flips = 0;
    let threw = 0;
    let opened = 0;
    for (let i = 0; i < msg.length; i++) {
      for (const mask of MASKS) {
        const mutated = new Uint8Array(msg);
        mutated[i]! ^= mask;
        let n: Note | undefined;
        const err = onlySumkeepError(() => {
          n = open(mutated, known);
        }, `flip ${i}^${mask}`);
        flips++;
        if (err !== undefined) {
          threw++;
          continue;
        }
        assert.ok(n !== undefined);
        opened++;
        assert.ok(i > textEnd, `flip ${i}^${mask} in the text or blank line opened`);
        assert.equal(n.text, original.text, `flip ${i}^${mask}`);
        assert.ok(n.sigs.length >= 1);
        for (const s of n.sigs) {
          assert.ok(
            original.sigs.some((o) => o.name === s.name && o.hash === s.hash && o.base64 === s.base64),
            `flip ${i}^${mask}: new verified signature ${s.name}`,
          );
        }
      }
    }
    assert.equal(flips, msg.length * MASKS.length);
    assert.equal(threw + opened, flips);
    assert.ok(threw > 0 && opened > 0); // both branches of the property were exercised
  });
});

describe('hostile input to open', () => {
  const known = verifierSet([verifier1]);
  const good = sign(TREE_TEXT, [signer1]);

  it('throws only SumkeepError for random bytes', () => {
    const rnd = splitMix64Bytes(7, 300 * 400);
    let cases = 0;
    for (let n = 0; n < 400; n++) {
      const len = rnd[n]! + (n % 3) * 100;
      const msg = rnd.subarray(n * 300, n * 300 + len);
      assert.throws(() => open(msg, known), SumkeepError);
      cases++;
    }
    assert.equal(cases, 400);
  });

  it('throws only SumkeepError for a valid note with random bytes spliced in', () => {
    const rnd = splitMix64Bytes(8, 4 * 1000);
    let cases = 0;
    for (let n = 0; n < 1000; n++) {
      const at = (rnd[4 * n]! * 256 + rnd[4 * n + 1]!) % good.length;
      const insert = rnd.subarray(4 * n + 2, 4 * n + 2 + 1 + (rnd[4 * n + 3]! % 2));
      const msg = new Uint8Array([...good.subarray(0, at), ...insert, ...good.subarray(at)]);
      onlySumkeepError(() => {
        const note = open(msg, known);
        // If it opens at all, it can only be the original text (e.g. bytes inserted in no place
        // that matters do not exist: every byte is signed or parsed).
        assert.equal(note.text, TREE_TEXT);
      }, `splice at ${at}`);
      cases++;
    }
    assert.equal(cases, 1000);
  });

  const hostile: [string, () => unknown][] = [
    ['a 8 MiB note', () => open(new Uint8Array(8 << 20).fill(0x61), known)],
    ['MAX_NOTE_SIZE + 1 bytes of newlines', () => open(new Uint8Array(MAX_NOTE_SIZE + 1).fill(0x0a), known)],
    [
      'five thousand signature lines',
      () => open(bytes(str(good) + `\u2014 x ${Buffer.alloc(68).toString('base64')}\n`.repeat(5000)), known),
    ],
    [
      'ten thousand empty signature lines',
      () => open(bytes(`${TREE_TEXT}\n${'\u2014 \n'.repeat(10000)}`), known),
    ],
    ['a string instead of bytes', () => open(str(good) as unknown as Uint8Array, known)],
    ['null instead of bytes', () => open(null as unknown as Uint8Array, known)],
    ['an array of numbers', () => open([...good] as unknown as Uint8Array, known)],
    ['only NUL bytes', () => open(new Uint8Array(64), known)],
    ['only em dashes', () => open(bytes('\u2014'.repeat(1000)), known)],
  ];
  for (const [what, fn] of hostile) {
    it(`refuses ${what} with a SumkeepError`, () => {
      assert.throws(fn, (e: unknown) => e instanceof MalformedNoteError);
    });
  }

  it('refuses a note whose verified key is looked up through a lying VerifierSet', () => {
    const liar = (): Verifier => verifierOther;
    assert.throws(() => open(good, liar), SumkeepError);
  });
});
