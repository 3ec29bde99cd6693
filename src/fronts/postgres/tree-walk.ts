/**
 * The generic walk of any parse subtree: DML nested anywhere (CTEs, subqueries),
 * relation references, SELECT INTO / FOR UPDATE at any level of a set operation,
 * and every function reference: calls (`fn(x)`) and attribute notation (`(x).fn`,
 * `rel.fn`), which PostgreSQL resolves to the same function call, and operators and
 * casts with a volatile function behind them
 * (https://www.postgresql.org/docs/current/xfunc-sql.html#XFUNC-SQL-COMPOSITE-FUNCTIONS).
 */
import { functionResource, type StatementClass } from './actions.js';
import { list, type Node, names, str } from './parse-tree.js';
import type { Collector } from './scope-collector.js';
import { isPinnedSetting } from './session-settings.js';

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
  const executes = mode !== 'explain';
  for (const [key, child] of Object.entries(value as Node)) {
    if (child === null || typeof child !== 'object') continue;
    const dml = DML[key];
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
    } else if (key === 'intoClause') {
      // SELECT ... INTO creates a table. In a set operation PostgreSQL moves the INTO of
      // the leftmost leaf to the whole statement (analyze.c, transformSetOperationStmt),
      // so it is looked for at every level: larg/rarg are SelectStmt bodies, unwrapped.
      c.relation(executes ? 'ddl' : 'explain', ((child as Node).rel as Node) ?? {});
    } else if (key === 'SelectStmt' && executes) {
      const s = child as Node;
      if (list(s.lockingClause).length > 0) walk(c, s.fromClause, 'lock');
      walk(c, s, mode);
    } else if (key === 'RangeVar' || typeof (child as Node).relname === 'string') {
      // Fields typed RangeVar (CreateStmt.relation, ViewStmt.view, ...) come unwrapped.
      const rv = child as Node;
      if (rv.schemaname === undefined && c.cteNames.has(String(rv.relname))) continue;
      c.relation(mode, rv);
    } else if (key === 'FuncCall' && executes) {
      const parts = names((child as Node).funcname);
      const fn = parts[parts.length - 1];
      if (fn !== undefined) {
        call(c, parts[parts.length - 2], fn);
        if (fn === 'set_config') setConfig(c, list((child as Node).args));
      }
      walk(c, child, mode);
    } else if (key === 'A_Expr' && executes) {
      // An operator is a call of its function (pg_operator.oprcode).
      const op = names((child as Node).name);
      behind(c, c.ctx.functions.volatileOperator(op[op.length - 1] ?? ''));
      walk(c, child, mode);
    } else if (key === 'TypeCast' && executes) {
      // A cast calls its cast function, or the type's input function for a literal.
      const type = names(((child as Node).typeName as Node | undefined)?.names);
      behind(c, c.ctx.functions.volatileCast(type[type.length - 1] ?? ''));
      walk(c, child, mode);
    } else if (key === 'ColumnRef' && executes) {
      // `rel.fn` is fn(rel) when rel has no column fn; `a.b.fn` likewise for a field.
      const fields = list((child as Node).fields);
      for (const f of fields.slice(1)) attribute(c, str(((f as Node).String as Node | undefined)?.sval));
    } else if (key === 'A_Indirection' && executes) {
      // `(expr).fn` is fn(expr) (ParseFuncOrColumn in parse_func.c decides at analysis).
      for (const f of list((child as Node).indirection))
        attribute(c, str(((f as Node).String as Node | undefined)?.sval));
      walk(c, child, mode);
    } else {
      walk(c, child, mode);
    }
  }
}

/** A call of `[schema.]fn`: a read only if the allow-list says so (function-catalog.ts). */
function call(c: Collector, schema: string | undefined, fn: string): void {
  const cat = c.ctx.functions;
  if (cat.isRead(schema, fn, c.path)) return;
  for (const s of cat.candidates(schema, fn, c.path)) c.add('function', functionResource(c.ctx.db, s, fn));
}

function behind(c: Collector, fns: readonly { schema: string; fn: string }[]): void {
  for (const f of fns) c.add('function', functionResource(c.ctx.db, f.schema, f.fn));
}

/**
 * A field name in attribute notation: a function call when a function of that name
 * exists (else a column, which a real column of that name also wins over).
 */
function attribute(c: Collector, name: string | undefined): void {
  if (name !== undefined && c.ctx.functions.mayBeFunction(name)) call(c, undefined, name);
}

/**
 * `set_config(name, value, is_local)` is SET by another name: the settings Airlock
 * pins (session-settings.ts) cannot be changed this way either, nor through a name
 * computed at run time.
 */
function setConfig(c: Collector, args: unknown[]): void {
  const a = (args[0] as Node | undefined)?.A_Const as Node | undefined;
  const name = str((a?.sval as Node | undefined)?.sval)?.toLowerCase();
  if (name === undefined) c.effects.push({ kind: 'pinned_setting', name: 'set_config with a computed name' });
  else if (isPinnedSetting(name) || name === 'client_encoding')
    c.effects.push({ kind: 'pinned_setting', name });
}
