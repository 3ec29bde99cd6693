/**
 * Builds ledgers for the audit-check tests through the real Store API (SqliteStore),
 * so the entries are exactly what the gateway writes. One scenario per failure mode
 * and the passes; EXPECTED lists the finding codes each approval must produce.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openMasterKey, openStore } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { ActionRecord, Approval, Grant, Scope } from '../../src/core/types.js';
import type { Store } from '../../src/ledger/store.js';

export const T0 = Date.parse('2026-03-02T09:00:00Z');
const at = (day: number, s: number): Date => new Date(T0 + day * 86400_000 + s * 1000);
const ARN = (t: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${t}`;
const put = (t = 'orders'): Scope => ({ action: 'dynamodb:PutItem', resource: ARN(t) });

interface Scenario {
  id: string;
  day: number;
  agent?: string;
  scopes?: Scope[];
  reason?: string | undefined;
  /** undefined: stays pending. */
  decide?: {
    approver: string;
    verdict: 'approve' | 'deny';
    /** seconds after the request the approver opened the detail (undefined: never). */
    shownAfter?: number | undefined;
    decidedAfter: number;
    grantSeconds?: number;
    grantScopes?: Scope[];
    maxUses?: number;
  };
  /** Actions after the decision: [seconds after request, scope, opts]. */
  actions?: {
    after: number;
    scope?: Scope;
    outcome?: 'allowed' | 'approved';
    approvalId?: string;
    noGrant?: boolean;
  }[];
  revokeAfter?: number;
}

const GOOD_REASON = (n: string) => `Refund order ${n} after the duplicate charge in ticket FIN-${n}`;

const stamp = (n: number): Scenario => ({
  id: `ap-stamp-${n}`,
  day: 4 + (n % 3),
  reason: 'Routine maintenance per runbook',
  decide: { approver: 'carol', verdict: 'approve', shownAfter: 5, decidedAfter: 7, grantSeconds: 900 },
  actions: [{ after: 20 }],
});

