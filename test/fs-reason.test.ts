import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fsReason } from '../src/fs-reason.ts';

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('did not fail');
}

describe('fsReason', () => {
  it('keeps the code, the description and the system call, and drops the paths', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sumkeep-fsreason-'));
    const file = join(dir, 'f');
    await writeFile(file, '');
    const notDir = await failure(mkdtemp(join(file, 'x-')));
    assert.equal(fsReason(notDir), 'ENOTDIR: not a directory (mkdtemp)');
    const missing = await failure(open(join(dir, 'missing, with a comma'), 'r'));
    assert.equal(fsReason(missing), 'ENOENT: no such file or directory (open)');
    for (const e of [notDir, missing]) assert.ok(!fsReason(e).includes(dir));
  });

  it('says "system error" for anything without an error code, and never echoes odd text', () => {
    assert.equal(fsReason(new Error('/secret/path broke')), 'system error');
    assert.equal(fsReason(null), 'system error');
    assert.equal(fsReason('ENOENT'), 'system error');
    assert.equal(
      fsReason(Object.assign(new Error("EIO: i/o error '/x', read"), { code: 'EIO', syscall: 'read' })),
      'EIO (read)',
    );
    assert.equal(
      fsReason({ code: 'EACCES', syscall: "open '/x'", message: 'EACCES: permission denied' }),
      'EACCES: permission denied',
    );
  });
});
