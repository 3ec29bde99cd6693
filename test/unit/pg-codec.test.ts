import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serialize } from 'pg-protocol';
import { BackendFramer, decodeErrorFields, errorResponse } from '../../src/fronts/postgres/backend-codec.js';
import {
  decodeBind,
  decodeExecute,
  decodeParse,
  decodeQuery,
  decodeStartup,
  decodeTarget,
  type Frame,
  Frontend,
  FrontendFramer,
  MAX_AUTH_MESSAGE,
} from '../../src/fronts/postgres/frontend-codec.js';
import { PgError } from '../../src/fronts/postgres/pg-error.js';

function frames(framer: FrontendFramer): Frame[] {
  const out: Frame[] = [];
  for (let f = framer.next(); f !== undefined; f = framer.next()) out.push(f);
  return out;
}

describe('frontend codec', () => {
  const stream = Buffer.concat([
    serialize.parse({ name: 's1', text: 'SELECT $1::int', types: [23] }),
    serialize.bind({ statement: 's1', portal: 'p', values: ['7', null] }),
    serialize.describe({ type: 'P', name: 'p' }),
    serialize.execute({ portal: 'p', rows: 10 }),
    serialize.sync(),
    serialize.query('SELECT 1'),
  ]);

  it('decodes a pipelined batch in one chunk', () => {
    const f = new FrontendFramer();
    f.push(stream);
    const got = frames(f);
    assert.deepEqual(
      got.map((x) => String.fromCharCode(x.type)),
      ['P', 'B', 'D', 'E', 'S', 'Q'],
    );
    assert.deepEqual(decodeParse((got[0] as Frame).payload), {
      name: 's1',
      sql: 'SELECT $1::int',
      paramTypes: [23],
    });
    const b = decodeBind((got[1] as Frame).payload);
    assert.equal(b.portal, 'p');
    assert.equal(b.statement, 's1');
    assert.equal(b.params[0]?.toString(), '7');
    assert.equal(b.params[1], null);
    assert.deepEqual(decodeTarget((got[2] as Frame).payload), { kind: 'P', name: 'p' });
    assert.deepEqual(decodeExecute((got[3] as Frame).payload), { portal: 'p', maxRows: 10 });
    assert.equal(decodeQuery((got[5] as Frame).payload), 'SELECT 1');
    assert.equal(
      Buffer.concat(got.map((x) => x.raw)).equals(stream),
      true,
      'raw bytes are forwarded unchanged',
    );
  });

  it('yields the same messages however the bytes are split', () => {
    for (const size of [1, 2, 3, 5, 7, 13]) {
      const f = new FrontendFramer();
      const got: Frame[] = [];
      for (let i = 0; i < stream.length; i += size) {
        f.push(stream.subarray(i, i + size));
        got.push(...frames(f));
      }
      assert.equal(got.length, 6, `chunk size ${size}`);
      assert.equal(Buffer.concat(got.map((x) => x.raw)).equals(stream), true);
    }
  });

  it('decodes startup packets split across chunks', () => {
    const startup = serialize.startup({ user: 'bot', database: 'app', options: '-c airlock.reason=x' });
    const f = new FrontendFramer();
    f.push(startup.subarray(0, 3));
    assert.equal(f.nextStartup(), undefined);
    f.push(startup.subarray(3));
    const p = decodeStartup((f.nextStartup() as Frame).payload);
    assert.equal(p.kind, 'startup');
    if (p.kind === 'startup') assert.equal(p.params.get('user'), 'bot');
    assert.deepEqual(decodeStartup(serialize.requestSsl().subarray(4)), { kind: 'ssl' });
  });

  it('refuses hostile lengths and truncated bodies with SQLSTATE 08P01', () => {
    const f = new FrontendFramer();
    f.push(Buffer.from([Frontend.query, 0x7f, 0xff, 0xff, 0xff]));
    assert.throws(
      () => f.next(),
      (e: PgError) => e.code === '08P01',
    );
    const g = new FrontendFramer();
    g.push(Buffer.from([Frontend.query, 0, 0, 0, 2]));
    assert.throws(
      () => g.next(),
      (e: PgError) => e.code === '08P01',
    );
    assert.throws(
      () => decodeQuery(Buffer.from('no terminator')),
      (e: PgError) => e.code === '08P01',
    );
    assert.throws(
      () => decodeBind(Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 99])),
      (e: PgError) => e.code === '08P01',
    );
    const h = new FrontendFramer();
    h.push(Buffer.from([0, 0, 0, 2]));
    assert.throws(
      () => h.nextStartup(),
      (e: PgError) => e.code === '08P01',
    );
  });

  it('refuses a SASL message past PG_MAX_AUTH_TOKEN_LENGTH from its header alone', () => {
    const f = new FrontendFramer();
    const hdr = Buffer.from([Frontend.password, 0, 0, 0, 0]);
    hdr.writeInt32BE(MAX_AUTH_MESSAGE + 5, 1);
    f.push(hdr);
    assert.throws(
      () => f.next(MAX_AUTH_MESSAGE),
      (e: PgError) => e.code === '08P01',
    );
  });

  it('assembles a large message from many chunks', () => {
    const sql = 'x'.repeat(3_000_000);
    const msg = serialize.query(sql);
    const f = new FrontendFramer();
    for (let i = 0; i < msg.length; i += 1000) {
      f.push(msg.subarray(i, i + 1000));
      if (i + 1000 < msg.length) assert.equal(f.next(), undefined);
    }
    const got = f.next();
    assert.equal(got === undefined ? '' : decodeQuery(got.payload), sql);
    assert.equal(f.buffered, 0);
  });
});

describe('backend codec', () => {
  it('frames the upstream stream across chunks and renders errors with SQLSTATE', () => {
    const err = errorResponse(new PgError('42501', 'nope', { detail: 'd', hint: 'h' }));
    const z = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
    const all = Buffer.concat([err, z]);
    const fr = new BackendFramer();
    const seen: number[] = [];
    let forwarded = 0;
    for (const b of all) forwarded += fr.push(Buffer.from([b]), (_buf, f) => seen.push(f.type)).length;
    assert.deepEqual(seen, [0x45, 0x5a]);
    assert.equal(forwarded, all.length);
    const fields = decodeErrorFields(err.subarray(5));
    assert.equal(fields.get('C'), '42501');
    assert.equal(fields.get('M'), 'nope');
    assert.equal(fields.get('H'), 'h');
  });
});
