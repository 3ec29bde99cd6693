/**
 * The six items, one pure function each, over a normalized ApprovalRecord.
 * Each returns named findings (`item.reason`); an item holds only when it has none.
 * "Not recorded" is a finding of kind `unproven`: a workflow is decorative exactly
 * when its record cannot show what was approved, so absence never passes.
 */
import type { Scope } from '../core/types.js';
import {
  type ApprovalRecord,
  type Finding,
  globMatch,
  type ItemName,
  type ItemResult,
  type RecordAction,
  type Thresholds,
} from './record.js';
import { isFast, minReviewFor, viewedDetail } from './review-time.js';

/** What a check needs beyond its own record: computed once over all records. */
export interface CheckContext {
  readonly thresholds: Thresholds;
  readonly now: Date;
  /** normalized reason text → number of records that give it. */
  readonly reasonCounts: ReadonlyMap<string, number>;
  /** Approvers whose pattern is a rubber stamp (approver-metrics.ts). */
  readonly rubberStampers: ReadonlySet<string>;
}

const fail = (code: string, message: string): Finding => ({ code, message, kind: 'fail' });
const unproven = (code: string, message: string): Finding => ({ code, message, kind: 'unproven' });
const result = (item: ItemName, findings: Finding[]): ItemResult => ({
  item,
  ok: findings.length === 0,
  findings,
});

/** Lower-cased, whitespace collapsed, surrounding punctuation and quotes dropped. */
export function normalizeReason(reason: string): string {
  // Trimmed by hand: an end-anchored /[…]+$/ rescans from every position (quadratic on hostile input).
  const chars = [...reason.toLowerCase().replace(/\s+/g, ' ')];
  const edge = (c: string | undefined) => c !== undefined && /^[\s\p{P}]$/u.test(c);
  let a = 0;
  let b = chars.length;
  while (a < b && edge(chars[a])) a++;
  while (b > a && edge(chars[b - 1])) b--;
  return chars.slice(a, b).join('');
}

