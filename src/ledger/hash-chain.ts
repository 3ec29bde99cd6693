/**
 * The ledger's hash chain, as pure functions so every backend (SQLite now,
 * PostgreSQL later) hashes and verifies identically.
 *
 * Each entry's hash is an HMAC over its predecessor's hash and all of its own
 * columns, seq included. Keyed, so someone who can write the database file but
 * does not hold the ledger key cannot recompute the chain after an edit; seq is
 * hashed so a row moved to another position no longer verifies there.
 */
import { createHmac } from 'node:crypto';
import { type NewEntry, toJson } from './ledger-entries.js';
import type { LedgerEntry, VerifyResult } from './store.js';

/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** The columns an entry's hash covers (everything but the hash itself). */
export interface ChainFields {
  readonly seq: number;
  readonly at: Date;
  readonly kind: string;
  readonly agent: string | undefined;
  readonly approvalId: string | undefined;
  readonly grantId: string | undefined;
  readonly body: string;
  readonly prevHash: string;
}

/** The last appended entry as the backend records it beside the ledger (detects tail truncation). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export function entryHash(key: Buffer, e: ChainFields): string {
  const text = [
    e.prevHash,
    String(e.seq),
    String(e.at.getTime()),
    e.kind,
    e.agent ?? '',
    e.approvalId ?? '',
    e.grantId ?? '',
    e.body,
  ].join('\n');
  return createHmac('sha256', key).update(text).digest('hex');
}

/**
 * Chains new entries after `head`: assigns each its seq, prevHash and hash, and the
 * body's JSON text exactly as it is hashed and stored. Every backend appends through it.
 */
export function chainEntries(key: Buffer, head: ChainHead, entries: readonly NewEntry[]): LedgerEntry[] {
  let { seq, hash } = head;
  return entries.map((n) => {
    const fields = {
      seq: seq + 1,
      at: n.at,
      kind: n.kind,
      agent: n.agent,
      approvalId: n.approvalId,
      grantId: n.grantId,
      body: toJson(n.body),
      prevHash: hash,
    };
    seq = fields.seq;
    hash = entryHash(key, fields);
    return { ...fields, hash };
  });
}

/**
 * Finds a stored entry by its hash. Only consulted once something already
 * failed, to tell a reordering from an edit or a deletion, so a backend may
 * answer it with a slow scan.
 */
export type FindByHash = (hash: string) => LedgerEntry | undefined;

/** How far back `trueSeq` follows prevHash links before giving up (guards cycles). */
const MAX_LINK_WALK = 64;

/**
 * Verifies entries (in seq order, streamed) against each other and the head.
 * Reports the first problem only: after it, every later entry is suspect anyway.
 * Without `find`, the entries are materialized to look hashes up in memory.
 */
export function verifyChain(
  entries: Iterable<LedgerEntry>,
  head: ChainHead | undefined,
  key: Buffer,
  find?: FindByHash,
): VerifyResult {
  let source = entries;
  let lookup = find;
  if (lookup === undefined) {
    const all = Array.from(entries);
    const byHash = new Map(all.map((e) => [e.hash, e] as const));
    source = all;
    lookup = (h) => byHash.get(h);
  }
  let prev: LedgerEntry | undefined;
  let count = 0;
  for (const e of source) {
    const expectedSeq = (prev?.seq ?? 0) + 1;
    if (e.seq !== expectedSeq) {
      return bad(count, expectedSeq, 'deleted', `entries ${expectedSeq}..${e.seq - 1} are missing`);
    }
    if (entryHash(key, e) !== e.hash) {
      const belongsAt = trueSeq(e, key, lookup, 0);
      if (belongsAt !== undefined && belongsAt !== e.seq && hashAt(key, e, belongsAt) === e.hash) {
        return bad(count, e.seq, 'reordered', `entry ${e.seq} holds the content of entry ${belongsAt}`);
      }
      return bad(count, e.seq, 'edited', `entry ${e.seq} (${e.kind}) does not match its hash`);
    }
    const expectedPrev = prev?.hash ?? GENESIS_HASH;
    if (e.prevHash !== expectedPrev) {
      // The entry itself is intact but links elsewhere: either its true
      // predecessor sits at another position, or it is gone.
      const other = lookup(e.prevHash);
      if (other !== undefined) {
        return bad(count, e.seq, 'reordered', `entry ${e.seq} follows entry ${other.seq}, not ${e.seq - 1}`);
      }
      return bad(count, e.seq, 'deleted', `the entry before ${e.seq} is missing or replaced`);
    }
    prev = e;
    count++;
  }
  const lastSeq = prev?.seq ?? 0;
  const lastHash = prev?.hash ?? GENESIS_HASH;
  const want = head ?? { seq: 0, hash: GENESIS_HASH };
  if (lastSeq !== want.seq || lastHash !== want.hash) {
    return bad(
      count,
      Math.min(lastSeq, want.seq) + 1,
      'truncated',
      `the head records entry ${want.seq} but the ledger ends at entry ${lastSeq}`,
    );
  }
  return { ok: true, entries: count, head: lastHash };
}

function hashAt(key: Buffer, e: ChainFields, seq: number): string {
  return entryHash(key, { ...e, seq });
}

/**
 * The seq an entry's content was written at, recovered from its prevHash link:
 * one after its predecessor's own true seq. Undefined when the chain back is
 * broken (predecessor missing or itself edited).
 */
function trueSeq(e: LedgerEntry, key: Buffer, find: FindByHash, depth: number): number | undefined {
  if (e.prevHash === GENESIS_HASH) return 1;
  if (depth >= MAX_LINK_WALK) return undefined;
  const before = find(e.prevHash);
  if (before === undefined) return undefined;
  const beforeSeq =
    entryHash(key, before) === before.hash ? before.seq : trueSeq(before, key, find, depth + 1);
  if (beforeSeq === undefined || hashAt(key, before, beforeSeq) !== before.hash) return undefined;
  return beforeSeq + 1;
}

function bad(
  entries: number,
  firstBadSeq: number,
  problem: 'edited' | 'deleted' | 'reordered' | 'truncated',
  detail: string,
): VerifyResult {
  return { ok: false, entries, firstBadSeq, problem, detail };
}
