/**
 * The scopes, classes and effects found while walking one query string, and how a
 * relation or routine name resolves to resources: qualified names as written, temp
 * relations in pg_temp, unqualified ones against every schema of the search_path.
 */
import type { Scope } from '../../core/types.js';
import { databaseResource, postgresAction, relationResource, type StatementClass } from './actions.js';
import type { ClassifyContext, SessionEffect } from './classification.js';
import { type Node, str } from './parse-tree.js';

export class Collector {
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