/** ARN of an IAM role (not an assumed-role session) or a generic session name: a shared identity. */
function isSharedAwsPrincipal(name: string): boolean {
  if (/^arn:aws[\w-]*:iam::\d*:role\//.test(name)) return true;
  const m = /^arn:aws[\w-]*:sts::\d*:assumed-role\/[^/]+\/(.+)$/.exec(name);
  return (
    m !== undefined &&
    m !== null &&
    /^(i-[0-9a-f]+|botocore-session-\d+|\d+|aws-go-sdk-\d+)$/.test(m[1] ?? '')
  );
}

export function checkRequester(r: ApprovalRecord, ctx: CheckContext): ItemResult {
  const f: Finding[] = [];
  const name = r.requester.name?.trim() ?? '';
  if (name === '') return result('requester', [unproven('requester.missing', 'no requester recorded')]);
  if (/^(AKIA|ASIA|ALAK)[A-Z0-9]{12,}$/.test(name))
    f.push(
      fail('requester.unknown-key', `requester is a bare access key id (${name}), not a named identity`),
    );
  else if (!r.requester.known)
    f.push(fail('requester.unknown-key', `requester ${name} is not an identity the source issued`));
  if (isSharedAwsPrincipal(name) || ctx.thresholds.sharedIdentities.some((g) => globMatch(g, name)))
    f.push(fail('requester.shared-role', `requester ${name} is a shared role, not one agent`));
  return result('requester', f);
}

const wildcard = (s: string) => s.includes('*') || s.includes('?');

export function checkRequest(r: ApprovalRecord): ItemResult {
  const f: Finding[] = [];
  if (r.request.scopes.length === 0) {
    const text = r.request.text?.trim() ?? '';
    if (text === '')
      return result('request', [unproven('request.missing', 'no resource or action recorded')]);
    return result('request', [fail('request.vague', `"${text}" names no specific resource and action`)]);
  }
  for (const s of r.request.scopes) {
    if (s.action.trim() === '' || s.resource.trim() === '')
      f.push(fail('request.incomplete', `scope "${s.action} ${s.resource}" lacks an action or a resource`));
    if (wildcard(s.resource))
      f.push(fail('request.wildcard-resource', `resource ${s.resource} is a wildcard`));
    if (wildcard(s.action)) f.push(fail('request.wildcard-action', `action ${s.action} is a wildcard`));
  }
  return result('request', f);
}

export function checkReason(r: ApprovalRecord, ctx: CheckContext): ItemResult {
  const raw = r.reason?.trim() ?? '';
  if (raw === '') return result('reason', [fail('reason.missing', 'no reason given')]);
  const norm = normalizeReason(raw);
  const f: Finding[] = [];
  const trivial = new Set(ctx.thresholds.trivialReasons.map(normalizeReason));
  if (trivial.has(norm) || !/\p{L}{2}/u.test(norm) || /^(.)\1*$/u.test(norm) || norm.length < 4)
    f.push(fail('reason.trivial', `reason "${raw}" says nothing`));
  const repeats = ctx.reasonCounts.get(norm) ?? 0;
  if (repeats >= ctx.thresholds.boilerplateMinRepeats)
    f.push(fail('reason.boilerplate', `reason "${raw}" is repeated word for word in ${repeats} requests`));
  return result('reason', f);
}

export function checkDecision(r: ApprovalRecord, ctx: CheckContext): ItemResult {
  const f: Finding[] = [];
  const override = ctx.thresholds.minReviewSeconds;
  const inRecord = r.decisions.filter((d) => d.inRecord);
  if (inRecord.length === 0) {
    const elsewhere = r.decisions.find((d) => d.channel !== undefined)?.channel;
    return result('decisions', [
      unproven(
        'decisions.not-in-record',
        elsewhere === undefined
          ? `the record says ${r.status} but holds no decision`
          : `the decision lived in ${elsewhere}; the record holds no decision by a named approver`,
      ),
    ]);
  }
  for (const d of inRecord) {
    const who = d.approver?.trim() ?? '';
    if (who === '') {
      f.push(unproven('decisions.no-approver', 'a decision names no approver'));
      continue;
    }
    if (!d.authenticated)
      f.push(fail('decisions.unauthenticated-approver', `${who} is a name, not an authenticated approver`));
    if (r.requester.name !== undefined && who === r.requester.name)
      f.push(fail('decisions.self-approved', `${who} approved their own request`));
    if (d.verdict === undefined) f.push(unproven('decisions.no-verdict', `${who}'s verdict is not recorded`));
    if (d.verdict !== 'approve') continue;
    if (isFast(r, d, override))
      f.push(
        fail(
          'decisions.rubber-stamp-fast',
          `${who} approved after under ${Math.ceil(minReviewFor(r, d, override))}s of review (${override === undefined ? "the tier's minimum or the time to read what was shown" : 'the --min-review-seconds override'})`,
        ),
      );
    if (viewedDetail(r, d) === false)
      f.push(
        fail('decisions.detail-not-viewed', `${who} approved without ever opening the request's detail`),
      );
    if (ctx.rubberStampers.has(who))
      f.push(
        fail('decisions.rubber-stamp-approver', `${who} approves almost everything fast and never denies`),
      );
  }
  if (r.status === 'approved' && !inRecord.some((d) => d.verdict === 'approve'))
    f.push(
      unproven('decisions.status-without-verdict', 'marked approved, but no approving decision is recorded'),
    );
  return result('decisions', f);
}

/** `inner` is within `outer`: same action and resource, or matched by outer's wildcard. */
export function scopeCovers(outer: Scope, inner: Scope): boolean {
  return globMatch(outer.action, inner.action) && globMatch(outer.resource, inner.resource);
}

const ran = (a: RecordAction) => a.outcome === 'allowed' || a.outcome === 'approved';

export function checkGrant(r: ApprovalRecord, ctx: CheckContext): ItemResult {
  const g = r.grant;
  if (r.status === 'denied')
    return result(
      'grant',
      g === undefined ? [] : [fail('grant.issued-on-denial', 'a denied request has a grant')],
    );
  if (g === undefined)
    return result('grant', [unproven('grant.missing', 'approved, but no grant is recorded')]);
  const f: Finding[] = [];
  if (g.scopes === undefined || g.scopes.length === 0)
    f.push(unproven('grant.no-scope', 'the grant records no scope: what it allowed cannot be shown'));
  if (g.expiresAt === undefined)
    f.push(
      unproven(
        'grant.no-lifetime',
        'the grant records no lifetime: it never ends, as far as the record shows',
      ),
    );
  if (g.scopes !== undefined && g.scopes.length > 0) {
    if (r.request.scopes.length === 0)
      f.push(
        unproven(
          'grant.broader-than-request',
          'the request named no scope, so the grant cannot be shown to match it',
        ),
      );
    else
      for (const s of g.scopes)
        if (!r.request.scopes.some((q) => scopeCovers(q, s)))
          f.push(
            fail(
              'grant.broader-than-request',
              `grant covers ${s.action} ${s.resource}, which was not asked for`,
            ),
          );
  }
  if (r.actions !== undefined && g.issuedAt !== undefined && !r.actions.some(ran)) {
    const ends = [g.expiresAt, g.revokedAt, ctx.now].filter((d): d is Date => d !== undefined);
    const end = Math.min(...ends.map((d) => d.getTime()));
    const live = (end - g.issuedAt.getTime()) / 1000;
    if (live >= ctx.thresholds.unusedGrantSeconds)
      f.push(fail('grant.unused-long-lived', `the grant stood unused for ${Math.round(live)}s`));
  }
  return result('grant', f);
}

export function checkSession(r: ApprovalRecord): ItemResult {
  const f: Finding[] = [];
  const actions = r.actions;
  if (r.status === 'denied') {
    const after = (actions ?? []).filter(ran);
    return result(
      'actions',
      after.length === 0
        ? []
        : [fail('actions.action-after-denial', `${after.length} action(s) ran on a denied request`)],
    );
  }
  if (actions === undefined)
    return result('actions', [
      unproven('actions.actions-not-linked', 'no action data: nothing ties what ran back to this approval'),
    ]);
  const g = r.grant;
  const allowed = g?.scopes !== undefined && g.scopes.length > 0 ? g.scopes : r.request.scopes;
  const runs = actions.filter(ran);
  const inferred = runs.filter((a) => a.link === 'inferred').length;
  if (inferred > 0)
    f.push(
      unproven(
        'actions.inferred-link',
        `${inferred} action(s) are tied to this approval only by principal and time, not by a recorded id`,
      ),
    );
  for (const a of runs) {
    if (a.link === 'mismatch')
      f.push(
        fail('actions.mismatched-link', `action ${a.id} ran under this grant but names another approval`),
      );
    for (const s of a.scopes)
      if (!allowed.some((q) => scopeCovers(q, s)))
        f.push(
          fail(
            'actions.outside-grant-scope',
            `action ${a.id} did ${s.action} on ${s.resource}, outside the grant`,
          ),
        );
    const t = a.at.getTime();
    const done = (a.doneAt ?? a.at).getTime();
    if (
      g !== undefined &&
      ((g.issuedAt !== undefined && done < g.issuedAt.getTime() - 1000) ||
        (g.expiresAt !== undefined && t > g.expiresAt.getTime()) ||
        (g.revokedAt !== undefined && t > g.revokedAt.getTime()))
    )
      f.push(
        fail(
          'actions.outside-grant-time',
          `action ${a.id} at ${a.at.toISOString()} ran outside the grant's lifetime`,
        ),
      );
  }
  if (g?.maxUses !== undefined && runs.length > g.maxUses)
    f.push(fail('actions.over-max-uses', `${runs.length} actions ran under a grant of ${g.maxUses} use(s)`));
  return result('actions', f);
}

export function checkAll(r: ApprovalRecord, ctx: CheckContext): ItemResult[] {
  return [
    checkRequester(r, ctx),
    checkRequest(r),
    checkReason(r, ctx),
    checkDecision(r, ctx),
    checkGrant(r, ctx),
    checkSession(r),
  ];
}
