/**
 * Another approval system's export (CSV or JSON lines) + a mapping → approval records,
 * optionally joined with a CloudTrail export (cloudtrail.ts). What the export does not
 * hold stays undefined, so the checks report it as something the record cannot prove.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { joinCloudTrail, readCloudTrail } from './cloudtrail.js';
import { CsvError, parseCsvObjects } from './csv.js';
import { type FieldKey, loadMapping, type Mapping, MappingError } from './mapping.js';
import {
  type ApprovalRecord,
  globMatch,
  type OrphanAction,
  type RecordDecision,
  type RecordGrant,
} from './record.js';
import { getPath, ImportError, parseScopes, parseTime } from './values.js';

function readRows(file: string, m: Mapping): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ImportError(`${file}: cannot read: ${(err as Error).message}`);
  }
  if (m.format === 'csv') {
    try {
      return parseCsvObjects(text);
    } catch (err) {
      if (err instanceof CsvError) throw new ImportError(`${file}: ${err.message}`);
      throw err;
    }
  }
  return text.split(/\r?\n/).flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
      return [v as Record<string, unknown>];
    } catch (err) {
      throw new ImportError(`${file}:${i + 1}: ${(err as Error).message}`);
    }
  });
}

export function recordFromRow(row: Record<string, unknown>, m: Mapping, n: number): ApprovalRecord {
  const get = (k: FieldKey): unknown =>
    m.fields[k] === undefined ? undefined : getPath(row, m.fields[k] as string);
  const text = (k: FieldKey): string | undefined => {
    const v = get(k);
    if (v === undefined || v === null) return undefined;
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return s.trim() === '' ? undefined : s.trim();
  };
  const number = (k: FieldKey): number | undefined => {
    const v = get(k);
    const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    return Number.isFinite(x) ? x : undefined;
  };
  const id = text('id') ?? `row-${n}`;
  const rawStatus = text('status')?.toLowerCase();
  const status = rawStatus === undefined ? 'unknown' : (m.status.get(rawStatus) ?? 'unknown');
  const requester = text('requester');
  const known =
    requester !== undefined &&
    (m.requesterKnown === undefined || m.requesterKnown.some((g) => globMatch(g, requester)));
  const action = text('action');
  const resource = text('resource');
  const scopes =
    action !== undefined || resource !== undefined
      ? [{ action: action ?? '', resource: resource ?? '' }]
      : [];

  const approver = text('approver');
  const channel = text('channel')?.toLowerCase();
  const decisions: RecordDecision[] = [];
  if (approver !== undefined || status === 'approved' || status === 'denied') {
    const inRecord =
      approver !== undefined &&
      (m.recordedChannels === undefined || (channel !== undefined && m.recordedChannels.includes(channel)));
    const viewed = text('viewed_detail')?.toLowerCase();
    decisions.push({
      approver,
      authenticated: m.approverAuthenticated && approver !== undefined,
      verdict: status === 'approved' ? 'approve' : status === 'denied' ? 'deny' : undefined,
      channel: channel ?? (approver === undefined ? 'an unrecorded channel' : undefined),
      inRecord,
      comment: text('comment'),
      decidedAt: parseTime(get('decided_at')),
      shownAt: parseTime(get('shown_at')),
      reviewSeconds: number('review_seconds'),
      viewedDetail: viewed === undefined ? undefined : ['true', 'yes', '1'].includes(viewed),
    });
  }

  const grantMapped = (['grant_scope', 'grant_expires_at', 'grant_duration_seconds'] as const).some(
    (k) => m.fields[k] !== undefined,
  );
  let grant: RecordGrant | undefined;
  if (grantMapped && status === 'approved') {
    const issuedAt = parseTime(get('grant_issued_at')) ?? decisions[0]?.decidedAt;
    const duration = number('grant_duration_seconds');
    const grantScopes = parseScopes(get('grant_scope'));
    grant = {
      id: undefined,
      scopes: grantScopes.length === 0 ? undefined : grantScopes,
      issuedAt,
      expiresAt:
        parseTime(get('grant_expires_at')) ??
        (duration !== undefined && issuedAt !== undefined
          ? new Date(issuedAt.getTime() + duration * 1000)
          : undefined),
      revokedAt: undefined,
      maxUses: number('grant_max_uses'),
    };
  }
  return {
    id,
    source: m.source,
    status,
    requestedAt: parseTime(get('requested_at')),
    requester: { name: requester, known },
    request: { scopes, text: text('request') },
    reason: text('reason'),
    decisions,
    grant,
    actions: undefined,
    viewsRecorded: m.fields.shown_at !== undefined || m.fields.viewed_detail !== undefined,
  };
}

export function importRecords(
  file: string,
  mappingPath: string,
): { source: string; records: ApprovalRecord[]; orphans: OrphanAction[] } {
  let m: Mapping;
  try {
    m = loadMapping(mappingPath, file);
  } catch (err) {
    if (err instanceof MappingError) throw new ImportError(err.message);
    throw err;
  }
  const rows = readRows(file, m);
  // An unmapped status would silently drop its rows from scoring (and pass the gate): refuse.
  const unmapped = new Map<string, number>();
  for (const row of rows) {
    const v = getPath(row, m.fields.status ?? '');
    const key = v === undefined || v === null ? '' : String(v).trim();
    if (!m.status.has(key.toLowerCase())) unmapped.set(key, (unmapped.get(key) ?? 0) + 1);
  }
  if (unmapped.size > 0)
    throw new ImportError(
      `${file}: status value(s) not in the mapping: ${[...unmapped].map(([v, n]) => `"${v}" (${n} row${n === 1 ? '' : 's'})`).join(', ')}; list each under status: approved/denied/pending/expired in ${mappingPath}`,
    );
  const records = rows.map((row, i) => recordFromRow(row, m, i + 1));
  if (m.cloudtrail === undefined) return { source: `${m.source} (${file})`, records, orphans: [] };
  const events = readCloudTrail(m.cloudtrail.file);
  const joined = joinCloudTrail(records, events, m.cloudtrail);
  return { source: `${m.source} (${file} + ${relative(process.cwd(), m.cloudtrail.file)})`, ...joined };
}
