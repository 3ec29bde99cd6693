/**
 * SQL text → statement classes and every relation touched, with the real
 * PostgreSQL parser (libpg-query). The whole parse tree is walked, so a DELETE in
 * a CTE nested anywhere, a side-effecting function in a WHERE clause, or the inner
 * statement of EXPLAIN ANALYZE / PREPARE / COPY (query) is found wherever it is.
 * Unqualified names resolve against every schema of the session's search_path
 * (one scope per candidate schema, so a policy cannot be dodged by a path trick).
 * Anything the parser rejects or this file does not know is `postgres:unknown`.
 * Pure: no I/O; session effects (SET search_path, PREPARE) are returned, not applied.
 */
import { loadModule, parseSync } from 'libpg-query';
import type { Scope } from '../../core/types.js';
import {
  databaseResource,
  functionResource,
  postgresAction,
  relationResource,
  type StatementClass,
  settingResource,
} from './actions.js';
import { collectCteNames, entry, isFalse, list, type Node, names, str } from './parse-tree.js';
import { isEverydaySetting } from './session-settings.js';

export async function loadParser(): Promise<void> {
  await loadModule();
}

export interface ClassifyContext {
  /** Database resource name from the config (`databases[].name`). */
  readonly db: string;
  /** Effective search_path, `$user` already replaced. */
  readonly searchPath: readonly string[];
  /** The upstream user name, for `$user` in a search_path set by the statement itself. */
  readonly user: string;
  /** What RESET search_path goes back to (expanded). */
  readonly defaultSearchPath: readonly string[];
  readonly isSideEffect: (fn: string) => boolean;
  /** Statements prepared in this session (for EXECUTE). */
  readonly prepared: ReadonlyMap<string, PreparedEntry>;
}

/**
 * What a prepared name may stand for at the upstream. PostgreSQL analyses a prepared
 * statement again when search_path has changed since it was planned (plancache.c,
 * RevalidateCachedQuery), so EXECUTE resolves names against the path *then*: `sources`
 * are kept to classify again, and `scopes` (from preparation time) are kept too.
 * More than one source when Airlock cannot know which of them the upstream holds.
 */
export interface PreparedEntry {
  readonly scopes: readonly Scope[];
  readonly sources: readonly PreparedSource[];
}

/** SQL text (protocol Parse) or the query of a SQL PREPARE. */
export type PreparedSource = { readonly sql: string } | { readonly query: Node };

/** EXECUTE inside a prepared statement inside ...: past this depth it is `unknown`. */
const MAX_EXECUTE_DEPTH = 4;

export type SessionEffect =
  | { readonly kind: 'search_path'; readonly value: readonly string[] | 'default'; readonly local: boolean }
  | {
      readonly kind: 'prepare';
      readonly name: string;
      readonly scopes: readonly Scope[];
      readonly query: Node;
    }
  | { readonly kind: 'deallocate'; readonly name: string | undefined }
  | { readonly kind: 'application_name'; readonly value: string | 'default' }
  | { readonly kind: 'client_encoding'; readonly value: string }
  | { readonly kind: 'transaction'; readonly op: TxOp };

export type TxOp = 'begin' | 'commit' | 'rollback' | 'rollback_to' | 'savepoint' | 'release' | 'other';

export interface Classification {
  readonly scopes: readonly Scope[];
  readonly classes: readonly StatementClass[];
  readonly effects: readonly SessionEffect[];
  /** Number of statements (0 for an empty query). */
  readonly statements: number;
  /** Parser error message, when the text did not parse. */
  readonly parseError: string | undefined;
}

class Collector {
  readonly scopes = new Map<string, Scope>();
  readonly classes = new Set<StatementClass>();
  readonly effects: SessionEffect[] = [];
  /** CTE names of the current statement: unqualified reads of them are not relations. */
  cteNames = new Set<string>();
  /** The path for the next statement: a SET search_path earlier in the same query string widens it. */
  path: string[];

  constructor(
    readonly ctx: ClassifyContext,
    path: readonly string[] = ctx.searchPath,
    /** How many EXECUTEs deep this collector is. */
    readonly depth = 0,
  ) {
    this.path = [...path];
  }

  add(cls: StatementClass, resource: string): void {
    const action = postgresAction(cls);
    this.classes.add(cls);
    this.scopes.set(`${action} ${resource}`, { action, resource });
  }

