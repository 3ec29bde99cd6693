/**
 * CloudTrail event export (`{"Records": [...]}`, as delivered to S3 or saved from
 * `aws cloudtrail lookup-events`) joined to imported approvals.
 * Record fields: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 *
 * A CloudTrail event carries no ticket id, so the join is by principal and time window
 * (`inferred`, which the session check reports as unproven) unless the mapping names a
 * field that does carry the record id, such as an assumed-role session name set to the
 * change number (`recorded`). Write events by a governed principal that fall in no
 * approval's window are actions without the approval the workflow requires.
 */
import { readFileSync } from 'node:fs';
import type { Scope } from '../core/types.js';
import type { Mapping } from './mapping.js';
import type { ApprovalRecord, OrphanAction, RecordAction } from './record.js';
import { getPath, ImportError, parseTime } from './values.js';

export interface TrailEvent {
  readonly id: string;
  readonly at: Date;
  readonly scope: Scope;
  readonly readOnly: boolean;
  readonly raw: Record<string, unknown>;
}

export function readCloudTrail(file: string): TrailEvent[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ImportError(`${file}: not a CloudTrail JSON export: ${(err as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { Records?: unknown; Events?: unknown })?.Records;
  if (!Array.isArray(list))
    throw new ImportError(`${file}: expected {"Records": [...]} (a CloudTrail export)`);
  return list.flatMap((e, i): TrailEvent[] => {
    if (typeof e !== 'object' || e === null) return [];
    // lookup-events wraps each event as a JSON string in CloudTrailEvent.
    const raw = (
      typeof (e as { CloudTrailEvent?: unknown }).CloudTrailEvent === 'string'
        ? JSON.parse((e as { CloudTrailEvent: string }).CloudTrailEvent)
        : e
    ) as Record<string, unknown>;
    const at = parseTime(raw.eventTime);
    if (at === undefined) throw new ImportError(`${file}: event ${i + 1} has no valid eventTime`);
    return [
      {
        id: String(raw.eventID ?? `event-${i + 1}`),
        at,
        scope: { action: eventAction(raw), resource: eventResource(raw) },
        readOnly: raw.readOnly === true || raw.readOnly === 'true',
        raw,
      },
    ];
  });
}

function eventAction(e: Record<string, unknown>): string {
  const svc = String(e.eventSource ?? 'unknown').replace(/\.amazonaws\.com$/, '');
  return `${svc}:${String(e.eventName ?? 'unknown')}`;
}

/** The first resource ARN, else one built from the request parameters CloudTrail logs. */
function eventResource(e: Record<string, unknown>): string {
  const res = e.resources;
  if (Array.isArray(res)) {
    const arn = (res[0] as { ARN?: unknown } | undefined)?.ARN;
    if (typeof arn === 'string') return arn;
  }
  const p = (e.requestParameters ?? {}) as Record<string, unknown>;
  const region = String(e.awsRegion ?? '');
  const account = String(e.recipientAccountId ?? '');
  if (typeof p.tableName === 'string') return `arn:aws:dynamodb:${region}:${account}:table/${p.tableName}`;
  if (typeof p.bucketName === 'string')
    return `arn:aws:s3:::${p.bucketName}${typeof p.key === 'string' ? `/${p.key}` : ''}`;
  return '';
}

export function joinCloudTrail(
  records: readonly ApprovalRecord[],
  events: readonly TrailEvent[],
  ct: NonNullable<Mapping['cloudtrail']>,
): { records: ApprovalRecord[]; orphans: OrphanAction[] } {
  const byId = new Map(records.map((r) => [r.id, r]));
  const governed = new Set(records.map((r) => r.requester.name).filter((n): n is string => n !== undefined));
  const actions = new Map<string, RecordAction[]>(records.map((r) => [r.id, []]));
  const orphans: OrphanAction[] = [];
  const window = (r: ApprovalRecord): [number, number] | undefined => {
    const start = r.grant?.issuedAt ?? r.decisions[0]?.decidedAt ?? r.requestedAt;
    if (start === undefined) return undefined;
    const end = r.grant?.expiresAt?.getTime() ?? start.getTime() + ct.windowSeconds * 1000;
    return [start.getTime(), end];
  };
  for (const e of events) {
    if (e.readOnly && !ct.includeReadOnly) continue;
    const principal = String(getPath(e.raw, ct.principal) ?? '');
    if (!governed.has(principal)) continue;
    const action = (link: RecordAction['link']): RecordAction => ({
      id: e.id,
      at: e.at,
      scopes: [e.scope],
      outcome: 'allowed',
      link,
    });
    if (ct.link !== undefined) {
      const v = String(getPath(e.raw, ct.link) ?? '');
      const linked = [...byId.keys()].find((id) => v === id || v.endsWith(`/${id}`));
      if (linked !== undefined) {
        actions.get(linked)?.push(action('recorded'));
        continue;
      }
    }
    const t = e.at.getTime();
    const candidate = records.find((r) => {
      if (r.requester.name !== principal || r.status !== 'approved') return false;
      const w = window(r);
      return w !== undefined && t >= w[0] && t <= w[1];
    });
    if (candidate !== undefined) actions.get(candidate.id)?.push(action('inferred'));
    else
      orphans.push({
        id: e.id,
        at: e.at,
        agent: principal,
        scopes: [e.scope],
        outcome: 'allowed',
        code: 'actions.unapproved-action',
        message: `${principal} ran ${e.scope.action} at ${e.at.toISOString()} with no approval covering it`,
      });
  }
  return { records: records.map((r) => ({ ...r, actions: actions.get(r.id) ?? [] })), orphans };
}
