/**
 * Refusals decided without policy: a statement inside a transaction block that failed
 * (25P02, as PostgreSQL answers), and a SET client_encoding Airlock could not parse after.
 */
import { newId } from '../../core/ids.js';
import type { Classification } from './classification.js';
import { PgError, SqlState } from './pg-error.js';
import { isParsableEncoding, unparsableEncoding } from './startup-options.js';
import type { GatedStatement } from './statement-gate.js';

export function inFailedTx(): PgError {
  return new PgError(
    SqlState.inFailedTransaction,
    'current transaction is aborted, commands ignored until end of transaction block',
    {
      detail: 'Airlock refused an earlier statement of this transaction',
    },
  );
}

/**
 * The record of a statement decided by transaction state alone, not by policy: ending a
 * failed block (allowed) or a statement inside one (refused with 25P02).
 */
export function unchecked(
  sql: string,
  c: Classification,
  kind: 'allow' | 'deny',
  reason = 'in-failed-transaction',
  message = inFailedTx().message,
): GatedStatement {
  const reasons = [reason];
  return {
    requestId: newId('req'),
    receivedAt: new Date(),
    started: performance.now(),
    sql,
    scopes: c.scopes,
    classes: c.classes,
    reason: undefined,
    result:
      kind === 'allow'
        ? { kind: 'allow', reasons, grantId: undefined, approvalId: undefined, held: false }
        : { kind: 'deny', deny: 'policy', reasons, message, approvalId: undefined },
  };
}

/**
 * A change of a setting Airlock pins (session-settings.ts): refused whatever policy says,
 * since no grant makes Airlock's reading of later statements agree with PostgreSQL's.
 * 55P02 is PostgreSQL's own code for a setting that cannot be changed now.
 */
export function pinnedSetting(c: Classification): PgError | undefined {
  for (const e of c.effects)
    if (e.kind === 'pinned_setting')
      return new PgError(SqlState.cantChangeRuntimeParam, `parameter "${e.name}" is pinned by Airlock`, {
        detail:
          e.name === 'transaction_read_only' || e.name === 'default_transaction_read_only'
            ? 'Airlock runs reads in read-only transactions and makes a transaction read-write itself for a statement policy lets write'
            : 'Airlock reads statements as PostgreSQL does only with this setting at its pinned value',
        hint:
          e.name === 'transaction_read_only'
            ? 'open a block that reads before it writes with BEGIN READ WRITE (docs/POSTGRES.md)'
            : 'see docs/POSTGRES.md, "Pinned settings"',
      });
  return undefined;
}

/** A SET client_encoding Airlock could no longer parse after (startup-options.ts): refused outright. */
export function unparsable(c: Classification): PgError | undefined {
  for (const e of c.effects)
    if (e.kind === 'client_encoding' && !isParsableEncoding(e.value))
      return unparsableEncoding(e.value, 'ERROR');
  return undefined;
}
