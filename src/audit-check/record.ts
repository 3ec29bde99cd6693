/**
 * The normalized "approval record" every six-item check reads, whatever produced it:
 * Airlock's own ledger (from-ledger.ts) or another system's export (from-import.ts).
 * Fields are optional where a source may simply not know them; a check treats
 * "not recorded" as something the record cannot prove, never as a pass.
 */
import type { Scope } from '../core/types.js';

export type ItemName = 'requester' | 'request' | 'reason' | 'decisions' | 'grant' | 'actions';

export const ITEMS: readonly ItemName[] = ['requester', 'request', 'reason', 'decisions', 'grant', 'actions'];

export interface RecordDecision {
  /** Who decided, as the source names them (undefined: nobody named). */
  readonly approver: string | undefined;
  /** The source authenticated that approver (an account, not a typed display name). */
  readonly authenticated: boolean;
  readonly verdict: 'approve' | 'deny' | undefined;
  /** Where the decision was made (`api`, `cli`, `console`, `jira`, `slack`, ...). */
  readonly channel: string | undefined;
  /** False when the export only says a decision happened elsewhere (e.g. "approved in chat"). */
  readonly inRecord: boolean;
  readonly comment: string | undefined;
  readonly decidedAt: Date | undefined;
  /** When this approver first opened the request's detail (undefined: never, or not recorded). */
  readonly shownAt: Date | undefined;
  /** Seconds spent reviewing, when the source records it directly. */
  readonly reviewSeconds: number | undefined;
  /** Whether the detail was viewed, when the source records it directly. */
  readonly viewedDetail: boolean | undefined;
  /** The minimum review the tier's guards asked of this decision (Airlock records it), if known. */
  readonly guardMinReviewSeconds?: number | undefined;
}

export interface RecordGrant {
  readonly id: string | undefined;
  /** undefined: the source records no scope for what was granted. */
  readonly scopes: readonly Scope[] | undefined;
  readonly issuedAt: Date | undefined;
  /** undefined: no lifetime recorded (the grant never ends, as far as the record shows). */
  readonly expiresAt: Date | undefined;
  readonly revokedAt: Date | undefined;
  readonly maxUses: number | undefined;
  /**
   * How much it let through (core/types.ts GrantBreadth): `exact` (the one request approved),
   * `items` (these keys), `scope` (the operation on the resource until it ended: wide);
   * undefined: the source does not say.
   */
  readonly breadth?: 'exact' | 'items' | 'scope' | undefined;
}

export interface RecordAction {
  readonly id: string;
  readonly at: Date;
  /** When it finished (at + latency), where the source records it. */
  readonly doneAt?: Date | undefined;
  readonly scopes: readonly Scope[];
  readonly outcome: string;
  /**
   * How this action is tied to the approval: `recorded` (the action row carries the
   * approval/grant id), `inferred` (joined on principal + time window only), or
   * `mismatch` (it names a different approval than the grant it ran under).
   */
  readonly link: 'recorded' | 'inferred' | 'mismatch';
}

export interface ApprovalRecord {
  readonly id: string;
  /** `ledger` or the import's source name. */
  readonly source: string;
  readonly status: 'approved' | 'denied' | 'pending' | 'expired' | 'unknown';
  readonly requestedAt: Date | undefined;
  readonly requester: {
    readonly name: string | undefined;
    /** The identity is one the source knows and authenticated (an issued agent key, an IAM user). */
    readonly known: boolean;
  };
  readonly request: {
    readonly scopes: readonly Scope[];
    /** Free-text request when the source has no structured scope ("production access"). */
    readonly text: string | undefined;
  };
  readonly reason: string | undefined;
  readonly decisions: readonly RecordDecision[];
  readonly grant: RecordGrant | undefined;
  /** undefined: the source has no action data at all (nothing can tie actions back). */
  readonly actions: readonly RecordAction[] | undefined;
  /** The source records whether approvers viewed the detail (Airlock does). */
  readonly viewsRecorded: boolean;
  /** Words the approver was shown (core/reading-time.ts shownWords: summary, reason, resources), if known. */
  readonly shownWords?: number | undefined;
}

