/**
 * The AWS front: an HTTP listener speaking to unmodified AWS SDKs and the CLI.
 * Per request: read body → verify SigV4 (agent identity) → extract scopes
 * (typed AccessRequest) → gate (policy / grant / hold) → re-sign and forward →
 * stream the response back → record the action.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gate, GateResult } from '../../approvals/gate.js';
import { newId } from '../../core/ids.js';
import type { MasterKey } from '../../core/secrets.js';
import type { AccessRequest, ActionOutcome, AwsSessionRef, Scope } from '../../core/types.js';
import type { Store } from '../../ledger/store.js';
import type { ScopedSession, ScopedSessions } from '../../upstream/scoped-sessions.js';
import { AwsError } from './aws-error.js';
import type { Forwarder } from './forward.js';
import type { RouteTable } from './routes.js';
import { ExtractionError, extractDynamoDb } from './services/dynamodb.js';
import { headerMap, verifySigV4 } from './sigv4-verify.js';

type ScopedCredentials = ScopedSession['credentials'];

/** DynamoDB's own request limit is 16 MB; nothing larger is a valid call. */
const MAX_BODY = 16 * 1024 * 1024;
const MAX_REASON = 1024;

export interface AwsFrontDeps {
  readonly store: Store;
  readonly masterKey: MasterKey;
  readonly gate: Gate;
  readonly forwarder: Forwarder;
  readonly routes: RouteTable;
  readonly accountId: string;
  readonly clockSkewSeconds: number;
  readonly log: (line: string) => void;
  /** Opens scoped STS sessions for resources configured with a role_arn. */
  readonly sessions?: ScopedSessions;
}

export class AwsFront {
  private readonly server: http.Server;

