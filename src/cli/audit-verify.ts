/**
 * `airlock audit verify [--checkpoints DIR] [--public-key FILE]`: everything the
 * record can prove about itself, one line per problem, exit 3 when there is any.
 *   1. the hash chain (hash-chain.ts): edited, deleted, reordered entries, a cut tail;
 *   2. the approvers table against the approver.* entries (approver-state.ts);
 *   3. the signed checkpoints (checkpoint-check.ts): the configured directory, or DIR.
 *      A store replaced wholesale, or cut back together with its head row, passes 1
 *      and is caught only here.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AirlockConfig } from '../config/config.js';
import { approverStateProblems, approversFromLedger } from '../ledger/approver-state.js';
import { checkCheckpoints } from '../ledger/checkpoint-check.js';
import { existingCheckpointKey } from '../ledger/checkpoint-key.js';
import type { Store } from '../ledger/store.js';
import { CliError } from './cli-error.js';

export async function auditVerify(
  store: Store,
  cfg: AirlockConfig,
  flags: { checkpoints?: string | undefined; 'public-key'?: string | undefined },
  out: (line: string) => void,
): Promise<number> {
  const problems: string[] = [];
  const chain = await store.verify();
  if (chain.ok) out(`ledger intact: ${chain.entries} entries, head ${chain.head.slice(0, 16)}…`);
  else problems.push(`ledger BROKEN at entry ${chain.firstBadSeq}: ${chain.problem} — ${chain.detail}`);

  // The two reads are not one snapshot: a change committed between them (a revoke while
  // verify runs) would look like a hand edit, so a difference must survive a second look.
  const approverCheck = async () => {
    const recorded = approversFromLedger(await store.approverEntries());
    return { recorded, problems: approverStateProblems(recorded, await store.listApprovers()) };
  };
  let { recorded, problems: approverProblems } = await approverCheck();
  if (approverProblems.length > 0) ({ recorded, problems: approverProblems } = await approverCheck());
  if (approverProblems.length === 0) out(`approvers match the ledger: ${recorded.size} recorded`);
  problems.push(...approverProblems);

  const dir = flags.checkpoints ?? cfg.audit?.checkpoints?.dir;
  if (dir !== undefined) {
    const local = existingCheckpointKey(cfg.dataDir);
    const trustedKey = flags['public-key'] === undefined ? undefined : readPublicKey(flags['public-key']);
    const r = await checkCheckpoints(dir, store, {
      localKeyId: local?.keyId ?? null,
      ...(trustedKey === undefined ? {} : { trustedKey }),
    });
    if (r.problems.length === 0) {
      const last = r.last?.checkpoint;
      out(
        `checkpoints match: ${r.matched} in ${dir}${last === undefined ? '' : `, newest at entry ${last.seq} (${last.at.toISOString()}, key ${last.keyId})`}`,
      );
    }
    problems.push(...r.problems);
  } else if (flags['public-key'] !== undefined) {
    throw new CliError('--public-key needs --checkpoints DIR (or audit.checkpoints.dir in the config)', 2);
  }
  for (const p of problems) out(p);
  return problems.length === 0 ? 0 : 3;
}

function readPublicKey(file: string): KeyObject {
  try {
    const key = createPublicKey(readFileSync(file, 'utf8'));
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    return key;
  } catch (err) {
    throw new CliError(`--public-key ${file}: ${(err as Error).message}`, 2);
  }
}
