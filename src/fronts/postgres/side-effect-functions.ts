/**
 * Functions that act on the server, the cluster or the outside world even inside a
 * SELECT. A call to one of them adds a `postgres:function` scope naming the function,
 * so `SELECT pg_terminate_backend(...)` cannot pass as a read. The list is extended
 * (never replaced) by `databases[].side_effect_functions`; `name*` matches a prefix.
 * Functions written by users that modify data are not detectable from the SQL text
 * (see docs/POSTGRES.md, "Limits").
 */
export const DEFAULT_SIDE_EFFECT_FUNCTIONS: readonly string[] = [
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_switch_wal',
  'pg_promote',
  'pg_create_restore_point',
  'pg_create_*_replication_slot',
  'pg_drop_replication_slot',
  'pg_copy_*_replication_slot',
  'pg_replication_origin_*',
  'pg_logical_emit_message',
  'pg_backup_start',
  'pg_backup_stop',
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_*',
  'pg_stat_file',
  'pg_stat_reset*',
  'pg_file_*',
  'pg_notify',
  'set_config',
  'setval',
  'nextval',
  'lo_*',
  'lowrite',
  'pg_advisory_*',
  'pg_try_advisory_*',
  'pg_restore_*_stats',
  'pg_clear_*_stats',
  'pg_replication_slot_advance',
  'pg_logical_slot_get_*',
  'pg_sync_replication_slots',
  'pg_wal_replay_*',
  'pg_log_backend_memory_contexts',
  'pg_log_standby_snapshot',
  'pg_stat_statements_reset',
  'pg_truncate_visibility_map',
  'binary_upgrade_*',
  // These run the SQL text given as an argument (SPI): `ts_stat('DELETE ... RETURNING ...')`.
  'ts_stat',
  'ts_rewrite',
  'dblink*',
  'query_to_xml*',
  'table_to_xml*',
  'cursor_to_xml*',
  'schema_to_xml*',
  'database_to_xml*',
  'pg_import_system_collations',
];

/** Case-insensitive matcher over exact names and `prefix*` / `a*b` patterns. */
export function functionMatcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set<string>();
  const globs: RegExp[] = [];
  for (const p of patterns) {
    const lower = p.toLowerCase();
    if (lower.includes('*'))
      globs.push(
        new RegExp(
          `^${lower
            .split('*')
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
        ),
      );
    else exact.add(lower);
  }
  return (name) => {
    const n = name.toLowerCase();
    return exact.has(n) || globs.some((g) => g.test(n));
  };
}
