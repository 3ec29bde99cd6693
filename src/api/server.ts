/**
 * The approvers' HTTP API (CLI today, console later). Bearer tokens identify
 * approvers; agent credentials (SigV4) are never accepted here, so an agent cannot decide.
 * Routes:
 *   GET  /v1/approvals?status=pending      list
 *   GET  /v1/approvals/{id}                detail; records when this approver first saw it
 *   POST /v1/approvals/{id}/approve        {comment, durationSeconds?, maxUses?}
 *   POST /v1/approvals/{id}/deny           {comment}
 *   GET  /v1/grants?agent=NAME             list
 *   POST /v1/grants/{id}/revoke
 *   GET  /v1/audit/{approvalId}            the linked record
 *   GET  /healthz
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Decider, DecisionRefused } from '../approvals/decide.js';
import { hashToken } from '../core/secrets.js';
import type { ApprovalStatus, Approver } from '../core/types.js';
import { auditRecord } from '../ledger/audit.js';
import type { Store } from '../ledger/store.js';

export interface ApiDeps {
  readonly store: Store;
  readonly decider: Decider;
  readonly log: (line: string) => void;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired'];
const MAX_JSON = 64 * 1024;

export class ApiServer {
  private readonly server: http.Server;

  constructor(private readonly deps: ApiDeps) {
    this.server = http.createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        const e =
          err instanceof ApiError
            ? err
            : err instanceof DecisionRefused
              ? new ApiError(err.status, err.code, err.message)
              : undefined;
        if (e === undefined) deps.log(`api: unexpected error: ${(err as Error).stack ?? String(err)}`);
        json(res, e?.status ?? 500, {
          error: e?.code ?? 'internal',
          message: e?.message ?? 'internal error',
        });
      });
    });
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://airlock');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/healthz') return json(res, 200, { ok: true });
    const approver = await this.authenticate(req);
    const channel = channelOf(req.headers['x-airlock-channel']);
    const { store } = this.deps;

    if (parts[0] !== 'v1') throw new ApiError(404, 'not-found', `no route ${method} ${url.pathname}`);
    const [, collection, id, verb] = parts;
    if (collection === 'approvals' && id === undefined && method === 'GET') {
      const status = url.searchParams.get('status') ?? undefined;
      if (status !== undefined && !STATUSES.includes(status as ApprovalStatus)) {
        throw new ApiError(400, 'bad-status', `status must be one of ${STATUSES.join(', ')}`);
      }
      const list = await store.listApprovals(
        status === undefined ? {} : { status: status as ApprovalStatus },
      );
      return json(res, 200, { approvals: list });
    }
    if (collection === 'approvals' && id !== undefined && verb === undefined && method === 'GET') {
      const approval = await store.getApproval(id);
      if (approval === undefined) throw new ApiError(404, 'not-found', `no approval ${id}`);
      const firstShownAt = await store.markShown(id, approver.name, new Date());
      const decisions = await store.decisions(id);
      const grant = approval.grantId === undefined ? undefined : await store.getGrant(approval.grantId);
      return json(res, 200, {
        approval,
        decisions,
        grant: grant ?? null,
        viewer: { approver: approver.name, firstShownAt },
      });
    }
    if (
      collection === 'approvals' &&
      id !== undefined &&
      (verb === 'approve' || verb === 'deny') &&
      method === 'POST'
    ) {
      const body = await readJson(req);
      const result = await this.deps.decider.decide({
        approvalId: id,
        approver,
        verdict: verb,
        comment: typeof body.comment === 'string' ? body.comment : '',
        channel,
        durationSeconds: optionalInt(body.durationSeconds, 'durationSeconds'),
        maxUses: optionalInt(body.maxUses, 'maxUses'),
      });
      return json(res, 200, result);
    }
    if (collection === 'grants' && id === undefined && method === 'GET') {
      const agent = url.searchParams.get('agent') ?? undefined;
      const grants = await store.listGrants(agent === undefined ? {} : { agent });
      return json(res, 200, { grants });
    }
    if (collection === 'grants' && id !== undefined && verb === 'revoke' && method === 'POST') {
      const ok = await store.revokeGrant(id, approver.name, new Date());
      if (!ok) throw new ApiError(404, 'not-found', `no active grant ${id}`);
      return json(res, 200, { revoked: id, by: approver.name });
    }
    if (collection === 'audit' && id !== undefined && method === 'GET') {
      const record = await auditRecord(store, id);
      if (record === undefined) throw new ApiError(404, 'not-found', `no approval ${id} in the ledger`);
      return json(res, 200, record);
    }
    throw new ApiError(404, 'not-found', `no route ${method} ${url.pathname}`);
  }

  private async authenticate(req: IncomingMessage): Promise<Approver> {
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('AWS4-HMAC-SHA256')) {
      throw new ApiError(403, 'agent-credential', 'agent credentials cannot use the approver API');
    }
    const m = /^Bearer (alt_[A-Za-z0-9_-]{20,64})$/.exec(auth);
    if (!m?.[1])
      throw new ApiError(
        401,
        'unauthenticated',
        'send Authorization: Bearer <approver token> (AIRLOCK_TOKEN)',
      );
    const approver = await this.deps.store.approverByTokenHash(hashToken(m[1]));
    if (approver === undefined || approver.revokedAt !== undefined) {
      throw new ApiError(401, 'unauthenticated', 'unknown or revoked approver token');
    }
    return approver;
  }
}

function channelOf(h: string | string[] | undefined): string {
  return h === 'cli' ? 'cli' : 'api';
}

function optionalInt(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new ApiError(400, 'bad-request', `${name} must be an integer`);
  return v;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_JSON) throw new ApiError(413, 'too-large', 'request body too large');
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new ApiError(400, 'bad-json', 'request body must be a JSON object');
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
