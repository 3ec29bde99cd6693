/**
 * The generic walk of any parse subtree: DML nested anywhere (CTEs, subqueries),
 * relation references, SELECT INTO / FOR UPDATE, and calls of side-effecting functions.
 */
import { functionResource, type StatementClass } from './actions.js';
import { list, type Node, names, str } from './parse-tree.js';
import type { Collector } from './scope-collector.js';

const DML: Record<string, StatementClass> = {
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
};

/**
 * Walks any subtree. `mode` is what a plain relation reference means here
 * (`select` in queries, `ddl` inside DDL, `explain` under a non-ANALYZE EXPLAIN).
 */
export function walk(c: Collector, value: unknown, mode: StatementClass): void {
  if (Array.isArray(value)) {
    for (const v of value) walk(c, v, mode);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Node)) {
    if (child === null || typeof child !== 'object') continue;
    const dml = DML[key];
    const executes = mode !== 'explain';
    if (dml !== undefined) {
      const n = child as Node;
      if (n.relation !== undefined) c.relation(executes ? dml : 'explain', n.relation as Node);
      // INSERT ... ON CONFLICT DO UPDATE updates existing rows: an insert grant is not enough.
      if (
        n.relation !== undefined &&
        str((n.onConflictClause as Node | undefined)?.action) === 'ONCONFLICT_UPDATE'
      )
        c.relation(executes ? 'update' : 'explain', n.relation as Node);
      for (const [k, v] of Object.entries(n)) if (k !== 'relation') walk(c, v, mode);
    } else if (key === 'RangeVar' || typeof (child as Node).relname === 'string') {
      // Fields typed RangeVar (CreateStmt.relation, ViewStmt.view, ...) come unwrapped.
      const rv = child as Node;
      if (rv.schemaname === undefined && c.cteNames.has(String(rv.relname))) continue;
      c.relation(mode, rv);
    } else if (key === 'SelectStmt' && executes) {
      const s = child as Node;
      if (s.intoClause !== undefined) c.relation('ddl', ((s.intoClause as Node).rel as Node) ?? {});
      if (list(s.lockingClause).length > 0) walk(c, s.fromClause, 'lock');
      for (const [k, v] of Object.entries(s)) if (k !== 'intoClause') walk(c, v, mode);
    } else if (key === 'FuncCall' && executes) {
      const parts = names((child as Node).funcname);
      const fn = parts[parts.length - 1];
      if (fn !== undefined && c.ctx.isSideEffect(fn))
        c.add('function', functionResource(c.ctx.db, parts[parts.length - 2] ?? 'pg_catalog', fn));
      walk(c, child, mode);
    } else {
      walk(c, child, mode);
    }
  }
}
