/**
 * Approvers as the ledger says they are, held against the approvers table.
 *
 * The gateway authenticates approvers from the approvers table (one indexed read per
 * request, so a revocation takes effect on the very next request), and that table is
 * outside the hash chain. Every change to it is also a ledger entry (ledger-entries.ts:
 * created, groups, password-set, token-rotated, revoked), so replaying those entries
 * gives what the table must hold; `airlock audit verify` reports every difference. A row
 * edited by hand (a revocation undone, a group added, a token or password hash swapped
 * in) is therefore caught by the next verify, not by the request path: verification,
 * not every request, pays for the replay.
 *
 * Credentials appear in the ledger only as credentialDigest(stored hash). Entries
 * written before issue 11 carry no digest; for those approvers only names, groups and
 * revocation are compared until the next rotation or password change records one.
 */
import { credentialDigest } from './ledger-entries.js';
import type { LedgerEntry, StoredApprover } from './store.js';

export interface LedgerApprover {
  readonly name: string;
  groups: readonly string[];
  source: 'local' | 'oidc' | undefined;
  /** undefined: not recorded (older entries). */
  tokenDigest: string | undefined;
  /** null: no password set; undefined: not recorded. */
  passwordDigest: string | null | undefined;
  revoked: boolean;
  /** Slack user id it is linked to (issue 15); undefined: never linked. */
  slackUser: string | undefined;
  /** seq of the last entry about this approver (named in problems). */
  seq: number;
}

/** Replays approver.* entries (in seq order) into the state they describe. */
export function approversFromLedger(entries: Iterable<LedgerEntry>): Map<string, LedgerApprover> {
  const out = new Map<string, LedgerApprover>();
  for (const e of entries) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(e.body) as Record<string, unknown>;
    } catch {
      continue;
    }
    const name = String(body.name);
    if (e.kind === 'approver.created') {
      out.set(name, {
        name,
        groups: strings(body.groups),
        source: body.source === 'local' || body.source === 'oidc' ? body.source : undefined,
        tokenDigest: typeof body.tokenDigest === 'string' ? body.tokenDigest : undefined,
        passwordDigest: typeof body.tokenDigest === 'string' ? null : undefined,
        revoked: false,
        slackUser: undefined,
        seq: e.seq,
      });
      continue;
    }
    const a = out.get(name);
    if (a === undefined) continue;
    a.seq = e.seq;
    if (e.kind === 'approver.revoked') a.revoked = true;
    else if (body.change === 'groups') a.groups = strings(body.groups);
    else if (body.change === 'token-rotated') a.tokenDigest = str(body.tokenDigest);
    else if (body.change === 'password-set') a.passwordDigest = str(body.passwordDigest);
    else if (body.change === 'slack-linked') a.slackUser = str(body.slackUser);
  }
  return out;
}

/** One line per difference between the table and the ledger; empty when they agree. */
export function approverStateProblems(
  recorded: ReadonlyMap<string, LedgerApprover>,
  rows: readonly StoredApprover[],
): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    seen.add(row.name);
    const want = recorded.get(row.name);
    const who = `approver ${row.name}`;
    if (want === undefined) {
      problems.push(`${who} is in the approvers table but the ledger never recorded it (added by hand)`);
      continue;
    }
    const at = `(ledger entry ${want.seq})`;
    if (want.revoked && row.revokedAt === undefined)
      problems.push(`${who} was revoked ${at} but its row is active again (edited by hand)`);
    if (!want.revoked && row.revokedAt !== undefined)
      problems.push(`${who}'s row is revoked but the ledger records no revocation (edited by hand)`);
    if (!sameSet(want.groups, row.groups))
      problems.push(
        `${who} has groups [${row.groups.join(', ')}] but the ledger says [${want.groups.join(', ')}] ${at} (edited by hand)`,
      );
    if (want.source !== undefined && want.source !== (row.source ?? 'local'))
      problems.push(`${who} is ${row.source ?? 'local'} in the table but ${want.source} in the ledger`);
    if (want.tokenDigest !== undefined && credentialDigest(row.tokenHash) !== want.tokenDigest)
      problems.push(`${who}'s token hash is not the one the ledger recorded ${at} (replaced by hand)`);
    if (want.passwordDigest === null && row.passwordHash !== undefined)
      problems.push(`${who} has a console password the ledger never recorded (set by hand)`);
    if (
      typeof want.passwordDigest === 'string' &&
      (row.passwordHash === undefined || credentialDigest(row.passwordHash) !== want.passwordDigest)
    )
      problems.push(`${who}'s password hash is not the one the ledger recorded ${at} (replaced by hand)`);
    if (want.slackUser !== row.slackUser)
      problems.push(
        `${who} is linked to Slack user ${row.slackUser ?? '(none)'} but the ledger says ${want.slackUser ?? '(none)'} (edited by hand)`,
      );
  }
  for (const name of recorded.keys()) {
    if (!seen.has(name))
      problems.push(
        `approver ${name} is in the ledger but missing from the approvers table (deleted by hand)`,
      );
  }
  return problems;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}
