/**
 * Console sessions against someone who already holds one (a stolen cookie, a
 * forgotten browser): a new password must end it, and the live queue stream must
 * stop as soon as its session could no longer open it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/api/passwords.js';
import { type ConsoleSession, signIn } from '../support/console.js';
import { type Harness, startHarness } from '../support/harness.js';

const OLD = 'correct horse battery staple';
const NEW = 'a different, longer passphrase';

/** Opens GET /v1/events with the session cookie; resolves true when the server ends the stream. */
async function streamEnds(h: Harness, s: ConsoleSession, whileOpen: () => Promise<void>): Promise<boolean> {
  const ac = new AbortController();
  const res = await fetch(`${h.airlock.apiUrl}/v1/events`, {
    headers: { cookie: s.cookie },
    signal: ac.signal,
  });
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /event: queue/);
  await whileOpen();
  const timeout = new Promise<'open'>((r) => setTimeout(() => r('open'), 3000).unref());
  const drain = (async () => {
    for (;;) if ((await reader.read()).done) return 'ended' as const;
  })();
  const outcome = await Promise.race([drain, timeout]);
  ac.abort();
  await drain.catch(() => undefined);
  return outcome === 'ended';
}

describe('console sessions: ending them really ends them', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  it('a new password (set as the CLI does, straight in the store) ends older sessions', async () => {
    await h.airlock.store.setApproverPassword('alice', await hashPassword(OLD), new Date());
    const stolen = await signIn(h, 'alice', OLD);
    assert.equal((await stolen.call('GET', '/v1/session')).status, 200);
    await h.airlock.store.setApproverPassword('alice', await hashPassword(NEW), new Date());
    const after = await stolen.call('GET', '/v1/approvals?status=pending');
    assert.equal(after.status, 401, JSON.stringify(after.body));
    assert.match(String(after.body.message), /password changed/);
    const fresh = await signIn(h, 'alice', NEW);
    assert.equal((await fresh.call('GET', '/v1/session')).status, 200);
  });

  it('the live queue stream ends at sign-out', async () => {
    await h.airlock.store.setApproverPassword('bob', await hashPassword(OLD), new Date());
    const s = await signIn(h, 'bob', OLD);
    const ended = await streamEnds(h, s, async () => {
      assert.equal((await s.call('DELETE', '/v1/session')).status, 200);
    });
    assert.equal(ended, true, 'the event stream kept streaming the queue after sign-out');
  });

  it('the live queue stream ends when the password changes', async () => {
    await h.airlock.store.setApproverPassword('carol', await hashPassword(OLD), new Date());
    const s = await signIn(h, 'carol', OLD);
    const ended = await streamEnds(h, s, async () => {
      await h.airlock.store.setApproverPassword('carol', await hashPassword(NEW), new Date());
    });
    assert.equal(ended, true, 'the event stream kept streaming the queue after a password change');
  });
});