export const SCENARIOS: Scenario[] = [
  {
    id: 'ap-good',
    day: 0,
    reason: GOOD_REASON('8812'),
    decide: { approver: 'alice', verdict: 'approve', shownAfter: 10, decidedAfter: 130, grantSeconds: 900 },
    actions: [{ after: 131, outcome: 'approved' }, { after: 200 }],
  },
  {
    id: 'ap-good-2',
    day: 1,
    reason: GOOD_REASON('9031'),
    decide: {
      approver: 'alice',
      verdict: 'approve',
      shownAfter: 40,
      decidedAfter: 400,
      grantSeconds: 600,
      maxUses: 2,
    },
    actions: [{ after: 401, outcome: 'approved' }],
  },
  {
    id: 'ap-denied',
    day: 1,
    reason: GOOD_REASON('9100'),
    decide: { approver: 'bob', verdict: 'deny', shownAfter: 5, decidedAfter: 95 },
  },
  {
    id: 'ap-shared',
    day: 2,
    agent: 'shared-ops',
    reason: GOOD_REASON('1201'),
    decide: { approver: 'alice', verdict: 'approve', shownAfter: 3, decidedAfter: 200, grantSeconds: 900 },
    actions: [{ after: 201 }],
  },
  {
    id: 'ap-unknown-agent',
    day: 2,
    agent: 'ghost-bot',
    reason: GOOD_REASON('1202'),
    decide: { approver: 'alice', verdict: 'approve', shownAfter: 3, decidedAfter: 200, grantSeconds: 900 },
    actions: [{ after: 201 }],
  },
  {
    id: 'ap-wildcard',
    day: 2,
    scopes: [{ action: 'dynamodb:*', resource: ARN('*') }],
    reason: GOOD_REASON('1203'),
    decide: { approver: 'alice', verdict: 'approve', shownAfter: 3, decidedAfter: 200, grantSeconds: 900 },
    actions: [{ after: 201 }],
  },
  {
    id: 'ap-no-reason',
    day: 3,
    reason: undefined,
    decide: { approver: 'alice', verdict: 'approve', shownAfter: 3, decidedAfter: 200, grantSeconds: 900 },
    actions: [{ after: 201 }],
  },
  {
    id: 'ap-trivial-reason',
    day: 3,
    reason: 'asdf',
    decide: { approver: 'alice', verdict: 'approve', shownAfter: 3, decidedAfter: 200, grantSeconds: 900 },
    actions: [{ after: 201 }],
  },
  stamp(1),
  stamp(2),
  stamp(3),
  stamp(4),
  stamp(5),
  {
    id: 'ap-unviewed',
    day: 5,
    reason: GOOD_REASON('1301'),
    decide: { approver: 'dave', verdict: 'approve', decidedAfter: 300, grantSeconds: 900 },
    actions: [{ after: 301 }],
  },
  {
    id: 'ap-fast',
    day: 5,
    reason: GOOD_REASON('1302'),
    decide: { approver: 'dave', verdict: 'approve', shownAfter: 100, decidedAfter: 104, grantSeconds: 900 },
    actions: [{ after: 105 }],
  },
  {
    id: 'ap-unauthenticated',
    day: 6,
    reason: GOOD_REASON('1401'),
    decide: { approver: 'mallory', verdict: 'approve', shownAfter: 3, decidedAfter: 200, grantSeconds: 900 },
    actions: [{ after: 201 }],
  },
  {
    id: 'ap-self',
    day: 6,
    reason: GOOD_REASON('1402'),
    decide: {
      approver: 'billing-bot',
      verdict: 'approve',
      shownAfter: 3,
      decidedAfter: 200,
      grantSeconds: 900,
    },
    actions: [{ after: 201 }],
  },
  {
    id: 'ap-broad-grant',
    day: 7,
    reason: GOOD_REASON('1501'),
    decide: {
      approver: 'alice',
      verdict: 'approve',
      shownAfter: 3,
      decidedAfter: 200,
      grantSeconds: 900,
      grantScopes: [put(), { action: 'dynamodb:DeleteItem', resource: ARN('orders') }],
    },
    actions: [{ after: 201 }],
  },
  {
    id: 'ap-unused-grant',
    day: 7,
    reason: GOOD_REASON('1502'),
    decide: { approver: 'alice', verdict: 'approve', shownAfter: 3, decidedAfter: 200, grantSeconds: 7200 },
  },
  {
    id: 'ap-outside',
    day: 8,
    reason: GOOD_REASON('1601'),
    decide: {
      approver: 'alice',
      verdict: 'approve',
      shownAfter: 3,
      decidedAfter: 200,
      grantSeconds: 600,
      maxUses: 2,
    },
    actions: [
      { after: 201, outcome: 'approved' },
      { after: 250, scope: { action: 'dynamodb:DeleteItem', resource: ARN('ledger') } },
      { after: 2000 },
    ],
  },
  {
    id: 'ap-mismatch',
    day: 8,
    reason: GOOD_REASON('1602'),
    decide: { approver: 'alice', verdict: 'approve', shownAfter: 3, decidedAfter: 200, grantSeconds: 900 },
    actions: [{ after: 201, approvalId: 'ap-good' }],
  },
  {
    id: 'ap-revoked-then-used',
    day: 8,
    reason: GOOD_REASON('1603'),
    decide: { approver: 'alice', verdict: 'approve', shownAfter: 3, decidedAfter: 200, grantSeconds: 900 },
    revokeAfter: 210,
    actions: [{ after: 201 }, { after: 300 }],
  },
  {
    id: 'ap-denied-but-ran',
    day: 9,
    reason: GOOD_REASON('1701'),
    decide: { approver: 'bob', verdict: 'deny', shownAfter: 5, decidedAfter: 95 },
    actions: [{ after: 96, approvalId: 'ap-denied-but-ran', noGrant: true }],
  },
  { id: 'ap-pending', day: 9, reason: GOOD_REASON('1801') },
];

/** Finding codes each scored approval must produce (exactly). */
export const EXPECTED: Record<string, string[]> = {
  'ap-good': [],
  'ap-good-2': [],
  'ap-denied': [],
  'ap-shared': ['requester.shared-role'],
  'ap-unknown-agent': ['requester.unknown-key'],
  'ap-wildcard': ['request.wildcard-action', 'request.wildcard-resource'],
  'ap-no-reason': ['reason.missing'],
  'ap-trivial-reason': ['reason.trivial'],
  ...Object.fromEntries(
    [1, 2, 3, 4, 5].map((n) => [
      `ap-stamp-${n}`,
      ['decisions.rubber-stamp-approver', 'decisions.rubber-stamp-fast', 'reason.boilerplate'],
    ]),
  ),
  'ap-unviewed': ['decisions.detail-not-viewed'],
  'ap-fast': ['decisions.rubber-stamp-fast'],
  'ap-unauthenticated': ['decisions.unauthenticated-approver'],
  'ap-self': ['decisions.self-approved', 'decisions.unauthenticated-approver'],
  'ap-broad-grant': ['grant.broader-than-request'],
  'ap-unused-grant': ['grant.unused-long-lived'],
  'ap-outside': ['actions.outside-grant-scope', 'actions.outside-grant-time', 'actions.over-max-uses'],
  'ap-mismatch': ['actions.mismatched-link'],
  'ap-revoked-then-used': ['actions.outside-grant-time'],
  'ap-denied-but-ran': ['actions.action-after-denial'],
};

/** Orphan actions the generator writes, by code. */
export const EXPECTED_ORPHANS = [
  'actions.dangling-approval',
  'actions.dangling-grant',
  'actions.unapproved-action',
];

