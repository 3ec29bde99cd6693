/**
 * Holding a ledger against its published checkpoints. Each valid checkpoint
 * (seq N, hash H) says the ledger once ended at entry N with hash H; a ledger that
 * only grows must still hold exactly that entry. So:
 *   - entry N is gone                → the tail was cut, or the store was replaced by a shorter one;
 *   - entry N has another hash       → the chain was rewritten, or restarted under another master key;
 *   - the signing key id changes     → a new data directory (new checkpoint.key) took over.
 * `audit verify --checkpoints` checks every checkpoint; `serve` checks the last one at start.
 */
import type { KeyObject } from 'node:crypto';
import { type CheckpointDir, publicKeyFileName, readCheckpointDir } from './checkpoint-dir.js';
import { type Checkpoint, checkpointSignatureValid } from './checkpoints.js';
import { type ChainHead, GENESIS_HASH } from './hash-chain.js';
import type { LedgerEntry } from './store.js';

/** The two reads a check needs (Store.head and Store.entryAt). */
export interface LedgerView {
  head(): Promise<ChainHead>;
  entryAt(seq: number): Promise<LedgerEntry | undefined>;
}

export interface CheckOptions {
  /** Key id of this data directory's checkpoint.key; null when it has none. Omit to skip that check. */
  readonly localKeyId?: string | null;
  /** Trust only this public key (`--public-key`), not the keys found in the directory. */
  readonly trustedKey?: KeyObject;
  /** Check only the newest checkpoint (what `serve` does at start). */
  readonly lastOnly?: boolean;
}

export interface CheckResult {
  /** Checkpoint files found (0 when the directory is missing or empty). */
  readonly files: number;
  /** Checkpoints whose signature verified and whose entry the ledger still holds unchanged. */
  readonly matched: number;
  readonly problems: readonly string[];
  /** The newest checkpoint with a valid signature. */
  readonly last: { readonly file: string; readonly checkpoint: Checkpoint } | undefined;
}

/** Past this many, the rest are counted rather than listed. */
const MAX_LISTED = 50;

const short = (h: string) => `${h.slice(0, 16)}…`;

export async function checkCheckpoints(
  dir: string,
  ledger: LedgerView,
  opts: CheckOptions = {},
): Promise<CheckResult> {
  const read = await readCheckpointDir(dir, { lastOnly: opts.lastOnly === true });
  if (read === undefined) {
    return {
      files: 0,
      matched: 0,
      problems: [`${dir}: no such checkpoint directory (deleted, or never published to)`],
      last: undefined,
    };
  }
  return checkRead(dir, read, ledger, opts);
}

async function checkRead(
  dir: string,
  read: CheckpointDir,
  ledger: LedgerView,
  opts: CheckOptions,
): Promise<CheckResult> {
  const problems: string[] = [];
  let extra = 0;
  const problem = (line: string) => {
    if (problems.length < MAX_LISTED) problems.push(line);
    else extra++;
  };
  if (opts.trustedKey === undefined) for (const e of read.keyErrors) problem(e);
  if (read.checkpoints.length === 0) problem(`${dir}: holds no checkpoints`);
  const head = await ledger.head();
  let matched = 0;
  let last: CheckResult['last'];
  let keyBefore: string | undefined;
  for (const { file, checkpoint: c, error } of read.checkpoints) {
    if (c === undefined) {
      problem(`${file}: not a checkpoint (${error ?? 'unreadable'})`);
      continue;
    }
    const key = opts.trustedKey ?? read.keys.get(c.keyId);
    if (key === undefined) {
      problem(`${file}: signed by key ${c.keyId}, but ${publicKeyFileName(c.keyId)} is not in ${dir}`);
      continue;
    }
    if (!checkpointSignatureValid(c, key)) {
      problem(
        opts.trustedKey === undefined
          ? `${file}: signature does not verify under key ${c.keyId}`
          : `${file}: not signed by the trusted public key`,
      );
      continue;
    }
    if (keyBefore !== undefined && c.keyId !== keyBefore) {
      problem(
        `${file}: signed by key ${c.keyId}, earlier checkpoints by ${keyBefore}: the ledger was restarted with a new data directory`,
      );
    }
    keyBefore = c.keyId;
    last = { file, checkpoint: c };
    const mismatch = await entryMismatch(c, head, ledger);
    if (mismatch === undefined) matched++;
    else problem(`${file}: ${mismatch}`);
  }
  if (last !== undefined && opts.localKeyId !== undefined && opts.localKeyId !== last.checkpoint.keyId) {
    problem(
      opts.localKeyId === null
        ? `the data directory has no checkpoint.key, but ${last.file} was signed by key ${last.checkpoint.keyId}`
        : `the data directory's checkpoint key is ${opts.localKeyId}, but ${last.file} was signed by ${last.checkpoint.keyId}: the data directory was recreated or its key replaced`,
    );
  }
  if (extra > 0) problems.push(`… and ${extra} more problems`);
  return { files: read.checkpoints.length, matched, problems, last };
}

/** Why the ledger no longer holds the checkpointed entry; undefined when it does. */
async function entryMismatch(
  c: Checkpoint,
  head: ChainHead,
  ledger: LedgerView,
): Promise<string | undefined> {
  if (c.seq === 0) {
    return c.hash === GENESIS_HASH ? undefined : 'records an empty ledger with a non-genesis hash';
  }
  const e = await ledger.entryAt(c.seq);
  if (e === undefined) {
    return `records entry ${c.seq} (hash ${short(c.hash)}), but the ledger ends at entry ${head.seq}: its tail was cut or the store was replaced`;
  }
  if (e.hash !== c.hash) {
    return `entry ${c.seq} has hash ${short(e.hash)}, the checkpoint says ${short(c.hash)}: the ledger was rewritten or restarted under another master key`;
  }
  return undefined;
}
