/**
 * Runs a statement through Airlock and makes sure it ends refused: denied by policy at
 * once, refused outright (a pinned setting), or held and then denied by an approver.
 */
import assert from 'node:assert/strict';
import { decide, type PgHarness } from './pg-harness.js';

export async function refused(
  h: PgHarness,
  run: () => Promise<unknown>,
  codes: readonly string[] = ['42501'],
): Promise<'denied' | 'held'> {
  const state: { settled?: { ok: boolean; err?: Error & { code?: string } } } = {};
  const settled = () => state.settled;
  const p = run().then(
    () => {
      state.settled = { ok: true };
    },
    (err: Error & { code?: string }) => {
      state.settled = { ok: false, err };
    },
  );
  for (let i = 0; i < 400; i++) {
    if (state.settled !== undefined) break;
    const r = await h.api('GET', '/v1/approvals?status=pending', h.approvers.alice ?? '');
    const pending = (r.body.approvals as Array<Record<string, unknown>>)[0];
    if (pending !== undefined) {
      await decide(h, String(pending.id), 'deny', 'issue 21 regression');
      await p;
      assert.equal(settled()?.ok, false, 'a denied statement must fail');
      assert.equal(settled()?.err?.code, '42501');
      return 'held';
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  await p;
  assert.equal(settled()?.ok, false, 'the statement ran without approval');
  assert.ok(
    codes.includes(settled()?.err?.code ?? ''),
    `${settled()?.err?.code}: ${settled()?.err?.message}`,
  );
  return 'denied';
}