/** An action that needed an approval it does not have, or points at one that does not exist. */
export interface OrphanAction {
  readonly id: string;
  readonly at: Date;
  readonly agent: string;
  readonly scopes: readonly Scope[];
  readonly outcome: string;
  readonly code: string;
  readonly message: string;
}

export interface Finding {
  /** Named reason, `item.kebab-name`, stable for scripts (see docs/AUDIT-CHECK.md). */
  readonly code: string;
  readonly message: string;
  /** `fail`: the record shows a problem. `unproven`: the record cannot show the item at all. */
  readonly kind: 'fail' | 'unproven';
}

export interface ItemResult {
  readonly item: ItemName;
  readonly ok: boolean;
  readonly findings: readonly Finding[];
}

export interface Thresholds {
  /**
   * Override (`--min-review-seconds`, `min_review_seconds`): a decision reviewed for fewer
   * seconds than this is a rubber stamp. Absent: per decision, the longer of the tier's minimum
   * review and the time to read what the approver was shown (review-time.ts minReviewFor), or
   * FALLBACK_MIN_REVIEW_SECONDS for a source that records neither.
   */
  readonly minReviewSeconds?: number | undefined;
  /** The gate fails when more than this share of scored records fails any item. */
  readonly maxFailShare: number;
  /** An approver with at least `rubberStampMinDecisions` approvals, this share of them fast or unviewed, and no denials. */
  readonly rubberStampShare: number;
  readonly rubberStampMinDecisions: number;
  /** The same reason text in at least this many requests is boilerplate. */
  readonly boilerplateMinRepeats: number;
  /** A grant unused for at least this many seconds of its life is "unused and long-lived". */
  readonly unusedGrantSeconds: number;
  /** Reasons that say nothing, compared case-insensitively after trimming punctuation. */
  readonly trivialReasons: readonly string[];
  /** Identity globs (`*` = any run) that name a shared role rather than one agent. */
  readonly sharedIdentities: readonly string[];
}

/** "Too fast" for a record that says neither what was shown nor what the guards asked (imports). */
export const FALLBACK_MIN_REVIEW_SECONDS = 30;

export const DEFAULT_THRESHOLDS: Thresholds = {
  maxFailShare: 0.1,
  rubberStampShare: 0.9,
  rubberStampMinDecisions: 5,
  boilerplateMinRepeats: 5,
  unusedGrantSeconds: 3600,
  trivialReasons: [
    '',
    'n/a',
    'na',
    'none',
    'nil',
    'null',
    'test',
    'testing',
    'asdf',
    'qwerty',
    'x',
    'xx',
    'xxx',
    'tbd',
    'todo',
    'fix',
    'needed',
    'need it',
    'pls',
    'please',
    'ok',
    'yes',
    'as discussed',
    'see ticket',
    'see slack',
    'urgent',
    'asap',
    'because',
    'access',
    'work',
  ],
  sharedIdentities: [
    'shared*',
    '*-shared',
    'admin',
    'administrator',
    'root',
    'default',
    '*-team',
    'team-*',
    'ops',
    'service-account',
    'svc',
    'deploy',
    'ci',
    'jenkins',
    'automation',
  ],
};

/**
 * `*` matches any run of characters; everything else literally; case-insensitive.
 * A linear matcher rather than a RegExp: globs come from config and are matched against
 * names from imported exports, and a regex with many `.*` can backtrack polynomially.
 */
export function globMatch(glob: string, value: string): boolean {
  const g = glob.toLowerCase();
  const v = value.toLowerCase();
  let gi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (gi < g.length && g[gi] !== '*' && g[gi] === v[vi]) {
      gi++;
      vi++;
    } else if (gi < g.length && g[gi] === '*') {
      star = gi++;
      mark = vi;
    } else if (star !== -1) {
      gi = star + 1;
      vi = ++mark;
    } else return false;
  }
  while (gi < g.length && g[gi] === '*') gi++;
  return gi === g.length;
}
