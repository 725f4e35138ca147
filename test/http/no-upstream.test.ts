/** A server without an upstream (--upstream off, GOPROXY=off): what the go command sees. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatRecordLines } from '../../src/core/gosum.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { parseRecord } from '../../src/core/tlog/index.ts';
import { makeAuthority } from '../helpers/authority.ts';
import { fakeHash, startApp, type App } from '../helpers/inprocess.ts';

describe('lookups on a server without an upstream', () => {
  let s: App;
  before(async () => {
    s = await startApp(makeAuthority({ name: 'no-upstream.test' }).keys, { upstream: null });
  });
  after(async () => s.close());

  it('answers 404 with one line saying the server has no upstream', async () => {
    const r = await s.app.inject('/lookup/example.com/m@v1.0.0');
    assert.equal(r.statusCode, 404);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal(r.body, 'example.com/m@v1.0.0: not in the log, and this server has no upstream\n');
    // The same for the signed go.sum API, which also fills on demand.
    const g = await s.app.inject('/api/v1/gosum/example.com/m@v1.0.0');
    assert.equal(g.statusCode, 404, g.body);
    assert.match(g.body, /this server has no upstream\n$/);
  });

  it('still answers for versions already in the log (ingested)', async () => {
    const path = 'example.com/ingested';
    const text = formatRecordLines(
      path,
      'v1.0.0',
      fakeHash(path, 'v1.0.0', 'zip'),
      fakeHash(path, 'v1.0.0', 'go.mod'),
    );
    await s.service.sequencer.add({ path, version: 'v1.0.0', text: utf8(text), source: 'ingest:test' });
    const r = await s.app.inject(`/lookup/${path}@v1.0.0`);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(new TextDecoder().decode(parseRecord(r.rawPayload).text), text);
  });
});
