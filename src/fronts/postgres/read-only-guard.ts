/**
 * PostgreSQL itself enforces "read": a statement Airlock classified as a read runs in a
 * read-only transaction on the upstream, so a classifier miss that writes (a volatile
 * function in a view, a mislabelled function, a path not foreseen) fails at PostgreSQL
 * with its own error (25006 read_only_sql_transaction) instead of running.
 * https://www.postgresql.org/docs/current/sql-set-transaction.html
 *
 * Design (docs/POSTGRES.md, "Read-only transactions"):
 * - Airlock's upstream session starts with `default_transaction_read_only=on` (its
 *   StartupMessage; agents cannot change it, session-settings.ts). Reads cost nothing.
 * - A statement policy let write (any class outside READ_CLASSES), outside a transaction
 *   block: Airlock first waits until the upstream has answered everything before it (so
 *   it knows the transaction status), then sends `SET default_transaction_read_only = off`
 *   ahead of it, and `... = on` right behind it (pipelined, no wait) when the statement
 *   cannot leave a block open; otherwise the default goes back on before the next
 *   statement that finds the upstream idle. Both answers are swallowed.
 * - Inside a block the agent opened (BEGIN, read-only by default): the first write turns
 *   the block read-write with `SET TRANSACTION READ WRITE`, which PostgreSQL allows only
 *   before the block's first query. A block that has read first stays read-only and
 *   PostgreSQL refuses the write (25006): such blocks start with `BEGIN READ WRITE`,
 *   gated as `postgres:read_write`. Once a block is read-write, reads inside it are
 *   guarded by the classifier alone, until it ends. PostgreSQL refuses the switch inside
 *   a subtransaction, so a SAVEPOINT before the block's first query (ORMs' nested
 *   transactions) switches the block to read-write ahead of it.
 * - Extended protocol: the switch is sent as its own Parse/Bind/Execute/Close/Sync before
 *   the statement's Parse (or a later Bind), only at a batch boundary (nothing of the
 *   agent's since its last Sync), so the agent's implicit transaction is not split. A
 *   write pipelined behind other statements of the same batch is refused by PostgreSQL.
 */
import { serialize } from 'pg-protocol';
import type { StatementClass } from './actions.js';
import type { TxOp } from './classification.js';
import { encodeQuery } from './frontend-codec.js';
import type { ProxyExchange } from './proxy-exchange.js';
import { Terminals } from './response-queue.js';

/** Classes that run in a read-only transaction (SET, SHOW, LISTEN, BEGIN... included). */
const READ_CLASSES: ReadonlySet<StatementClass> = new Set([
  'select',
  'explain',
  'copy_to',
  'session',
  'transaction',
]);

/** Classes that take no snapshot: a block can still be turned read-write after them. */
const NO_SNAPSHOT: ReadonlySet<StatementClass> = new Set(['session', 'transaction']);

export function needsReadWrite(classes: readonly StatementClass[]): boolean {
  return classes.some((c) => !READ_CLASSES.has(c));
}

/** What the guard needs to know of one statement (or query string) about to run. */
export interface GuardedUnit {
  readonly classes: readonly StatementClass[];
  /** The transaction statement, when the unit is exactly one. */
  readonly txOp: TxOp | undefined;
  /** The unit contains a transaction statement (so it may leave a block open). */
  readonly anyTx: boolean;
  /** SQL PREPARE and the like: utility statements that take a snapshot. */
  readonly snapshots: boolean;
}

const DEFAULT_OFF = 'SET default_transaction_read_only = off';
const DEFAULT_ON = 'SET default_transaction_read_only = on';
const TX_READ_WRITE = 'SET TRANSACTION READ WRITE';

export class ReadOnlyGuard {
  /** default_transaction_read_only may be off at the upstream: Airlock turned it off. */
  private defaultOff = false;
  /** The agent's current block may be read-write. */
  private blockRw = false;
  /** Something that may have taken a snapshot ran in the current block. */
  private blockQueried = true;
  // A SAVEPOINT does not count as a query, but once it is taken no switch is possible:
  // before() switches ahead of it (above), and it marks the block queried (ran()).
  /** Turn the default back on right after the current unit (its Query, or its batch's Sync). */
  private restoreAfterUnit = false;
  /** The current unit (Query, or batch up to Sync) already runs read-write. */
  private unitRw = false;
  /** Extended messages of the agent's forwarded since its last Sync. */
  private batchOpen = false;