  addScope(s: Scope): void {
    this.scopes.set(`${s.action} ${s.resource}`, s);
    this.classes.add(s.action.slice('postgres:'.length) as StatementClass);
  }

  addDb(cls: StatementClass): void {
    this.add(cls, databaseResource(this.ctx.db));
  }

  relation(cls: StatementClass, rv: Node): void {
    const relname = str(rv.relname);
    const schema = str(rv.schemaname);
    if (relname === undefined) {
      this.addDb('unknown');
      return;
    }
    for (const s of this.schemasFor(schema, relname, str(rv.relpersistence)))
      this.add(cls, relationResource(this.ctx.db, s, relname));
  }

  named(cls: StatementClass, parts: readonly string[]): void {
    const name = parts[parts.length - 1];
    if (name === undefined) {
      this.addDb(cls);
      return;
    }
    const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined;
    for (const s of this.schemasFor(schema, name, 'p')) this.add(cls, relationResource(this.ctx.db, s, name));
  }

  /** Schemas an unqualified function or procedure name may resolve to. */
  pathSchemas(): string[] {
    return this.path.length === 0 ? ['public'] : [...this.path];
  }

  private schemasFor(schema: string | undefined, name: string, persistence: string | undefined): string[] {
    if (schema !== undefined) return [schema];
    if (persistence === 't') return ['pg_temp'];
    const path = [...this.path];
    // pg_catalog is searched first when the path does not name it; its relations are all pg_*.
    if (name.startsWith('pg_') && !path.includes('pg_catalog')) path.unshift('pg_catalog');
    return path.length === 0 ? ['public'] : path;
  }
}

export function classify(sql: string, ctx: ClassifyContext): Classification {
  return classifyWith(new Collector(ctx), sql);
}

/**
 * Every scope a prepared statement may need when it runs now, with `path` as the
 * session's search_path: its scopes from preparation time and those of each source
 * resolved again against `path` (fail closed: the union).
 */
export function preparedScopes(
  entry: PreparedEntry,
  ctx: ClassifyContext,
  path: readonly string[] = ctx.searchPath,
  depth = 1,
): Scope[] {
  const c = new Collector(ctx, path, depth);
  for (const s of entry.scopes) c.addScope(s);
  if (depth > MAX_EXECUTE_DEPTH) c.addDb('unknown');
  else
    for (const src of entry.sources) {
      if ('sql' in src) {
        for (const s of classifyWith(new Collector(ctx, path, depth), src.sql).scopes) c.addScope(s);
        continue;
      }
      const inner = new Collector(ctx, path, depth);
      collectCteNames(src.query, inner.cteNames);
      statement(inner, src.query);
      for (const s of inner.scopes.values()) c.addScope(s);
    }
  return [...c.scopes.values()];
}

function classifyWith(c: Collector, sql: string): Classification {
  let stmts: Array<{ stmt?: Node }>;
  try {
    stmts = (parseSync(sql) as { stmts?: Array<{ stmt?: Node }> }).stmts ?? [];
  } catch (err) {
    // An empty (or comment-only) query string is not an error in PostgreSQL: EmptyQueryResponse.
    if (sql === '') return result(c, 0, undefined);
    c.addDb('unknown');
    return result(c, 1, (err as Error).message);
  }
  let count = 0;
  for (const raw of stmts) {
    if (raw.stmt === undefined) continue;
    count++;
    c.cteNames = new Set();
    collectCteNames(raw.stmt, c.cteNames);
    statement(c, raw.stmt);
  }
  return result(c, count, undefined);
}

function result(c: Collector, statements: number, parseError: string | undefined): Classification {
  return {
    scopes: [...c.scopes.values()],
    classes: [...c.classes],
    effects: c.effects,
    statements,
    parseError,
  };
}

