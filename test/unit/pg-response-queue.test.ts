import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BackendFrame,
  BackendFramer,
  errorResponse,
  readyForQuery,
} from '../../src/fronts/postgres/backend-codec.js';
import { PgError } from '../../src/fronts/postgres/pg-error.js';
import { ResponseQueue, Terminals } from '../../src/fronts/postgres/response-queue.js';

const msg = (type: string, body = Buffer.alloc(0)) => {
  const b = Buffer.alloc(5 + body.length);
  b.write(type, 0, 'latin1');
  b.writeInt32BE(4 + body.length, 1);
  body.copy(b, 5);
  return b;
};
const complete = (tag: string) => msg('C', Buffer.from(`${tag}\0`));
const err = (code: string) => errorResponse(new PgError(code, 'boom'));

function harness() {
  const out: Buffer[] = [];
  const q = new ResponseQueue((b) => out.push(b));
  const framer = new BackendFramer();
  const feed = (...parts: Buffer[]) => {
    const frames: BackendFrame[] = [];
    const buf = framer.push(Buffer.concat(parts), (_b, f) => frames.push(f));
    out.push(...q.relay(buf, frames, buf.length));
  };
  const types = () => {
    const all = Buffer.concat(out);
    let s = '';
    for (let p = 0; p + 5 <= all.length; p += 1 + all.readInt32BE(p + 1))
      s += String.fromCharCode(all[p] as number);
    return s;
  };
  return { q, feed, out, types };
}

describe('response queue', () => {
  it('writes a refusal after the responses to earlier messages, not before', async () => {
    const { q, feed, types } = harness();
    q.expect({ kind: 'simple', terminals: Terminals.query });
    q.synthetic((status) => ({
      bytes: Buffer.concat([err('42501'), readyForQuery(status)]),
      failsTransaction: true,
    }));
    assert.equal(types(), '', 'held back while the first query is in flight');
    const idle = q.idle();
    feed(complete('SELECT 1'), readyForQuery('I'));
    await idle;
    assert.equal(types(), 'CZEZ');
  });

  it('an upstream error in extended mode completes everything up to Sync, and drops a refusal in that stretch', () => {
    const { q, feed, types } = harness();
    const done: string[] = [];
    q.expect({
      kind: 'extended',
      terminals: Terminals.parse,
      onDone: (c) => done.push(`parse:${c.sqlstate}`),
    });
    q.expect({ kind: 'extended', terminals: Terminals.bind, onDone: (c) => done.push(`bind:${c.sqlstate}`) });
    q.synthetic(() => ({ bytes: err('42501'), failsTransaction: true }));
    feed(err('42P01'));
    assert.equal(q.upstreamSkipping, true);
    q.expect({ kind: 'extended', terminals: Terminals.execute }); // ignored by the upstream now
    q.expect({ kind: 'sync', terminals: Terminals.sync });
    assert.equal(q.upstreamSkipping, false);
    feed(readyForQuery('I'));
    assert.equal(types(), 'EZ');
    assert.deepEqual(done, ['parse:42P01', 'bind:42P01']);
    assert.equal(q.empty, true);
  });

  it("an entry sent to make the upstream fail has its ErrorResponse replaced by Airlock's", () => {
    const { q, feed, out } = harness();
    q.expect({ kind: 'extended', terminals: Terminals.parse });
    q.expect({ kind: 'extended', terminals: [], replaceError: err('42501') });
    feed(msg('1'), err('26000'));
    const all = Buffer.concat(out).toString('latin1');
    assert.match(all, /42501/);
    assert.doesNotMatch(all, /26000/);
    assert.equal(q.upstreamSkipping, true);
  });

  it('after a refusal inside a transaction block, ReadyForQuery T is reported as E until ROLLBACK', () => {
    const { q, feed, out } = harness();
    q.expect({ kind: 'simple', terminals: Terminals.query });
    feed(complete('BEGIN'), readyForQuery('T'));
    q.synthetic((status) => ({
      bytes: Buffer.concat([err('42501'), readyForQuery(status === 'T' ? 'E' : status)]),
      failsTransaction: true,
    }));
    assert.equal(q.failedTx, true);
    q.expect({ kind: 'sync', terminals: Terminals.sync });
    feed(readyForQuery('T'));
    assert.equal(out.at(-1)?.toString('latin1', 5), 'E');
    q.expect({ kind: 'simple', terminals: Terminals.query, clearsFailed: true });
    feed(complete('ROLLBACK'), readyForQuery('I'));
    assert.equal(q.failedTx, false);
    assert.equal(Buffer.concat(out).toString('latin1').endsWith('I'), true);
  });
});
