import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import {
  HandleInflater,
  StreamInflater,
  createRawInflater,
  handleInflateAvailable,
  type RawInflater,
} from '../../src/zip/inflate.ts';
import { incompressible } from '../helpers/zipwriter.ts';

/** Inflates `data` fed in pieces of `piece` bytes; returns the output (copied) or the error. */
async function run(inf: RawInflater, data: Uint8Array, piece: number): Promise<Buffer | Error> {
  const out: Buffer[] = [];
  const take = (b: Buffer) => out.push(Buffer.from(b));
  try {
    for (let i = 0; i < data.length; i += piece) {
      // A fresh copy each time, overwritten once written: the inflater must not keep it.
      const chunk = Buffer.from(data.subarray(i, i + piece));
      await inf.write(chunk, take);
      chunk.fill(0xaa);
    }
    await inf.end(take);
    return Buffer.concat(out);
  } catch (e) {
    return e as Error;
  } finally {
    inf.close();
    inf.close();
  }
}

const text = Buffer.from('func (t *tree) hash(i int64) []byte { return t.nodes[i] }\n'.repeat(100_000));
const random = Buffer.concat([...incompressible(3 << 20, 9)]);
const inputs: [string, Buffer][] = [
  ['empty content', Buffer.alloc(0)],
  ['a few bytes', Buffer.from('module example.com/a\n')],
  ['5.6 MiB of text (output larger than the buffer)', text],
  ['3 MiB of random bytes', random],
];

const kinds: [string, (out: Buffer) => RawInflater][] = [
  ['HandleInflater', (out) => new HandleInflater(out)],
  ['StreamInflater', () => new StreamInflater()],
];

describe('handleInflateAvailable', () => {
  it('is true on the Node the tests run on (else the memory bound of hashing does not hold)', () => {
    assert.equal(handleInflateAvailable(), true);
    assert.ok(createRawInflater() instanceof HandleInflater);
  });
});

for (const [kind, make] of kinds) {
  describe(kind, () => {
    for (const [what, content] of inputs) {
      for (const level of [0, 6]) {
        it(`gives what zlib.inflateRawSync gives for ${what} (level ${level}, odd pieces)`, async () => {
          const deflated = zlib.deflateRawSync(content, { level });
          for (const piece of [1 << 20, 65_537, 997]) {
            if (piece < 65_537 && deflated.length > 200_000) continue; // keep it quick
            const got = await run(make(Buffer.allocUnsafe(64 << 10)), deflated, piece);
            assert.ok(got instanceof Buffer, String(got));
            assert.ok(got.equals(content), `${what}, pieces of ${piece}`);
          }
        });
      }
    }

    it('ignores input after the end of the deflate stream, as zlib streams do', async () => {
      const d = Buffer.concat([zlib.deflateRawSync(text), Buffer.from('trailing garbage')]);
      const got = await run(make(Buffer.allocUnsafe(1 << 20)), d, 1 << 20);
      assert.ok(got instanceof Buffer && got.equals(text));
    });

    it('refuses a stream cut short and corrupt data with zlib errors', async () => {
      const d = zlib.deflateRawSync(text);
      const cut = await run(make(Buffer.allocUnsafe(1 << 20)), d.subarray(0, d.length >> 1), 4096);
      assert.ok(cut instanceof Error);
      assert.match(cut.message, /unexpected end of file/);
      const bad = await run(make(Buffer.allocUnsafe(1 << 20)), Buffer.from([0xff, 0xff, 0xff, 0x00]), 4);
      assert.ok(bad instanceof Error);
      assert.equal((bad as NodeJS.ErrnoException).code, 'Z_DATA_ERROR');
    });

    it('stops when take throws, and rethrows that error', async () => {
      const inf = make(Buffer.allocUnsafe(64 << 10));
      const boom = new Error('enough');
      let calls = 0;
      await assert.rejects(
        (async () => {
          await inf.write(zlib.deflateRawSync(text), () => {
            if (++calls === 2) throw boom;
          });
          await inf.end(() => undefined);
        })(),
        (e) => e === boom,
      );
      inf.close();
      assert.equal(calls, 2);
    });
  });
}
