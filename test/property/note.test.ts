// Properties of signed notes and note keys (src/core/note.ts, src/core/note-keys.ts): every key
// generateKey writes parses back to the same key, every note sign writes opens to the same text,
// hostile or damaged keys and notes raise only SumkeepError, and no damaged note ever opens.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesEqual, fromBase64 } from '../../src/core/bytes.ts';
import {
  MAX_KEY_STRING_LENGTH,
  generateKey,
  newSigner,
  newVerifier,
  open,
  sign,
  verifierKeyFromSignerKey,
  verifierSet,
} from '../../src/core/note.ts';
import {
  attempt,
  attemptWithCodes,
  editsArb,
  fc,
  mutateBytes,
  mutateString,
  noiseBytes,
  noiseString,
} from './fc.ts';

const KEY_CODES = ['malformed_key'];
const OPEN_CODES = ['malformed_note', 'no_verifiable_signature', 'invalid_signature'];

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** Key names: anything (most are invalid), plausible ones, and long ones near the key-string bound. */
const nameArb = fc.oneof(
  noiseString,
  fc.stringMatching(/^[A-Za-z0-9.\-_]{1,20}$/),
  fc
    .tuple(
      fc.stringMatching(/^[a-z.\u00e9\u{1f600}]{1,3}$/u),
      fc.integer({ min: MAX_KEY_STRING_LENGTH / 4, max: MAX_KEY_STRING_LENGTH / 2 }),
    )
    .map(([piece, times]) => piece.repeat(times).slice(0, MAX_KEY_STRING_LENGTH + 100)),
);

const FIXED = generateKey('PeterNeumann', new Uint8Array(32).fill(7));
const fixedSigner = newSigner(FIXED.skey);
const fixedVerifiers = verifierSet([newVerifier(FIXED.vkey)]);

/** A key string with its 8-hex-digit hash field in lower case (the field is read in either case). */
function lowerHash(key: string, hashField: number): string {
  const parts = key.split('+');
  if (parts.length <= hashField) return key;
  parts[hashField] = parts[hashField]!.toLowerCase();
  return parts.join('+');
}

describe('note keys', () => {
  it('generateKey writes only keys that newSigner, newVerifier and verifierKeyFromSignerKey read back', () => {
    fc.assert(
      fc.property(nameArb, seedArb, (name, seed) => {
        const made = attemptWithCodes(KEY_CODES, () => generateKey(name, seed));
        if (!made.ok) return;
        const { skey, vkey } = made.value;
        const v = attempt(() => newVerifier(vkey));
        const s = attempt(() => newSigner(skey));
        assert.ok(v.ok, `verifier key of a generated key refused: ${v.ok ? '' : v.error.message}`);
        assert.ok(s.ok, `signer key of a generated key refused: ${s.ok ? '' : s.error.message}`);
        assert.equal(v.value.name, name);
        assert.equal(s.value.name, name);
        assert.equal(v.value.keyHash, s.value.keyHash);
        assert.equal(verifierKeyFromSignerKey(skey), vkey);
        // The canonical form: lower-case hash digits, then base64(0x01 || 32-byte public key).
        const head = `${name}+${v.value.keyHash.toString(16).padStart(8, '0')}+`;
        assert.ok(vkey.startsWith(head));
        const key = fromBase64(vkey.slice(head.length));
        assert.ok(key !== null && key.length === 33 && key[0] === 1);
        const msg = new TextEncoder().encode('text\n');
        assert.ok(v.value.verify(msg, s.value.sign(msg)));
      }),
      { numRuns: 100 },
    );
  });

  it('newVerifier, newSigner and verifierKeyFromSignerKey raise only malformed_key on arbitrary strings', () => {
    fc.assert(
      fc.property(noiseString, (s) => {
        attemptWithCodes(KEY_CODES, () => newVerifier(s));
        attemptWithCodes(KEY_CODES, () => newSigner(s));
        attemptWithCodes(KEY_CODES, () => verifierKeyFromSignerKey(s));
        attemptWithCodes(KEY_CODES, () => newVerifier(`PeterNeumann+c74f20a3+${s}`));
        attemptWithCodes(KEY_CODES, () => newSigner(`PRIVATE+KEY+PeterNeumann+c74f20a3+${s}`));
      }),
    );
  });

  it('a damaged key string is refused, unless only the case of its hash digits changed', () => {
    fc.assert(
      fc.property(editsArb, (edits) => {
        const vkey = mutateString(FIXED.vkey, edits);
        const skey = mutateString(FIXED.skey, edits);
        const v = attemptWithCodes(KEY_CODES, () => newVerifier(vkey));
        if (v.ok) assert.equal(lowerHash(vkey, 1), FIXED.vkey, `damaged verifier key accepted: ${vkey}`);
        const s = attemptWithCodes(KEY_CODES, () => newSigner(skey));
        if (s.ok) assert.equal(lowerHash(skey, 3), FIXED.skey, 'damaged signer key accepted');
        const k = attemptWithCodes(KEY_CODES, () => verifierKeyFromSignerKey(skey));
        if (k.ok) assert.equal(k.value, FIXED.vkey);
      }),
      { numRuns: 150 },
    );
  });
});

/** Note texts: arbitrary Unicode lines (controls removed), blank lines and all, ending in "\n". */
const textArb = fc.oneof(
  fc
    .array(fc.string({ unit: 'grapheme', maxLength: 40 }), { minLength: 1, maxLength: 6 })
    // eslint-disable-next-line no-control-regex
    .map((lines) => lines.join('\n').replace(/[\u0000-\u0009\u000b-\u001f]/g, '') + '\n'),
  fc.constantFrom('\n', '\n\n', 'a\n\n\n', '\ufeffBOM\n', 'go.sum database tree\n1\nAAAA\n'),
  noiseString,
);

describe('sign and open', () => {
  it('every note sign writes opens to its text, signed by its one signer', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        const signed = attemptWithCodes(['malformed_note'], () => sign(text, [fixedSigner]));
        if (!signed.ok) return;
        const n = open(signed.value, fixedVerifiers);
        assert.equal(n.text, text);
        assert.deepEqual(
          n.sigs.map((s) => [s.name, s.hash]),
          [[fixedSigner.name, fixedSigner.keyHash]],
        );
        assert.deepEqual(n.unverifiedSigs, []);
      }),
    );
  });

  it('open raises only note errors on arbitrary bytes', () => {
    fc.assert(
      fc.property(noiseBytes, (b) => {
        attemptWithCodes(OPEN_CODES, () => open(b, fixedVerifiers));
        attemptWithCodes(OPEN_CODES, () => open(b, () => undefined));
      }),
    );
  });

  it('no damaged note opens, and damage raises only note errors', () => {
    const good = sign('go.sum database tree\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', [
      fixedSigner,
    ]);
    fc.assert(
      fc.property(editsArb, (edits) => {
        const bad = mutateBytes(good, edits);
        fc.pre(!bytesEqual(bad, good));
        const r = attemptWithCodes(OPEN_CODES, () => open(bad, fixedVerifiers));
        assert.ok(!r.ok, `damaged note opened: ${JSON.stringify(Buffer.from(bad).toString())}`);
      }),
      { numRuns: 200 },
    );
  });
});
