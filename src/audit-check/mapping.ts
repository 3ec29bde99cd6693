/**
 * The mapping file (YAML) that tells `audit check --import` where each of the six
 * items lives in another system's export. Documented in docs/AUDIT-CHECK.md.
 * Unknown keys are refused so a typo cannot silently turn a field off.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export const FIELD_KEYS = [
  'id',
  'requested_at',
  'requester',
  'request',
  'action',
  'resource',
  'reason',
  'status',
  'approver',
  'decided_at',
  'channel',
  'comment',
  'shown_at',
  'review_seconds',
  'viewed_detail',
  'grant_scope',
  'grant_issued_at',
  'grant_expires_at',
  'grant_duration_seconds',
  'grant_max_uses',
] as const;
export type FieldKey = (typeof FIELD_KEYS)[number];

export interface Mapping {
  readonly source: string;
  readonly format: 'csv' | 'jsonl';
  /** Column name (CSV) or dotted path (JSON lines) per field. */
  readonly fields: Partial<Record<FieldKey, string>>;
  /** Source status value (lower-cased) → normalized status. */
  readonly status: ReadonlyMap<string, 'approved' | 'denied' | 'pending' | 'expired'>;
  /** Decisions count as "in the record" only on these channels (undefined: any named approver). */
  readonly recordedChannels: readonly string[] | undefined;
  /** The approver field is an account the source authenticated (not a typed name). */
  readonly approverAuthenticated: boolean;
  /** Requester globs the source issued; undefined: any non-empty name that is not a bare key. */
  readonly requesterKnown: readonly string[] | undefined;
  readonly cloudtrail:
    | {
        readonly file: string;
        /** Dotted path in a CloudTrail event compared with the record's requester. */
        readonly principal: string;
        /** Dotted path whose value is (or ends with `/`) the record id: a recorded link. */
        readonly link: string | undefined;
        readonly windowSeconds: number;
        readonly includeReadOnly: boolean;
      }
    | undefined;
}

export class MappingError extends Error {
  override readonly name = 'MappingError';
}

const DEFAULT_STATUS: Record<'approved' | 'denied' | 'pending' | 'expired', string[]> = {
  approved: ['approved', 'approve', 'granted', 'done', 'yes'],
  denied: ['denied', 'deny', 'rejected', 'declined', 'no'],
  pending: ['pending', 'open', 'new', 'requested', 'in progress'],
  expired: ['expired', 'cancelled', 'canceled', 'timed out'],
};

export function loadMapping(path: string, dataFile: string): Mapping {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new MappingError(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseMapping(raw, path, dataFile);
}

export function parseMapping(raw: unknown, path: string, dataFile: string): Mapping {
  const bad = (msg: string): never => {
    throw new MappingError(`${path}: ${msg}`);
  };
  const obj = (v: unknown, what: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : bad(`${what} must be a mapping`);
  const only = (o: Record<string, unknown>, keys: readonly string[], what: string) => {
    for (const k of Object.keys(o))
      if (!keys.includes(k)) bad(`unknown key ${what}${k} (expected one of: ${keys.join(', ')})`);
  };
  const strings = (v: unknown, what: string): string[] =>
    Array.isArray(v) && v.every((s) => typeof s === 'string' || typeof s === 'number')
      ? v.map(String)
      : bad(`${what} must be a list of strings`);

  const root = obj(raw, 'the mapping');
  only(root, ['source', 'format', 'fields', 'status', 'decision', 'requester', 'cloudtrail'], '');
  const guessed = /\.(jsonl|ndjson)$/i.test(dataFile)
    ? 'jsonl'
    : /\.csv$/i.test(dataFile)
      ? 'csv'
      : undefined;
  const format = root.format ?? guessed;
  if (format !== 'csv' && format !== 'jsonl') return bad('format must be csv or jsonl');

  const fieldsIn = obj(root.fields, 'fields');
  only(fieldsIn, FIELD_KEYS, 'fields.');
  const fields: Partial<Record<FieldKey, string>> = {};
  for (const [k, v] of Object.entries(fieldsIn)) {
    if (typeof v !== 'string' || v === '') bad(`fields.${k} must name a column or path`);
    fields[k as FieldKey] = v as string;
  }
  if (fields.id === undefined) bad('fields.id is required (each record needs an id to be reported by)');
  if (fields.status === undefined)
    bad('fields.status is required (which records were approved, denied or are still open)');

  const status = new Map<string, 'approved' | 'denied' | 'pending' | 'expired'>();
  const statusIn = root.status === undefined ? {} : obj(root.status, 'status');
  only(statusIn, Object.keys(DEFAULT_STATUS), 'status.');
  for (const s of ['approved', 'denied', 'pending', 'expired'] as const) {
    const values = statusIn[s] === undefined ? DEFAULT_STATUS[s] : strings(statusIn[s], `status.${s}`);
    for (const v of values) status.set(v.trim().toLowerCase(), s);
  }

  const decision = root.decision === undefined ? {} : obj(root.decision, 'decision');
  only(decision, ['recorded_channels', 'approver_authenticated'], 'decision.');
  if (decision.approver_authenticated !== undefined && typeof decision.approver_authenticated !== 'boolean')
    bad('decision.approver_authenticated must be true or false');

  const requester = root.requester === undefined ? {} : obj(root.requester, 'requester');
  only(requester, ['known'], 'requester.');

  let cloudtrail: Mapping['cloudtrail'];
  if (root.cloudtrail !== undefined) {
    const ct = obj(root.cloudtrail, 'cloudtrail');
    only(ct, ['file', 'principal', 'link', 'window_seconds', 'include_read_only'], 'cloudtrail.');
    if (typeof ct.file !== 'string') bad('cloudtrail.file must be the path of a CloudTrail JSON export');
    if (typeof ct.principal !== 'string')
      bad('cloudtrail.principal must be a dotted path, e.g. userIdentity.userName');
    const w = ct.window_seconds ?? 3600;
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 1)
      bad('cloudtrail.window_seconds must be a positive integer');
    cloudtrail = {
      file: resolve(dirname(path), ct.file as string),
      principal: ct.principal as string,
      link: typeof ct.link === 'string' ? ct.link : undefined,
      windowSeconds: w as number,
      includeReadOnly: ct.include_read_only === true,
    };
  }

  return {
    source: typeof root.source === 'string' ? root.source : dataFile,
    format,
    fields,
    status,
    recordedChannels:
      decision.recorded_channels === undefined
        ? undefined
        : strings(decision.recorded_channels, 'decision.recorded_channels').map((c) => c.toLowerCase()),
    approverAuthenticated: decision.approver_authenticated === true,
    requesterKnown: requester.known === undefined ? undefined : strings(requester.known, 'requester.known'),
    cloudtrail,
  };
}
