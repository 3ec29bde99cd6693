/**
 * What a client's StartupMessage may carry through Airlock. Parameters that would
 * change the upstream session's identity or privileges (`options=-c role=...`,
 * `-c session_authorization=...`) never reach the upstream: only a short list of
 * presentation settings is forwarded, and `airlock.reason` is Airlock's own.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-STARTUPMESSAGE
 */
import { PgError, SqlState } from './pg-error.js';
import { STARTUP_SETTINGS } from './session-settings.js';

/** Startup parameters forwarded to the upstream unchanged (lower-case GUC names). */
const FORWARDED = new Set(STARTUP_SETTINGS);

/** Parameters that are part of the protocol itself, handled by Airlock. */
const PROTOCOL = new Set(['user', 'database', 'options', 'replication']);

export interface ClientStartup {
  readonly user: string;
  readonly database: string | undefined;
  /** GUCs to send to the upstream in our own StartupMessage. */
  readonly forward: ReadonlyMap<string, string>;
  /** From `options=-c airlock.reason=...`. */
  readonly reason: string | undefined;
  /** `_pq_.` protocol extensions the client asked for (we implement none). */
  readonly protocolExtensions: readonly string[];
}

export function readStartup(params: ReadonlyMap<string, string>): ClientStartup {
  const user = params.get('user');
  if (user === undefined || user === '')
    throw new PgError(
      SqlState.invalidAuthorization,
      'no user name given: connect as your Airlock agent name',
      {
        severity: 'FATAL',
      },
    );
  if (params.has('replication') && params.get('replication') !== 'false')
    throw new PgError(
      SqlState.featureNotSupported,
      'replication connections are not supported through Airlock',
      {
        severity: 'FATAL',
      },
    );
  const forward = new Map<string, string>();
  const protocolExtensions: string[] = [];
  let reason: string | undefined;
  for (const [key, value] of params) {
    const k = key.toLowerCase();
    if (k.startsWith('_pq_.')) protocolExtensions.push(key);
    else if (PROTOCOL.has(k)) continue;
    else if (FORWARDED.has(k)) forward.set(k, value);
    else refuse(key);
  }
  for (const [name, value] of commandLineOptions(params.get('options') ?? '')) {
    if (name === 'airlock.reason') reason = value.trim() === '' ? undefined : value.trim();
    else if (FORWARDED.has(name)) forward.set(name, value);
    else refuse(name);
  }
  const encoding = forward.get('client_encoding');
  if (encoding !== undefined && !isParsableEncoding(encoding)) throw unparsableEncoding(encoding, 'FATAL');
  const path = forward.get('search_path');
  if (path !== undefined) parseSearchPath(path); // throws on a value the upstream would reject
  return { user, database: params.get('database'), forward, reason, protocolExtensions };
}

function refuse(name: string): never {
  throw new PgError(SqlState.featureNotSupported, `startup setting "${name}" is not passed through Airlock`, {
    severity: 'FATAL',
    hint: 'set it with SET after connecting, or remove it from the connection options',
  });
}

/**
 * The `options` startup parameter is a command line: words separated by spaces,
 * backslash escapes a character (libpq: PGOPTIONS). Returns `-c name=value` and
 * `--name=value` pairs with lower-cased names; anything else is refused.
 */
export function commandLineOptions(options: string): Array<[string, string]> {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < options.length; i++) {
    const ch = options[i] as string;
    if (ch === '\\' && i + 1 < options.length) {
      cur += options[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    let setting: string | undefined;
    if (w === '-c') setting = words[++i];
    else if (w.startsWith('-c')) setting = w.slice(2);
    else if (w.startsWith('--')) setting = w.slice(2);
    const eq = setting?.indexOf('=') ?? -1;
    if (setting === undefined || eq <= 0)
      throw new PgError(SqlState.featureNotSupported, `unsupported startup option "${w}"`, {
        severity: 'FATAL',
        hint: 'only -c name=value options are accepted',
      });
    out.push([setting.slice(0, eq).toLowerCase().replace(/-/g, '_'), setting.slice(eq + 1)]);
  }
  return out;
}

/** A reason given per statement: a leading `/* airlock:reason=... *\/` comment. */
export function statementReason(sql: string): string | undefined {
  const m = /^\s*\/\*\s*airlock:reason=([\s\S]*?)\*\//.exec(sql);
  const r = m?.[1]?.trim();
  return r === undefined || r === '' ? undefined : r.slice(0, 1024);
}

/** application_name counts as a reason only when it says so: `reason: ...`. */
export function applicationNameReason(appName: string | undefined): string | undefined {
  const m = /^\s*reason:\s*(.+)$/i.exec(appName ?? '');
  return m?.[1]?.trim().slice(0, 1024) || undefined;
}

/**
 * A search_path value as PostgreSQL reads it (SplitIdentifierString in varlena.c):
 * comma-separated identifiers, unquoted ones folded to lower case and trimmed, quoted
 * ones exact with `""` for a quote. `search_path=PUBLIC` is schema `public`, exactly
 * as the upstream resolves it. A value PostgreSQL would reject throws.
 */
export function parseSearchPath(v: string): string[] {
  const out: string[] = [];
  let i = 0;
  const ws = () => {
    while (i < v.length && /\s/.test(v[i] as string)) i++;
  };
  ws();
  if (i === v.length) return out;
  for (;;) {
    let name = '';
    if (v[i] === '"') {
      i++;
      for (;;) {
        const q = v.indexOf('"', i);
        if (q === -1) throw badPath();
        name += v.slice(i, q);
        i = q + 1;
        if (v[i] !== '"') break;
        name += '"';
        i++;
      }
    } else {
      const start = i;
      while (i < v.length && v[i] !== ',' && !/\s/.test(v[i] as string)) i++;
      if (i === start) throw badPath();
      name = v.slice(start, i).toLowerCase();
    }
    out.push(name);
    ws();
    if (i === v.length) return out;
    if (v[i] !== ',') throw badPath();
    i++;
    ws();
  }
}

function badPath(): PgError {
  return new PgError(SqlState.invalidParameterValue, 'invalid list syntax in parameter "search_path"', {
    severity: 'FATAL',
  });
}

/**
 * Client encodings whose bytes Airlock's parser reads exactly as the upstream does.
 * PostgreSQL converts a query from the client encoding before lexing it; Airlock
 * classifies the bytes as UTF-8. In SJIS, BIG5, GBK, UHC, GB18030 and JOHAB a second
 * byte may be `\` (0x5C), so `E'<0x81 0x5C>' ; DELETE ... ; SELECT '--'` is one string
 * literal to Airlock and a DELETE to PostgreSQL; in single-byte encodings names with
 * non-ASCII letters would differ. SQL_ASCII sends the bytes unconverted.
 */
export function isParsableEncoding(value: string): boolean {
  const n = value.toLowerCase().replace(/[^a-z0-9]/g, '');
  return n === 'utf8' || n === 'unicode' || n === 'sqlascii';
}

export function unparsableEncoding(value: string, severity: 'ERROR' | 'FATAL'): PgError {
  return new PgError(SqlState.featureNotSupported, `client_encoding "${value}" is not supported by Airlock`, {
    severity,
    hint: 'use UTF8: Airlock classifies statements as UTF-8 text',
  });
}
