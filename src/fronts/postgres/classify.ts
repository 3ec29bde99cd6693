/**
 * SQL text → statement classes and every relation touched, with the real
 * PostgreSQL parser (libpg-query). The whole parse tree is walked, so a DELETE in
 * a CTE nested anywhere, a function off the read allow-list in a WHERE clause, or the inner
 * statement of EXPLAIN ANALYZE / PREPARE / COPY (query) is found wherever it is.
 * Unqualified names resolve against every schema of the session's search_path
 * (one scope per candidate schema, so a policy cannot be dodged by a path trick).
 * Anything the parser rejects or this file does not know is `postgres:unknown`.
 * Pure: no I/O; session effects (SET search_path, PREPARE) are returned, not applied.
 */
import { loadModule, parseSync } from 'libpg-query';
import type { Scope } from '../../core/types.js';
import { functionResource } from './actions.js';
import type { Classification, ClassifyContext, PreparedEntry, TxOp } from './classification.js';
import { collectCteNames, entry, isFalse, list, type Node, names, str } from './parse-tree.js';
import { Collector } from './scope-collector.js';
import { walk } from './tree-walk.js';
import { variableSet } from './variable-set.js';

export async function loadParser(): Promise<void> {
  await loadModule();
}

/** EXECUTE inside a prepared statement inside ...: past this depth it is `unknown`. */
const MAX_EXECUTE_DEPTH = 4;

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
  try {
    for (const raw of stmts) {
      if (raw.stmt === undefined) continue;
      count++;
      c.cteNames = new Set();
      collectCteNames(raw.stmt, c.cteNames);
      statement(c, raw.stmt);
    }
  } catch (err) {
    // A tree nested deeper than the walk's stack (PostgreSQL's parser accepts ~1000 levels
    // of subqueries): not understood, so the most sensitive class, never a crash.
    if (!(err instanceof RangeError)) throw err;
    c.addDb('unknown');
    return result(c, Math.max(count, 1), 'the statement nests too deeply for Airlock to check');
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
      const readWrite = list(body.options).some((o) => {
        const d = (o as Node).DefElem as Node | undefined;
        // READ WRITE is `transaction_read_only` = integer 0 (an empty `ival` in the JSON tree).
        const iv = ((d?.arg as Node | undefined)?.A_Const as Node | undefined)?.ival as Node | undefined;
        return str(d?.defname) === 'transaction_read_only' && iv !== undefined && (iv.ival ?? 0) === 0;
      });
      c.effects.push({ kind: 'transaction', op: txOp(kind), readWrite });
      // BEGIN READ WRITE opts out of PostgreSQL's read-only enforcement for the block.
      if (readWrite) c.addDb('read_write');
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
