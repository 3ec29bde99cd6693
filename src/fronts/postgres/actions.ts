/**
 * The statement classes the Postgres front produces, as Cedar action ids
 * (`postgres:update`), and the groups policies can name (`postgres:write`).
 * `postgres:unknown` (anything the parser or classifier cannot place) is in the
 * admin group: the most sensitive class.
 */
const GROUPS = {
  select: 'read',
  explain: 'read',
  copy_to: 'read',
  insert: 'write',
  update: 'write',
  delete: 'write',
  merge: 'write',
  truncate: 'write',
  lock: 'write',
  copy_from: 'write',
  // BEGIN READ WRITE: a transaction block PostgreSQL does not hold to reads (read-only-guard.ts).
  read_write: 'write',
  ddl: 'admin',
  grant: 'admin',
  set_role: 'admin',
  function: 'admin',
  do: 'admin',
  call: 'admin',
  copy_program: 'admin',
  config: 'admin',
  prepared_xact: 'admin',
  unknown: 'admin',
  session: 'control',
  transaction: 'control',
} as const;

export type StatementClass = keyof typeof GROUPS;

export const postgresAction = (cls: StatementClass): string => `postgres:${cls}`;

export function postgresActions(): string[] {
  return Object.keys(GROUPS).map((c) => postgresAction(c as StatementClass));
}

/** Groups of a `postgres:*` action; [] for anything else. */
export function postgresActionGroups(action: string): string[] {
  if (!action.startsWith('postgres:')) return [];
  const g = (GROUPS as Record<string, string>)[action.slice('postgres:'.length)];
  return g === undefined ? [] : [`postgres:${g}`];
}

/**
 * Resource ids (documented in docs/POSTGRES.md):
 *   arn:airlock:postgres:<database-resource>:table/<schema>/<relation>
 *   arn:airlock:postgres:<database-resource>:function/<schema>/<function>
 *   arn:airlock:postgres:<database-resource>:setting/<name>        (SET of a setting off the everyday list)
 *   arn:airlock:postgres:<database-resource>:database
 * `/` and `%` inside (quoted) identifiers are percent-encoded so the id stays unambiguous.
 */
export function relationResource(db: string, schema: string, name: string): string {
  return `arn:airlock:postgres:${db}:table/${enc(schema)}/${enc(name)}`;
}

export function functionResource(db: string, schema: string, name: string): string {
  return `arn:airlock:postgres:${db}:function/${enc(schema)}/${enc(name)}`;
}

export function settingResource(db: string, name: string): string {
  return `arn:airlock:postgres:${db}:setting/${enc(name)}`;
}

export function databaseResource(db: string): string {
  return `arn:airlock:postgres:${db}:database`;
}

const enc = (s: string): string => s.replace(/%/g, '%25').replace(/\//g, '%2F');