  constructor(private readonly deps: AwsFrontDeps) {
    this.server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
      this.handle(req, res).catch((err) => {
        deps.log(`aws front: unexpected error: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent)
          send(res, new AwsError('InternalFailure', 'Airlock internal error', 500), 'req_unknown');
        else res.destroy();
      });
    });
    // Held requests stay open for the hold window; never let Node time them out first.
    this.server.headersTimeout = 60_000;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newId('req');
    const started = performance.now();
    const receivedAt = new Date();
    res.setHeader('x-airlock-request-id', requestId);
    let agent = '';
    let access: AccessRequest | undefined;
    let gate: GateResult | undefined;
    let upstreamStatus: number | undefined;
    let outcome: ActionOutcome = 'error';
    let error: string | undefined;
    let awsSession: AwsSessionRef | undefined;
    try {
      const body = await readBody(req);
      const headers = headerMap(req.rawHeaders);
      const verified = await verifySigV4(
        { method: req.method ?? 'GET', rawUrl: req.url ?? '/', rawHeaders: req.rawHeaders, body },
        headers,
        (key) => this.secretFor(key, (name) => (agent = name)),
        { now: receivedAt, skewSeconds: this.deps.clockSkewSeconds },
      );
      if (verified.service !== 'dynamodb') {
        throw new AwsError(
          'AccessDeniedException',
          `Airlock does not front the ${verified.service} service`,
          400,
        );
      }
      const extraction = extractDynamoDb(headers.get('x-amz-target'), parseJson(body), {
        region: verified.region,
        accountId: this.deps.accountId,
      });
      access = {
        id: requestId,
        agent,
        front: 'aws',
        service: verified.service,
        region: verified.region,
        operation: extraction.operation,
        scopes: extraction.scopes,
        reason: readReason(headers.get('x-airlock-reason')),
        sourceIp: req.socket.remoteAddress ?? '',
        summary: extraction.summary,
        receivedAt,
      };
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      gate = await this.deps.gate.authorize(access, body, abort.signal);
      if (gate.kind === 'deny') {
        outcome = gate.deny === 'lapsed' || gate.deny === 'aborted' ? 'lapsed' : 'denied';
        throw denyError(gate);
      }
      outcome = gate.held ? 'approved' : 'allowed';
      const route = this.deps.routes.routeFor(verified.service, verified.region, access.scopes);
      const endpoint = route.endpoint;
      let credentials: ScopedCredentials | undefined;
      if (route.role !== undefined) {
        const session = await this.scopedSession(route.role, gate, access);
        credentials = session.credentials;
        awsSession = session.ref;
      }
      const qIndex = (req.url ?? '/').indexOf('?');
      const upstream = await this.deps.forwarder.send({
        endpoint,
        region: verified.region,
        service: verified.service,
        method: req.method ?? 'POST',
        rawPath: qIndex === -1 ? (req.url ?? '/') : (req.url ?? '/').slice(0, qIndex),
        query: {},
        headers,
        body,
        credentials,
      });
      upstreamStatus = upstream.statusCode;
      const outHeaders: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upstream.headers)) {
        if (v !== undefined && !HOP_BY_HOP.has(k)) outHeaders[k] = v;
      }
      res.writeHead(upstream.statusCode ?? 502, outHeaders);
      await pipe(upstream, res);
    } catch (err) {
      const awsErr =
        err instanceof AwsError
          ? err
          : err instanceof ExtractionError
            ? new AwsError(err.code, err.message)
            : undefined;
      if (awsErr === undefined) throw err;
      error = `${awsErr.code}: ${awsErr.message}`;
      if (!res.headersSent && !res.destroyed) send(res, awsErr, requestId);
    } finally {
      if (agent !== '') {
        this.deps.store
          .recordAction({
            requestId,
            at: receivedAt,
            agent,
            front: 'aws',
            service: access?.service ?? 'unknown',
            operation: access?.operation ?? 'unknown',
            scopes: access?.scopes ?? ([] as Scope[]),
            outcome,
            policyReasons: gate?.reasons ?? [],
            upstreamStatus,
            latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
            grantId: gate?.kind === 'allow' ? gate.grantId : undefined,
            approvalId: gate?.approvalId,
            error,
            awsSession,
          })
          .catch((e) =>
            this.deps.log(`ledger: could not record action ${requestId}: ${(e as Error).message}`),
          );
      }
    }
  }

  /** The grant's own session, or for policy-allowed traffic the agent's session for these scopes. */
  private async scopedSession(
    role: NonNullable<ReturnType<RouteTable['routeFor']>['role']>,
    gate: Extract<GateResult, { kind: 'allow' }>,
    access: AccessRequest,
  ): Promise<ScopedSession> {
    const sessions = this.deps.sessions;
    if (sessions === undefined)
      throw new AwsError('InternalFailure', 'Airlock has no STS session source configured', 500);
    if (gate.grantId === undefined)
      return sessions.sessionFor(role, { kind: 'agent', agent: access.agent, scopes: access.scopes });
    const grant = await this.deps.store.getGrant(gate.grantId);
    if (grant === undefined)
      throw new AwsError('AccessDeniedException', `grant ${gate.grantId} is gone`, 403);
    return sessions.sessionFor(role, { kind: 'grant', grant });
  }

  /** Looks up an active agent's secret; reports the agent name for the record. */
  private async secretFor(
    accessKeyId: string,
    setAgent: (name: string) => void,
  ): Promise<string | undefined> {
    const agent = await this.deps.store.agentByAccessKey(accessKeyId);
    if (agent === undefined || agent.revokedAt !== undefined) return undefined;
    setAgent(agent.name);
    return this.deps.masterKey.unseal(agent.sealedSecret, agent.accessKeyId);
  }
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'proxy-authenticate',
  'upgrade',
]);

function denyError(gate: Extract<GateResult, { kind: 'deny' }>): AwsError {
  const extra: Record<string, string> = { airlockReasons: gate.reasons.join(',') };
  if (gate.approvalId !== undefined) extra.airlockApprovalId = gate.approvalId;
  switch (gate.deny) {
    case 'missing-reason':
      return new AwsError('ValidationException', gate.message, 400, extra);
    case 'lapsed':
    case 'aborted':
      // Deliberately not a code the SDKs retry on their own: the agent should decide to wait again.
      return new AwsError('ApprovalPendingException', gate.message, 400, extra);
    default:
      return new AwsError('AccessDeniedException', gate.message, 400, extra);
  }
}

function send(res: ServerResponse, err: AwsError, requestId: string): void {
  const r = err.render(requestId);
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}

function readReason(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  // HTTP header values are latin-1 on the wire; agents may percent-encode UTF-8.
  let reason = raw;
  try {
    reason = decodeURIComponent(raw);
  } catch {
    /* not percent-encoded: keep as sent */
  }
  reason = reason.trim();
  if (reason === '') return undefined;
  if (reason.length > MAX_REASON)
    throw new AwsError('ValidationException', `x-airlock-reason is longer than ${MAX_REASON} characters`);
  return reason;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new AwsError('SerializationException', 'Request body is not valid JSON');
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_BODY) throw new AwsError('ValidationException', 'Request body exceeds 16 MB', 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new AwsError('ValidationException', 'Request body exceeds 16 MB', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function pipe(from: IncomingMessage, to: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    from.pipe(to);
    from.on('end', resolve);
    from.on('error', () => {
      to.destroy();
      resolve();
    });
    to.on('close', resolve);
  });
}
