import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSumkeepError } from '../../src/core/errors.ts';
import { generateKey, newVerifier } from '../../src/core/note.ts';
import { initAuthority } from '../../src/keys/ceremony.ts';
import {
  createNoteKey,
  loadNoteKeys,
  noteKeyName,
  notePublicKey,
  writeNoteKey,
} from '../../src/keys/notekey.ts';
import { rotateKey } from '../../src/keys/rotate.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sumkeep-notekey-'));
}

describe('createNoteKey', () => {
  it('writes note.key 0600 and note.pub 0644 and refuses to overwrite them', () => {
    const dir = tempDir();
    const vkey = createNoteKey(dir, 'sum.nk.test');
    assert.equal(statSync(join(dir, 'note.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'note.pub')).mode & 0o777, 0o644);
    const before = readFileSync(join(dir, 'note.key'));
    assert.throws(
      () => createNoteKey(dir, 'sum.nk.test'),
      (e: unknown) => isSumkeepError(e, 'key_exists'),
    );
    assert.deepEqual(readFileSync(join(dir, 'note.key')), before);
    assert.equal(loadNoteKeys(dir).verifierKey, vkey);
  });
});

describe('notePublicKey', () => {
  it('gives the Ed25519 key of a verifier key, also when its base64 holds "+"', () => {
    let seen = 0;
    for (let i = 0; i < 64 && seen < 3; i++) {
      const { vkey } = generateKey('sum.pk.test');
      const b64 = vkey.split('+').slice(2).join('+');
      if (b64.includes('+')) seen++;
      const raw = notePublicKey(vkey).export({ type: 'spki', format: 'der' }).subarray(12);
      assert.equal(Buffer.concat([Buffer.of(1), raw]).toString('base64'), b64);
    }
    assert.ok(seen > 0, 'no key with "+" in 64 tries');
    const { vkey } = generateKey('sum.pk.test');
    assert.equal(noteKeyName(vkey), vkey.split('+').slice(0, 2).join('+'));
    assert.equal(newVerifier(vkey).name, 'sum.pk.test');
  });
});

describe('loadNoteKeys', () => {
  it('without certificates: every key signs, note.key first, generations in numeric order', () => {
    const dir = tempDir();
    const v0 = createNoteKey(dir, 'sum.legacy.test');
    const v2 = writeNoteKey(dir, 2, 'sum.legacy.test');
    const v10 = writeNoteKey(dir, 10, 'sum.legacy.test');
    const k = loadNoteKeys(dir);
    assert.equal(k.verifierKey, v0);
    assert.deepEqual(
      k.keys.map((x) => x.verifierKey),
      [v0, v2, v10],
    );
    assert.equal(k.signers.length, 3);
  });

  it('refuses note keys of different logs and directories without a note key', () => {
    const dir = tempDir();
    createNoteKey(dir, 'sum.a.test');
    writeNoteKey(dir, 1, 'sum.b.test');
    assert.throws(
      () => loadNoteKeys(dir),
      (e: unknown) => isSumkeepError(e, 'config') && /log name/.test(e.message),
    );
    assert.throws(
      () => loadNoteKeys(tempDir()),
      (e: unknown) => isSumkeepError(e, 'config') && /ceremony init/.test(e.message),
    );
  });

  it('with certificates: the newest valid key is primary; an uncertified key is refused', () => {
    const dir = tempDir();
    const first = initAuthority({ name: 'sum.cert.test', keysDir: dir });
    const r = rotateKey({ keysDir: dir, purpose: 'note' });
    const k = loadNoteKeys(dir);
    assert.equal(k.verifierKey, r.verifierKey);
    assert.deepEqual(
      k.keys.map((x) => x.generation),
      [1, 0],
    );
    assert.equal(k.keys[1]!.verifierKey, first.verifierKey);
    writeNoteKey(dir, 5, 'sum.cert.test');
    assert.throws(
      () => loadNoteKeys(dir),
      (e: unknown) => isSumkeepError(e, 'config') && /note-5\.key has no certificate/.test(e.message),
    );
  });

  it('reports a malformed key file by name without quoting it', () => {
    const dir = tempDir();
    createNoteKey(dir, 'sum.bad.test');
    const secret = readFileSync(join(dir, 'note.key'), 'utf8').trim();
    unlinkSync(join(dir, 'note.key'));
    writeFileSync(join(dir, 'note.key'), secret.slice(0, -4) + 'AAAA\n');
    assert.throws(
      () => loadNoteKeys(dir),
      (e: unknown) =>
        isSumkeepError(e, 'config') && /note\.key/.test(e.message) && !e.message.includes(secret.slice(20)),
    );
  });
});
