import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeZip } from '../helpers/zipwriter.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sumkeep-cli-hash-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI as a user would from the repository: `node --import tsx src/cli/main.ts ...`. */
function sumkeep(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The vector "module zip layout with prefix" of test/vectors/go-reference.json, computed by Go.
const vectors = JSON.parse(
  fs.readFileSync(new URL('../vectors/go-reference.json', import.meta.url), 'utf8'),
) as {
  dirhash: Array<{ files: Array<{ name: string; content_b64: string }>; h1: string }>;
  gomod_hash: Array<{ content: string; h1: string }>;
};
const vector = vectors.dirhash.find(
  (v) => v.files.length > 0 && v.files.every((f) => f.name.startsWith('example.com/a@v1.0.0/')),
)!;
const goodZip = writeZip(
  path.join(dir, 'good.zip'),
  vector.files.map((f) => ({ name: f.name, content: Buffer.from(f.content_b64, 'base64') })),
);
const badZip = writeZip(path.join(dir, 'bad.zip'), [
  { name: 'example.com/a@v1.0.0/go.mod', content: 'module example.com/a\n' },
  { name: 'example.com/a@v1.0.0/../evil', content: 'x' },
]);

describe('sumkeep hash zip', () => {
  it('prints the h1: hash and a newline, exit 0', () => {
    const r = sumkeep('hash', 'zip', goodZip);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, vector.h1 + '\n');
    assert.equal(r.code, 0);
  });

  it('takes --module <path>@<version>', () => {
    const r = sumkeep('hash', 'zip', goodZip, '--module', 'example.com/a@v1.0.0');
    assert.equal(r.stdout, vector.h1 + '\n');
    assert.equal(r.code, 0);
  });

  it('refuses a zip of another module version than --module says: exit 1, rule on stderr', () => {
    const r = sumkeep('hash', 'zip', goodZip, '--module', 'example.com/a@v1.0.1');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^sumkeep: outside module prefix: example\.com\/a@v1\.0\.0\/\S+ \(want example\.com\/a@v1\.0\.1\/\)\n$/,
    );
  });

  it('refuses an invalid zip: exit 1, the rule and the entry on stderr, nothing on stdout', () => {
    const r = sumkeep('hash', 'zip', badZip);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'sumkeep: path traversal: example.com/a@v1.0.0/../evil\n');
  });

  it('refuses a file that is not a zip: exit 1', () => {
    const file = path.join(dir, 'text.zip');
    fs.writeFileSync(file, 'hello\n');
    const r = sumkeep('hash', 'zip', file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sumkeep: not a zip file: /);
  });

  it('exits 2 for a malformed --module', () => {
    const r = sumkeep('hash', 'zip', goodZip, '--module', 'example.com/a');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--module/);
  });

  it('exits 2 for an invalid module version in --module', () => {
    const r = sumkeep('hash', 'zip', goodZip, '--module', 'example.com/a@v1.0');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /v1\.0/);
  });

  it('exits 2 for a missing file', () => {
    const r = sumkeep('hash', 'zip', path.join(dir, 'missing.zip'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot open/);
  });

  it('exits 2 without a file argument', () => {
    assert.equal(sumkeep('hash', 'zip').code, 2);
  });
});

describe('sumkeep hash mod', () => {
  it('prints the go.mod hash and a newline, exit 0', () => {
    const v = vectors.gomod_hash[0]!;
    const file = path.join(dir, 'go.mod');
    fs.writeFileSync(file, v.content);
    const r = sumkeep('hash', 'mod', file);
    assert.equal(r.stdout, v.h1 + '\n');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
  });

  it('exits 2 for a missing file', () => {
    const r = sumkeep('hash', 'mod', path.join(dir, 'missing.mod'));
    assert.equal(r.code, 2);
  });
});