  constructor(private readonly out: ProxyExchange) {}

  /**
   * Before a statement policy let through is forwarded. Returns a promise only when
   * Airlock must know the upstream's transaction status first (a write not yet covered,
   * or any statement while the default is off); reads otherwise pass synchronously.
   */
  before(u: GuardedUnit, mode: 'simple' | 'extended'): Promise<void> | undefined {
    // PostgreSQL refuses the switch to read-write inside a subtransaction: a SAVEPOINT
    // taken before the block's first query (ORMs' nested transactions) switches first.
    const savepoint = u.txOp === 'savepoint' && !this.blockRw && !this.blockQueried;
    const write = needsReadWrite(u.classes) || savepoint;
    if (write ? this.unitRw : !this.defaultOff) return undefined;
    return this.settle(write, u, mode);
  }

  private async settle(write: boolean, u: GuardedUnit, mode: 'simple' | 'extended'): Promise<void> {
    await this.out.drain();
    const status = this.out.queue.status;
    const boundary = mode === 'simple' || !this.batchOpen;
    if (u.txOp === 'savepoint' && status !== 'T') return;
    if (status === 'I' && boundary) {
      if (write) {
        if (!this.defaultOff) this.inject(DEFAULT_OFF, mode);
        this.defaultOff = true;
        this.unitRw = true;
        // Not behind a statement that may leave a block open, nor behind COPY FROM STDIN
        // (the upstream then waits for CopyData: a Query would break the copy).
        this.restoreAfterUnit = !u.anyTx && !u.classes.includes('copy_from');
      } else {
        this.inject(DEFAULT_ON, mode);
        this.defaultOff = false;
      }
    } else if (status === 'T' && write) {
      if (!this.blockRw && !this.blockQueried && boundary) {
        this.inject(TX_READ_WRITE, mode);
        this.blockRw = true;
      }
      this.unitRw = this.blockRw;
    }
  }

  /** A statement is forwarded for execution (a Query, or a Bind): tracks the block it runs in. */
  ran(u: GuardedUnit, mode: 'simple' | 'extended'): void {
    if (mode === 'extended') this.batchOpen = true;
    if (u.txOp === 'begin' || (u.anyTx && u.txOp === undefined)) {
      // A block begun while the default is off (or as BEGIN READ WRITE) is read-write.
      this.blockRw = this.defaultOff || u.classes.includes('read_write');
      this.blockQueried = u.txOp !== 'begin';
      return;
    }
    if (u.snapshots || u.txOp === 'savepoint' || u.classes.some((c) => !NO_SNAPSHOT.has(c)))
      this.blockQueried = true;
  }

  /** Any extended message forwarded (Parse, Describe, Close...): the batch is open. */
  extendedMessage(): void {
    this.batchOpen = true;
  }

  /** After the agent's Query or Sync is forwarded: its unit is complete. */
  unitEnd(): void {
    this.batchOpen = false;
    this.unitRw = false;
    if (!this.restoreAfterUnit) return;
    this.restoreAfterUnit = false;
    this.inject(DEFAULT_ON, 'simple');
    this.defaultOff = false;
  }

  /** Airlock's own SET, answered to nobody: a Query, or at a batch boundary its own extended batch. */
  private inject(sql: string, mode: 'simple' | 'extended'): void {
    if (mode === 'simple') {
      this.out.forward(encodeQuery(sql), { kind: 'simple', terminals: Terminals.query, internal: true });
      return;
    }
    // A Query would destroy the agent's unnamed statement and portal; these names are Airlock's.
    this.out.forward(
      Buffer.concat([
        serialize.parse({ name: STMT, text: sql, types: [] }),
        serialize.bind({ statement: STMT, portal: STMT }),
        serialize.execute({ portal: STMT }),
        serialize.close({ type: 'S', name: STMT }),
        serialize.sync(),
      ]),
      { kind: 'sync', terminals: Terminals.sync, internal: true },
    );
  }
}

const STMT = `airlock_mode_${process.pid}`;
