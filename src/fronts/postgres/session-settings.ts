/**
 * Settings an agent may `SET` as an ordinary session statement (`postgres:session`).
 * Any other setting is `postgres:config` (admin group) on `setting/<name>`: some
 * change what a write does or who sees it (`session_replication_role = replica`
 * turns off triggers and foreign-key checks, a custom `app.tenant_id` can steer
 * row-level security, `pgaudit.log` hides statements from the upstream's audit),
 * so the list is an allow-list: unknown means sensitive.
 * `role` / `session_authorization` are `postgres:set_role`; search_path is tracked by
 * the classifier. Names as PostgreSQL folds them (lower case).
 * https://www.postgresql.org/docs/current/runtime-config-client.html
 */
/** Also the settings a StartupMessage may carry through Airlock (startup-options.ts). */
export const STARTUP_SETTINGS: readonly string[] = [
  'application_name',
  'client_encoding',
  'datestyle',
  'timezone',
  'intervalstyle',
  'extra_float_digits',
  'search_path',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
];

const EVERYDAY = new Set([
  ...STARTUP_SETTINGS,
  'idle_session_timeout',
  'transaction_timeout',
  'client_min_messages',
  'bytea_output',
  'xmlbinary',
  'xmloption',
  'lc_monetary',
  'lc_numeric',
  'lc_time',
  'work_mem',
  'maintenance_work_mem',
  'hash_mem_multiplier',
  'temp_buffers',
  'random_page_cost',
  'seq_page_cost',
  'effective_cache_size',
  'max_parallel_workers_per_gather',
  'from_collapse_limit',
  'join_collapse_limit',
  'plan_cache_mode',
  'jit',
  'default_transaction_isolation',
  'default_transaction_deferrable',
  'transaction_isolation',
  'transaction_deferrable',
  // SET TRANSACTION ..., SET SESSION CHARACTERISTICS AS TRANSACTION ..., SET TRANSACTION SNAPSHOT
  'transaction',
  'session characteristics',
  'transaction snapshot',
]);

/** Planner switches and costs (`enable_seqscan`, `cpu_tuple_cost`, ...) only change plans. */
const EVERYDAY_PREFIXES = ['enable_', 'cpu_', 'geqo', 'jit_'];

export function isEverydaySetting(name: string): boolean {
  const n = name.toLowerCase();
  if (n.startsWith('airlock.')) return true; // Airlock's own (airlock.reason), never read by PostgreSQL
  return EVERYDAY.has(n) || (!n.includes('.') && EVERYDAY_PREFIXES.some((p) => n.startsWith(p)));
}

/**
 * Settings Airlock pins on the upstream session (its StartupMessage carries these
 * values, upstream-connection.ts), with the only value an agent may SET them to.
 * - standard_conforming_strings, backslash_quote, escape_string_warning change how a
 *   string literal is lexed (or warned about): with `standard_conforming_strings=off`,
 *   `'x\' , $$ ' ; DELETE ...` is one SELECT to Airlock's parser (which always lexes as
 *   if it were on) and a DELETE to PostgreSQL. Pinned, there is one reading of the text.
 *   https://www.postgresql.org/docs/current/runtime-config-compatible.html
 * - default_transaction_read_only / transaction_read_only: PostgreSQL enforces "read"
 *   for statements Airlock classified as reads (read-only-guard.ts); only Airlock
 *   turns it off, for a statement policy let write.
 * RESET and SET ... TO DEFAULT go back to the StartupMessage's value, the pinned one
 * (https://www.postgresql.org/docs/current/sql-reset.html), so they stay allowed.
 * client_encoding is checked apart (startup-options.ts, isParsableEncoding).
 */
export const PINNED_SETTINGS: ReadonlyMap<string, string> = new Map([
  ['standard_conforming_strings', 'on'],
  ['backslash_quote', 'safe_encoding'],
  ['escape_string_warning', 'on'],
  ['default_transaction_read_only', 'on'],
  ['transaction_read_only', 'on'],
]);

export function isPinnedSetting(name: string): boolean {
  return PINNED_SETTINGS.has(name.toLowerCase());
}

/** The pinned settings as StartupMessage parameters, for Airlock's own session. */
export function pinnedStartupParams(): Map<string, string> {
  const m = new Map(PINNED_SETTINGS);
  m.delete('transaction_read_only'); // per transaction: follows default_transaction_read_only
  return m;
}
