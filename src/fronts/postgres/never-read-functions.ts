/**
 * Functions that are never a read, whatever `pg_proc.provolatile` says of them: they run
 * SQL text given as an argument (SPI), or touch files, other backends, locks, large
 * objects, storage, replication or the server's configuration. A call of one of them is
 * always `postgres:function` on `function/<schema>/<name>` (admin group), so policy must
 * name it to let it through. The list is extended (never replaced) by
 * `databases[].side_effect_functions`; `name*` matches a prefix.
 * Every function that is not on the read allow-list (function-catalog.ts) is a
 * `postgres:function` anyway: this list only stops a stable- or immutable-marked built-in,
 * or one added to `read_functions`, from passing as a read.
 * https://www.postgresql.org/docs/current/functions-admin.html
 */
export const NEVER_READ_FUNCTIONS: readonly string[] = [
  // other backends
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_log_backend_memory_contexts',
  // server configuration and WAL
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_switch_wal',
  'pg_promote',
  'pg_create_restore_point',
  'pg_backup_start',
  'pg_backup_stop',
  'pg_wal_replay_*',
  'pg_log_standby_snapshot',
  'set_config',
  'pg_import_system_collations',
  'binary_upgrade_*',
  // replication
  'pg_create_*_replication_slot',
  'pg_drop_replication_slot',
  'pg_copy_*_replication_slot',
  'pg_replication_origin_*',
  'pg_replication_slot_advance',
  'pg_logical_slot_get_*',
  'pg_logical_slot_peek_*',
  'pg_logical_emit_message',
  'pg_sync_replication_slots',
  // files
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_*',
  'pg_stat_file',
  'pg_file_*',
  'pg_current_logfile',
  // large objects (lo_import / lo_export read and write server files)
  'lo_*',
  'loread',
  'lowrite',
  // locks
  'pg_advisory_*',
  'pg_try_advisory_*',
  // sequences, notifications, statistics
  'nextval',
  'setval',
  'pg_notify',
  'pg_stat_reset*',
  'pg_stat_statements_reset',
  'pg_restore_*_stats',
  'pg_clear_*_stats',
  // storage: index maintenance, visibility map, page surgery (pg_surgery, pageinspect)
  'brin_summarize_new_values',
  'brin_summarize_range',
  'brin_desummarize_range',
  'gin_clean_pending_list',
  'pg_truncate_visibility_map',
  'heap_force_*',
  'get_raw_page',
  'pg_prewarm',
  // SQL text as an argument (SPI): `ts_stat('DELETE ... RETURNING ...')`, `crosstab('...')`
  'ts_stat',
  'ts_rewrite',
  'query_to_xml*',
  'table_to_xml*',
  'cursor_to_xml*',
  'schema_to_xml*',
  'database_to_xml*',
  'dblink*',
  'crosstab*',
  'connectby',
  'xpath_table',
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