export async function writeScenarios(store: Store): Promise<void> {
  const key = () => randomBytes(10).toString('hex');
  for (const name of ['billing-bot', 'shared-ops'])
    await store.createAgent({
      name,
      accessKeyId: `ALAK${key().toUpperCase().slice(0, 16)}`,
      sealedSecret: 'sealed-for-tests',
      createdAt: new Date(T0 - 86400_000),
      revokedAt: undefined,
    });
  for (const name of ['alice', 'bob', 'carol', 'dave'])
    await store.createApprover({
      name,
      groups: ['dba'],
      tokenHash: key(),
      createdAt: new Date(T0 - 86400_000),
      revokedAt: undefined,
    });
  let n = 0;
  const action = (over: Partial<ActionRecord>): ActionRecord => ({
    requestId: `req-${++n}`,
    at: new Date(T0),
    agent: 'billing-bot',
    front: 'aws',
    service: 'dynamodb',
    operation: 'PutItem',
    scopes: [put()],
    outcome: 'allowed',
    policyReasons: ['orders-writes-need-dba'],
    upstreamStatus: 200,
    latencyMs: 3,
    grantId: undefined,
    approvalId: undefined,
    error: undefined,
    ...over,
  });
  for (const s of SCENARIOS) {
    const agent = s.agent ?? 'billing-bot';
    const scopes = s.scopes ?? [put()];
    const approval: Approval = {
      id: s.id,
      requestId: `req-${s.id}`,
      agent,
      service: 'dynamodb',
      operation: 'PutItem',
      scopes,
      reason: s.reason,
      summary: { table: 'orders' },
      policyReasons: ['orders-writes-need-dba'],
      terms: {
        requirements: [{ group: 'dba', quorum: 1, policyId: 'orders-writes-need-dba' }],
        maxGrantSeconds: 7200,
        requireReason: true,
      },
      status: 'pending',
      createdAt: at(s.day, 0),
      expiresAt: at(s.day, 900),
      decidedAt: undefined,
      grantId: undefined,
    };
    await store.createApproval(approval);
    const d = s.decide;
    if (d === undefined) continue;
    if (d.shownAfter !== undefined) await store.markShown(s.id, d.approver, at(s.day, d.shownAfter));
    const decidedAt = at(s.day, d.decidedAfter);
    const grant: Grant | undefined =
      d.verdict === 'approve'
        ? {
            id: `gr-${s.id}`,
            approvalId: s.id,
            agent,
            scopes: d.grantScopes ?? scopes,
            issuedAt: decidedAt,
            expiresAt: new Date(decidedAt.getTime() + (d.grantSeconds ?? 900) * 1000),
            maxUses: d.maxUses,
            uses: 0,
            revokedAt: undefined,
            revokedBy: undefined,
          }
        : undefined;
    await store.recordDecision(
      {
        approvalId: s.id,
        approver: d.approver,
        verdict: d.verdict,
        comment: d.verdict === 'deny' ? 'not during the freeze' : 'checked',
        channel: 'api',
        shownAt: d.shownAfter === undefined ? undefined : at(s.day, d.shownAfter),
        decidedAt,
      },
      d.verdict === 'approve' ? { status: 'approved', ...(grant ? { grant } : {}) } : { status: 'denied' },
    );
    if (s.revokeAfter !== undefined && grant)
      await store.revokeGrant(grant.id, 'alice', at(s.day, s.revokeAfter));
    for (const a of s.actions ?? [])
      await store.recordAction(
        action({
          at: at(s.day, a.after),
          agent,
          scopes: [a.scope ?? scopes[0] ?? put()],
          outcome: a.outcome ?? 'allowed',
          grantId: a.noGrant ? undefined : grant?.id,
          approvalId: a.approvalId ?? s.id,
        }),
      );
  }
  // Actions that needed an approval they do not have.
  await store.recordAction(action({ at: at(9, 500), approvalId: 'ap-nonexistent' }));
  await store.recordAction(action({ at: at(9, 501), grantId: 'gr-nope' }));
  await store.recordAction(action({ at: at(9, 502) }));
  // A read nobody needs approval for: not an orphan.
  await store.recordAction(
    action({
      at: at(9, 503),
      operation: 'GetItem',
      scopes: [{ action: 'dynamodb:GetItem', resource: ARN('orders') }],
    }),
  );
}

/** A data dir + airlock.yaml whose ledger holds the scenarios; for the CLI and HTML tests. */
export async function writeScenarioConfig(dir: string, extraYaml = ''): Promise<string> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const policy = join(dir, 'p.cedar');
  writeFileSync(policy, 'permit (principal, action, resource);\n');
  const yaml = `data_dir: ${join(dir, 'data')}\naws:\n  account_id: "123456789012"\npolicies:\n  - ${policy}\n${extraYaml}`;
  const path = join(dir, 'airlock.yaml');
  writeFileSync(path, yaml);
  const config = parseConfig(yaml, path);
  const store = openStore(config, openMasterKey(config));
  try {
    await writeScenarios(store);
  } finally {
    await store.close();
  }
  return path;
}