/** Classifies one top-level statement node (`{ SelectStmt: {...} }`). */
function statement(c: Collector, node: Node): void {
  const [type, body] = entry(node);
  if (type === undefined) {
    c.addDb('unknown');
    return;
  }
  const before = c.scopes.size;
  switch (type) {
    case 'SelectStmt':
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
      walk(c, node, 'select');
      if (type === 'SelectStmt' && c.scopes.size === before) c.addDb('select');
      return;
    case 'ExplainStmt': {
      const analyze = list(body.options).some((o) => {
        const d = (o as Node).DefElem as Node | undefined;
        return str(d?.defname) === 'analyze' && !isFalse(d?.arg);
      });
      if (analyze) statement(c, body.query as Node);
      else walk(c, body.query, 'explain');
      if (c.scopes.size === before) c.addDb('explain');
      return;
    }
    case 'CopyStmt': {
      const external = body.filename !== undefined || body.is_program === true;
      if (external) c.addDb('copy_program');
      if (body.relation !== undefined)
        c.relation(body.is_from === true ? 'copy_from' : 'copy_to', body.relation as Node);
      if (body.query !== undefined) {
        statement(c, body.query as Node);
        c.addDb('copy_to');
      }
      walk(c, body.whereClause, 'select');
      return;
    }
    case 'DoStmt': {
      c.addDb('do');
      return;
    }
    case 'CallStmt': {
      const fc = body.funccall as Node | undefined;
      const parts = names(fc?.funcname);
      const fn = parts[parts.length - 1];
      if (fn === undefined) {
        c.addDb('call');
        return;
      }
      // `[catalog.]schema.proc`; unqualified, the procedure may be in any schema of the path.
      const schema = parts[parts.length - 2];
      for (const s of schema === undefined ? c.pathSchemas() : [schema])
        c.add('call', functionResource(c.ctx.db, s, fn));
      walk(c, fc?.args, 'select');
      return;
    }
    case 'TransactionStmt': {
      const kind = str(body.kind);
      c.effects.push({ kind: 'transaction', op: txOp(kind) });
      // Two-phase commit outlives the session: COMMIT/ROLLBACK PREPARED act on any
      // session's prepared transaction (another application's included).
      if (PREPARED_XACT.has(kind ?? '')) c.addDb('prepared_xact');
      else c.addDb('transaction');
      return;
    }
    case 'VariableSetStmt': {
      variableSet(c, body);
      return;
    }
    case 'DiscardStmt':
      // DISCARD ALL also deallocates every prepared statement and resets search_path.
      if (str(body.target) === 'DISCARD_ALL') {
        c.effects.push({ kind: 'deallocate', name: undefined });
        c.effects.push({ kind: 'search_path', value: 'default', local: false });
      }
      c.addDb('session');
      return;
    case 'NotifyStmt':
      // The statement form of pg_notify(): it reaches other sessions (workers may act on it).
      c.add('function', functionResource(c.ctx.db, 'pg_catalog', 'pg_notify'));
      return;
    case 'VariableShowStmt':
    case 'ListenStmt':
    case 'UnlistenStmt':
    case 'ClosePortalStmt':
    case 'FetchStmt': {
      c.addDb('session');
      return;
    }
    case 'DeallocateStmt':
      c.effects.push({ kind: 'deallocate', name: str(body.name) });
      {
        c.addDb('session');
        return;
      }
    case 'PrepareStmt': {
      // Names resolve against the path in force at this point of the query string.
      const inner = new Collector(c.ctx, c.path, c.depth);
      collectCteNames(body.query as Node, inner.cteNames);
      statement(inner, body.query as Node);
      c.effects.push({
        kind: 'prepare',
        name: str(body.name) ?? '',
        scopes: [...inner.scopes.values()],
        query: body.query as Node,
      });
      c.addDb('session');
      return;
    }
    case 'ExecuteStmt': {
      const entry = c.ctx.prepared.get(str(body.name) ?? '');
      if (entry === undefined) c.addDb('unknown');
      else for (const s of preparedScopes(entry, c.ctx, c.path, c.depth + 1)) c.addScope(s);
      walk(c, body.params, 'select');
      return;
    }
    case 'DeclareCursorStmt':
      statement(c, body.query as Node);
      return;
    case 'TruncateStmt':
      for (const r of list(body.relations)) c.relation('truncate', (r as Node).RangeVar as Node);
      return;
    case 'LockStmt':
      for (const r of list(body.relations)) c.relation('lock', (r as Node).RangeVar as Node);
      return;
    case 'GrantStmt':
    case 'GrantRoleStmt':
    case 'AlterDefaultPrivilegesStmt':
    case 'CreateRoleStmt':
    case 'AlterRoleStmt':
    case 'AlterRoleSetStmt':
    case 'DropRoleStmt':
    case 'ReassignOwnedStmt':
    case 'DropOwnedStmt':
      walk(c, body, 'grant');
      {
        c.addDb('grant');
        return;
      }
    case 'DropStmt':
      if (TABLE_LIKE.has(str(body.removeType) ?? ''))
        for (const o of list(body.objects))
          c.named('ddl', names((o as Node).List ? ((o as Node).List as Node).items : []));
      {
        c.addDb('ddl');
        return;
      }
    default:
      if (DDL.test(type)) {
        walk(c, body, 'ddl');
        c.addDb('ddl');
        return;
      }
      {
        c.addDb('unknown');
        return;
      }
  }
}

