/**
 * Warns when Airlock's upstream role holds more than a gateway needs. Policy can only
 * refuse what Airlock sees; a superuser, or a member of the predefined roles below, can
 * read and write server files, run programs or signal other backends through functions
 * and statements no classifier can list exhaustively. docs/POSTGRES.md ("The upstream
 * role") has the least-privilege role to use instead.
 * https://www.postgresql.org/docs/current/predefined-roles.html
 */
import type { Socket } from 'node:net';
import { upstreamQuery } from './upstream-query.js';

export const RISKY_ROLES: readonly string[] = [
  'pg_read_server_files',
  'pg_write_server_files',
  'pg_execute_server_program',
  'pg_signal_backend',
];

const ROLE_SQL = `SELECT r.rolsuper, coalesce(string_agg(b.rolname, ',' ORDER BY b.rolname), '')
FROM pg_catalog.pg_roles r
LEFT JOIN pg_catalog.pg_roles b
  ON b.rolname IN (${RISKY_ROLES.map((n) => `'${n}'`).join(', ')}) AND pg_catalog.pg_has_role(r.oid, b.oid, 'MEMBER')
WHERE r.rolname = current_user
GROUP BY r.rolsuper`;

/** What is wrong with the role, in words for the operator; [] when nothing is. */
export async function upstreamRoleWarnings(socket: Socket, user: string): Promise<string[]> {
  const [row] = await upstreamQuery(socket, ROLE_SQL);
  const out: string[] = [];
  if (row?.[0] === 't') out.push(`upstream role "${user}" is a superuser`);
  const held = (row?.[1] ?? '').split(',').filter((s) => s !== '');
  if (held.length > 0) out.push(`upstream role "${user}" is a member of ${held.join(', ')}`);
  return out;
}
