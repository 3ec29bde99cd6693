/**
 * Airlock's copy of the upstream session's prepared-statement names (protocol Parse
 * and SQL PREPARE share one namespace in PostgreSQL). A Bind or EXECUTE is gated with
 * what its name stands for *at the upstream*, so this copy must never claim less than
 * the upstream may hold: a name is replaced or freed only once the upstream confirms
 * it (ParseComplete, CloseComplete, a PREPARE or DEALLOCATE that completed without
 * error). Until then, or when the outcome cannot be known (a multi-statement string
 * that failed, a message the upstream skipped), the entry is the union of every
 * statement the name may stand for.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 */
import type { Scope } from '../../core/types.js';
import type { StatementClass } from './actions.js';
import type { PreparedEntry, PreparedSource, TxOp } from './classification.js';
import type { GatedStatement } from './statement-gate.js';

export interface Prepared extends PreparedEntry {
  /** Shown to approvers when a Bind of it is gated. */
  readonly sql: string;
  readonly classes: readonly StatementClass[];
  readonly txOp: TxOp | undefined;
  /** The gate result of the Parse, good for the first Bind only (and only under the same search_path). */
  parseGate: GatedStatement | undefined;
  /** search_path (joined) when it was parsed. */
  readonly parsePath: string;
  /** The upstream certainly holds exactly this statement under this name. */
  settled: boolean;
}

/** Confirms (true) or gives up on (false) a pending change once the upstream answered. */
export type Outcome = (ok: boolean) => void;

export class PreparedStatements {
  private readonly map = new Map<string, Prepared>();

  /** For the classifier (EXECUTE). */
  get entries(): ReadonlyMap<string, PreparedEntry> {
    return this.map;
  }

  get(name: string): Prepared | undefined {
    return this.map.get(name);
  }

  /** A named statement the upstream certainly holds cannot be parsed again (42P05). */
  isTaken(name: string): boolean {
    return name !== '' && this.map.get(name)?.settled === true;
  }

  /**
   * A Parse or PREPARE of `name` is being sent. PostgreSQL drops the unnamed statement
   * before parsing a new one; a named one that may exist is kept on failure, so until
   * the upstream answers the name stands for both.
   */
  define(name: string, stmt: Prepared): Outcome {
    const old = this.map.get(name);
    const placed = old === undefined || name === '' ? stmt : merge(old, stmt);
    this.map.set(name, placed);
    return (ok) => {
      if (this.map.get(name) !== placed) return;
      if (ok) {
        stmt.settled = true;
        this.map.set(name, stmt);
      } else if (old === undefined && name !== '') this.map.delete(name);
    };
  }

  /** A Close / DEALLOCATE of `name` (undefined: all) is being sent: freed once confirmed. */
  release(name: string | undefined): Outcome {
    const affected = [...this.map].filter(([n]) => name === undefined || n === name);
    for (const [, p] of affected) p.settled = false;
    return (ok) => {
      if (!ok) return;
      for (const [n, p] of affected) if (this.map.get(n) === p) this.map.delete(n);
    };
  }
}

function merge(a: Prepared, b: Prepared): Prepared {
  const scopes = new Map<string, Scope>();
  for (const s of [...a.scopes, ...b.scopes]) scopes.set(`${s.action} ${s.resource}`, s);
  const sources: PreparedSource[] = [...a.sources, ...b.sources];
  return {
    sql: `${b.sql} /* or, if the upstream kept the earlier statement of this name: */ ${a.sql}`,
    scopes: [...scopes.values()],
    sources,
    classes: [...new Set([...a.classes, ...b.classes])],
    txOp: a.txOp === b.txOp ? a.txOp : undefined,
    parseGate: undefined,
    parsePath: b.parsePath,
    settled: false,
  };
}