const PREPARED_XACT = new Set([
  'TRANS_STMT_PREPARE',
  'TRANS_STMT_COMMIT_PREPARED',
  'TRANS_STMT_ROLLBACK_PREPARED',
]);

const DDL =
  /^(Create|Alter|Drop|Rename|Comment|Index|Define|Reindex|Vacuum|Cluster|Refresh|Import|SecLabel|CompositeType|Constraints|View|Rule|CheckPoint)/;
const TABLE_LIKE = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_SEQUENCE',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_INDEX',
]);

function variableSet(c: Collector, body: Node): void {
  const name = str(body.name)?.toLowerCase();
  const kind = str(body.kind);
  const local = body.is_local === true;
  if (kind === 'VAR_RESET_ALL') {
    c.effects.push({ kind: 'search_path', value: 'default', local });
    c.path = [...new Set([...c.path, ...c.ctx.defaultSearchPath])];
    c.effects.push({ kind: 'application_name', value: 'default' });
    c.addDb('session');
    return;
  }
  if (name === 'role' || name === 'session_authorization') {
    c.addDb('set_role');
    return;
  }
  // RESET (and SET ... TO DEFAULT) only go back to the configured value.
  const sets = kind !== 'VAR_RESET' && kind !== 'VAR_SET_DEFAULT';
  if (name !== undefined && sets && !isEverydaySetting(name)) {
    c.add('config', settingResource(c.ctx.db, name));
    return;
  }
  if (name === 'search_path') {
    const value =
      kind === 'VAR_SET_VALUE'
        ? list(body.args).map(
            (a) =>
              str(
                ((a as Node).A_Const as Node | undefined)?.sval &&
                  (((a as Node).A_Const as Node).sval as Node).sval,
              ) ?? '',
          )
        : 'default';
    c.effects.push({ kind: 'search_path', value, local });
    // Later statements of this query string may resolve against either path.
    const next =
      value === 'default' ? c.ctx.defaultSearchPath : value.map((v) => (v === '$user' ? c.ctx.user : v));
    c.path = [...new Set([...c.path, ...next])];
  }
  if (name === 'client_encoding' && kind === 'VAR_SET_VALUE') {
    const a = list(body.args)[0] as Node | undefined;
    const v = str(((a?.A_Const as Node | undefined)?.sval as Node | undefined)?.sval);
    c.effects.push({ kind: 'client_encoding', value: v ?? '' });
  }
  if (name === 'application_name') {
    const a = list(body.args)[0] as Node | undefined;
    const v = str(((a?.A_Const as Node | undefined)?.sval as Node | undefined)?.sval);
    c.effects.push({
      kind: 'application_name',
      value: kind === 'VAR_SET_VALUE' && v !== undefined ? v : 'default',
    });
  }
  c.addDb('session');
}

function txOp(kind: string | undefined): TxOp {
  switch (kind) {
    case 'TRANS_STMT_BEGIN':
    case 'TRANS_STMT_START':
      return 'begin';
    case 'TRANS_STMT_COMMIT':
      return 'commit';
    case 'TRANS_STMT_ROLLBACK':
      return 'rollback';
    case 'TRANS_STMT_ROLLBACK_TO':
      return 'rollback_to';
    case 'TRANS_STMT_SAVEPOINT':
      return 'savepoint';
    case 'TRANS_STMT_RELEASE':
      return 'release';
    default:
      return 'other';
  }
}

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
function walk(c: Collector, value: unknown, mode: StatementClass): void {
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
