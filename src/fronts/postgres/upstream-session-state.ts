/**
 * What Airlock knows of the upstream session's state, because names in statements
 * resolve against it: the search_path (widened until the upstream confirms a change),
 * statements prepared in the session, and application_name (a reason for the ledger).
 * Statements are classified against this state here, with a small cache.
 */
import type { StatementClass } from './actions.js';
import type { Classification, TxOp } from './classification.js';
import { classify } from './classify.js';
import type { FunctionCatalog } from './function-catalog.js';
import type { Prepared } from './prepared-statements.js';
import { type Outcome, PreparedStatements } from './prepared-statements.js';
import type { GuardedUnit } from './read-only-guard.js';
import type { PgDatabase } from './session.js';
import { applicationNameReason, type ClientStartup, parseSearchPath } from './startup-options.js';

const CLASSIFY_CACHE = 512;

export class UpstreamSessionState {
  searchPath: readonly string[];
  appReason: string | undefined;
  readonly prepared = new PreparedStatements();
  private readonly classifyCache = new Map<string, Classification>();

  constructor(
    private readonly db: PgDatabase,
    private readonly startup: ClientStartup,
    private readonly functions: FunctionCatalog,
  ) {
    const path = startup.forward.get('search_path');
    this.searchPath =
      path === undefined ? this.expand(db.defaultSearchPath) : this.expand(parseSearchPath(path));
    this.appReason = applicationNameReason(startup.forward.get('application_name'));
  }

  expand(path: readonly string[]): string[] {
    return path.map((s) => (s === '$user' ? this.db.upstream.user : s)).filter((s) => s !== '');
  }

  classify(sql: string): Classification {
    const key = `${this.searchPath.join(',')}\0${sql}`;
    let c = this.classifyCache.get(key);
    if (
      c === undefined ||
      c.effects.some((e) => e.kind === 'prepare' || e.kind === 'deallocate') ||
      /\bexecute\b/i.test(sql)
    ) {
      c = classify(sql, this.classifyContext());
      if (this.classifyCache.size >= CLASSIFY_CACHE) this.classifyCache.clear();
      this.classifyCache.set(key, c);
    }
    return c;
  }

  classifyContext() {
    return {
      db: this.db.name,
      searchPath: this.searchPath,
      user: this.db.upstream.user,
      defaultSearchPath: this.expand(this.db.defaultSearchPath),
      functions: this.functions,
      prepared: this.prepared.entries,
    };
  }

  /**
   * Session state the upstream will have once this statement runs. A new search_path
   * is merged with the old one (every schema of both is a candidate) until the upstream
   * confirms it took effect outside any transaction: a SET that fails or is rolled back
   * must not leave Airlock resolving names differently from PostgreSQL. Returns that
   * confirmation step, if any.
   */
  applyEffects(c: Classification): { confirm?: () => void; settle: Outcome } {
    let confirm: (() => void) | undefined;
    const pending: Outcome[] = [];
    for (const e of c.effects) {
      if (e.kind === 'search_path') {
        const next = e.value === 'default' ? this.expand(this.db.defaultSearchPath) : this.expand(e.value);
        this.searchPath = [...new Set([...this.searchPath, ...next])];
        if (!e.local)
          confirm = () => {
            this.searchPath = next;
          };
      } else if (e.kind === 'prepare') {
        pending.push(
          this.prepared.define(e.name, {
            sql: `EXECUTE ${e.name} /* prepared with SQL PREPARE */`,
            scopes: e.scopes,
            sources: [{ query: e.query }],
            classes: [
              ...new Set(e.scopes.map((sc) => sc.action.slice('postgres:'.length) as StatementClass)),
            ],
            txOp: undefined,
            parseGate: undefined,
            parsePath: this.searchPath.join(','),
            settled: false,
          }),
        );
      } else if (e.kind === 'deallocate') {
        pending.push(this.prepared.release(e.name));
      } else if (e.kind === 'application_name')
        this.appReason =
          e.value === 'default'
            ? applicationNameReason(this.startup?.forward.get('application_name'))
            : applicationNameReason(e.value);
    }
    return {
      ...(confirm === undefined ? {} : { confirm }),
      settle: (ok) => {
        for (const p of pending) p(ok);
      },
    };
  }
}

export function txOpOf(c: Classification): TxOp | undefined {
  for (const e of c.effects) if (e.kind === 'transaction') return e.op;
  return undefined;
}

/** A classified query string as the read-only guard sees it. */
export function unitOf(c: Classification): GuardedUnit {
  return {
    classes: c.classes,
    txOp: c.statements === 1 ? txOpOf(c) : undefined,
    anyTx: c.effects.some((e) => e.kind === 'transaction'),
    snapshots: c.effects.some((e) => e.kind === 'prepare'),
  };
}

/** A prepared statement about to be bound, as the read-only guard sees it. */
export function preparedUnit(p: Prepared, classes: readonly StatementClass[] = p.classes): GuardedUnit {
  return { classes, txOp: p.txOp, anyTx: p.txOp !== undefined, snapshots: false };
}
