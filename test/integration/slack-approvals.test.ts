/**
 * Approvals in Slack through the real @slack/web-api client pointed at a strict Slack
 * stand-in, with interaction requests signed as Slack signs them. Requests are held
 * with the real DynamoDB SDK; the same Decider and guards as the API decide.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { channelCommand } from '../../src/cli/channel-commands.js';
import { guardsYaml } from '../support/console.js';
import { type Harness, startHarness, waitForPending } from '../support/harness.js';
import { reviewClick, send, signedRequest, submission, TEAM } from '../support/slack-interactions.js';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-stand-in.js';

const BOT = 'xoxb-1234-5678-airlock-test-bot';
const SECRET = 'slack-signing-secret-for-tests';
const USERS = { alice: 'U0ALICE', bob: 'U0BOB', carol: 'U0CAROL', mallory: 'U0MALLORY' } as const;

const slackYaml = (url: string) => `slack:
  bot_token_env: AIRLOCK_TEST_SLACK_BOT
  signing_secret_env: AIRLOCK_TEST_SLACK_SECRET
  api_url: ${url}
  channels:
    dba: C0DBA
    finance: C0FIN
`;

async function start(opts: { holdWindowSeconds?: number; approvalTtlSeconds?: number } = {}) {
  process.env.AIRLOCK_TEST_SLACK_BOT = BOT;
  process.env.AIRLOCK_TEST_SLACK_SECRET = SECRET;
  const slack = await startSlackStandIn({ botToken: BOT, channels: ['C0DBA', 'C0FIN'] });
  const h = await startHarness({
    ...opts,
    policy: resolve('test/fixtures/policies/slack.cedar'),
    extraYaml: `${guardsYaml(2)}${slackYaml(slack.url)}`,
  });
  // alice through the CLI command, the others straight on the store.
  const code = await channelCommand(
    h.config,
    'approvers link',
    'alice',
    { slack: USERS.alice },
    () => undefined,
  );
  assert.equal(code, 0);
  for (const name of ['bob', 'carol', 'mallory'] as const)
    assert.equal(await h.airlock.store.linkApproverSlack(name, USERS[name], new Date()), true);
  return { h, slack };
}

const text = (v: unknown) => JSON.stringify(v);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The message posted for `approvalId` (its Review button names it). */
async function messageFor(slack: SlackStandIn, approvalId: string) {
  for (let i = 0; i < 250; i++) {
    const m = [...slack.messages.values()].find((x) => text(x.blocks).includes(`"value":"${approvalId}"`));
    if (m) return m;
    await sleep(20);
  }
  throw new Error(`no message for ${approvalId}`);
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('Slack approvals', () => {
  let h: Harness;
  let slack: SlackStandIn;
  const post = (payload: unknown, ts?: number, secret = SECRET) =>
    send(h.airlock.apiUrl, signedRequest(secret, payload, ts));

  /** Clicks Review as `user` and returns the modal Slack was asked to open. */
  async function review(user: string, approvalId: string): Promise<Record<string, unknown>> {
    const m = await messageFor(slack, approvalId);
    const before = slack.calls.filter((c) => c.method === 'views.open').length;
    const r = await post(
      reviewClick({ user, approvalId, channel: m.channel, ts: m.ts, trigger: slack.trigger() }),
    );
    assert.equal(r.status, 200);
    const opened = await slack.waitFor('views.open', before + 1);
    return opened.at(-1)?.args.view as Record<string, unknown>;
  }

  before(async () => {
    ({ h, slack } = await start());
  });
  after(async () => {
    await h.close();
    await slack.close();
  });

  it('posts the six items with a Review button only; the modal shows them, the policy and the grant; guards hold', async () => {
    const alice = h.approvers.alice ?? '';
    const put = h
      .client({ reason: 'INC-42 fix order 17' })
      .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 's-1' } } }));
    const id = String((await waitForPending(h, alice, 'PutItem')).id);
    const m = await messageFor(slack, id);
    assert.equal(m.channel, 'C0DBA');
    const msg = text(m.blocks);
    for (const item of [
      'billing-bot',
      'dynamodb:PutItem',
      'table/orders',
      'INC-42 fix order 17',
      'critical',
      'Waiting:',
    ])
      assert.ok(msg.includes(item), `message lacks ${item}`);
    const buttons = m.blocks
      .flatMap(
        (b) =>
          ((b as { elements?: unknown[] }).elements ?? []) as { type?: string; text?: { text: string } }[],
      )
      .filter((e) => e.type === 'button');
    assert.deepEqual(
      buttons.map((b) => b.text?.text),
      ['Review'],
    );
    assert.doesNotMatch(msg, /"text":"Approve"/);

    const view = await review(USERS.alice, id);
    const modal = text(view.blocks);
    for (const item of [
      'billing-bot',
      'dynamodb:PutItem',
      'table/orders',
      'INC-42 fix order 17',
      'critical',
      'Waiting:',
    ])
      assert.ok(modal.includes(item), `modal lacks ${item}`);
    assert.match(modal, /orders-writes-critical/, 'the holding policy');
    assert.match(modal, /Approving would create this grant/);
    assert.match(modal, /for up to 1h 0m after approval/);
    assert.match(modal, /Type orders to approve/);
    // The open is alice's first view: the review clock started on the server.
    assert.ok((await h.airlock.store.shownAt(id, 'alice')) !== undefined);

    const early = await post(
      submission({
        user: USERS.alice,
        view,
        verdict: 'approve',
        comment: 'checked INC-42',
        confirm: 'orders',
      }),
    );
    assert.equal(early.body?.response_action, 'errors');
    assert.match(text(early.body?.errors), /need 2s of review/);
    await sleep(2100);
    const unconfirmed = await post(
      submission({
        user: USERS.alice,
        view,
        verdict: 'approve',
        comment: 'checked INC-42',
        confirm: 'order',
      }),
    );
    assert.match(
      text((unconfirmed.body?.errors as Record<string, string>)?.confirm),
      /type the resource name/,
    );
    const uncommented = await post(
      submission({ user: USERS.alice, view, verdict: 'approve', confirm: 'orders' }),
    );
    assert.ok((uncommented.body?.errors as Record<string, string>)?.comment);
    assert.deepEqual(await h.airlock.store.decisions(id), [], 'refused submissions record nothing');

    const ok = await post(
      submission({
        user: USERS.alice,
        view,
        verdict: 'approve',
        comment: 'checked INC-42',
        confirm: 'orders',
      }),
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.body, undefined, 'an empty 200 closes the modal');
    await put;
    const [d] = await h.airlock.store.decisions(id);
    assert.equal(d?.channel, 'slack');
    assert.equal(d?.approver, 'alice');
    assert.deepEqual(d?.slack, {
      user: USERS.alice,
      team: TEAM,
      permalink: `https://airlock-test.slack.com/archives/C0DBA/p${m.ts.replace('.', '')}`,
    });
    assert.ok((d?.reviewSeconds ?? 0) >= 2);
    // In the ledger too, not only in the table.
    const decided = (await h.airlock.store.ledger({ approvalId: id })).find(
      (e) => e.kind === 'approval.decided',
    );
    assert.match(decided?.body ?? '', /"channel":"slack"/);
    assert.match(decided?.body ?? '', /U0ALICE/);

    await until('message updated', () =>
      text(slack.messages.get(`${m.channel}:${m.ts}`)?.blocks).includes('Approved'),
    );
    const updated = text(slack.messages.get(`${m.channel}:${m.ts}`)?.blocks);
    assert.match(updated, /alice\* approved via slack/);
    assert.match(updated, /checked INC-42/);
    assert.match(updated, /\*Grant\* `gr_/);
    assert.match(updated, /expires \d{4}-\d\d-\d\d/);
    assert.doesNotMatch(updated, /airlock_review/, 'no Review button once decided');
  });

  it('an unlinked Slack user gets an ephemeral refusal and nothing is recorded; group membership comes from Airlock', async () => {
    const alice = h.approvers.alice ?? '';
    const put = h
      .client({ reason: 'backfill customers' })
      .send(new PutItemCommand({ TableName: 'customers', Item: { id: { S: 'u-1' } } }))
      .catch((e: Error) => e);
    const id = String((await waitForPending(h, alice, 'PutItem')).id);
    const m = await messageFor(slack, id);
    const opens = slack.calls.filter((c) => c.method === 'views.open').length;
    const r = await post(
      reviewClick({
        user: 'U0STRANGER',
        approvalId: id,
        channel: m.channel,
        ts: m.ts,
        trigger: slack.trigger(),
      }),
    );
    assert.equal(r.status, 200);
    const eph = (await slack.waitFor('chat.postEphemeral')).at(-1);
    assert.equal(eph?.args.user, 'U0STRANGER');
    assert.match(String(eph?.args.text), /not an Airlock approver/);
    // mallory is linked but not in dba: in the channel does not make one an approver.
    await post(
      reviewClick({
        user: USERS.mallory,
        approvalId: id,
        channel: m.channel,
        ts: m.ts,
        trigger: slack.trigger(),
      }),
    );
    const eph2 = (await slack.waitFor('chat.postEphemeral', 2)).at(-1);
    assert.match(String(eph2?.args.text), /not in an approver group/);
    assert.equal(slack.calls.filter((c) => c.method === 'views.open').length, opens);
    // A forged-in submission by the stranger (a modal it never had) decides nothing either.
    const fake = { callback_id: 'airlock_review_modal', private_metadata: JSON.stringify({ a: id }) };
    const s = await post(submission({ user: 'U0STRANGER', view: fake, verdict: 'deny', comment: 'no' }));
    assert.equal(s.body?.response_action, 'errors');
    const kinds = (await h.airlock.store.ledger({ approvalId: id })).map((e) => e.kind);
    assert.deepEqual(kinds, ['approval.requested']);

    // A denial needs a comment; then bob denies and the message says so.
    const view = await review(USERS.bob, id);
    const bare = await post(submission({ user: USERS.bob, view, verdict: 'deny' }));
    assert.match(text((bare.body?.errors as Record<string, string>)?.comment), /denial needs a comment/);
    const denied = await post(
      submission({ user: USERS.bob, view, verdict: 'deny', comment: 'no ticket for this' }),
    );
    assert.equal(denied.status, 200);
    assert.equal(denied.body, undefined);
    const err = await put;
    assert.ok(err instanceof Error);
    assert.match(err.message, /denied by bob: no ticket for this/);
    await until('message updated', () =>
      text(slack.messages.get(`${m.channel}:${m.ts}`)?.blocks).includes('Denied'),
    );
  });

  it('refuses a forged signature, a stale timestamp and a replayed payload', async () => {
    const click = reviewClick({
      user: USERS.alice,
      approvalId: 'apr_none',
      channel: 'C0DBA',
      ts: '1.1',
      trigger: slack.trigger(),
    });
    const callsBefore = slack.calls.length;
    const forged = await post(click, undefined, 'not-the-signing-secret');
    assert.equal(forged.status, 401);
    assert.equal(forged.body?.error, 'signature-forged');
    const stale = await post(click, Math.floor(Date.now() / 1000) - 6 * 60);
    assert.equal(stale.status, 401);
    assert.equal(stale.body?.error, 'signature-stale');
    const unsigned = await fetch(`${h.airlock.apiUrl}/v1/slack/interactions`, {
      method: 'POST',
      body: 'payload=%7B%7D',
    });
    assert.equal(unsigned.status, 401);
    assert.equal(slack.calls.length, callsBefore, 'nothing refused reached Slack');
    const req = signedRequest(SECRET, click);
    assert.equal((await send(h.airlock.apiUrl, req)).status, 200);
    const replay = await send(h.airlock.apiUrl, req);
    assert.equal(replay.status, 401);
    assert.equal(replay.body?.error, 'signature-replayed');
  });

  it('reaches a quorum of two with one Slack and one API approval', async () => {
    const bob = h.approvers.bob ?? '';
    const put = h
      .client({ reason: 'month-end close' })
      .send(new PutItemCommand({ TableName: 'ledger', Item: { id: { S: 'q-1' } } }));
    const id = String((await waitForPending(h, bob, 'PutItem')).id);
    const m = await messageFor(slack, id);
    assert.equal(m.channel, 'C0FIN');
    const view = await review(USERS.carol, id);
    assert.match(text(view.blocks), /finance: 2 approval\(s\) needed/);
    const first = await post(
      submission({ user: USERS.carol, view, verdict: 'approve', comment: 'matches the close plan' }),
    );
    assert.equal(first.status, 200);
    assert.equal(first.body, undefined);
    await until('vote shown', () =>
      text(slack.messages.get(`${m.channel}:${m.ts}`)?.blocks).includes('carol* approved via slack'),
    );
    assert.match(text(slack.messages.get(`${m.channel}:${m.ts}`)?.blocks), /Pending/);

    assert.equal((await h.api('GET', `/v1/approvals/${id}`, bob)).status, 200);
    const second = await h.api('POST', `/v1/approvals/${id}/approve`, bob, { comment: 'ok' });
    assert.equal(second.status, 200);
    assert.equal(second.body.state, 'approved');
    await put;
    const channels = (await h.airlock.store.decisions(id)).map((d) => [d.approver, d.channel]);
    assert.deepEqual(channels, [
      ['carol', 'slack'],
      ['bob', 'api'],
    ]);
    await until('approved shown', () =>
      text(slack.messages.get(`${m.channel}:${m.ts}`)?.blocks).includes('Approved'),
    );
    assert.match(text(slack.messages.get(`${m.channel}:${m.ts}`)?.blocks), /bob\* approved via api/);
  });
});

describe('Slack messages after a lapse and an expiry', () => {
  let h: Harness;
  let slack: SlackStandIn;
  before(async () => {
    ({ h, slack } = await start({ holdWindowSeconds: 1, approvalTtlSeconds: 3 }));
  });
  after(async () => {
    await h.close();
    await slack.close();
  });

  it('says the request stopped waiting, then that the approval expired', async () => {
    const alice = h.approvers.alice ?? '';
    const put = h
      .client({ reason: 'nightly sync' })
      .send(new PutItemCommand({ TableName: 'customers', Item: { id: { S: 'l-1' } } }))
      .catch((e: Error) => e);
    const id = String((await waitForPending(h, alice, 'PutItem')).id);
    const m = await messageFor(slack, id);
    const err = await put;
    assert.ok(err instanceof Error);
    const key = `${m.channel}:${m.ts}`;
    await until('lapse shown', () => text(slack.messages.get(key)?.blocks).includes('Lapsed'));
    assert.match(text(slack.messages.get(key)?.blocks), /airlock_review/, 'still reviewable while open');
    await until(
      'expiry shown',
      () => text(slack.messages.get(key)?.blocks).includes('Expired undecided'),
      8000,
    );
  });
});
