/**
 * The AWS front: an HTTP listener speaking to unmodified AWS SDKs and the CLI.
 * Per request: the service's codec verifies SigV4 (agent identity) and extracts
 * scopes (typed AccessRequest) → gate (policy / grant / hold) → scoped session
 * credentials when the resource names a role → record the intent durably (or refuse:
 * nothing unrecorded is forwarded) → re-sign and forward (bodies stream where the codec
 * streams them) → stream the response back → record the outcome.
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type Directory, DirectoryUnavailable } from '../../access/directory.js';
import { AccessPath, type Entry, type RowFacts } from '../../access/path.js';
import type { Recorder } from '../../access/recorder.js';
import type { Gate, GateResult } from '../../approvals/gate.js';
import { DEFAULT_LIMITS, type LimitsConfig } from '../../config/load-limits.js';
import { newId } from '../../core/ids.js';
import type { AccessRequest, ActionRecord, AwsSessionRef, Scope } from '../../core/types.js';
import type { ScopedSession, ScopedSessions } from '../../upstream/scoped-sessions.js';
import { UpstreamError } from '../../upstream/upstream-error.js';
import { AwsError, upstreamAwsError } from './aws-error.js';
import { peekService, type ServiceCodec } from './codec.js';
import type { Forwarder } from './forward.js';
import { checkRequestPath } from './path-guard.js';
import { AgentSlots, BodyBudget, ConnectionLimits } from './peer-limits.js';
import { readReason } from './reason-header.js';
import { denyError, send } from './refusals.js';
import type { RouteTable } from './routes.js';

type Route = ReturnType<RouteTable['routeFor']>;

import { headerMap } from './sigv4-verify.js';

type ScopedCredentials = ScopedSession['credentials'];

export interface AwsFrontDeps {
  /** Agents by access key, grants by id (src/access/directory.ts). */
  readonly directory: Directory;
  readonly recorder: Recorder;
  readonly gate: Gate;
  readonly forwarder: Forwarder;
  readonly routes: RouteTable;
  readonly accountId: string;
  readonly clockSkewSeconds: number;
  readonly log: (line: string) => void;
  /** The codec for a request's signing service (codecs.ts). */
  readonly codecFor: (service: string | undefined) => ServiceCodec;
  /** Opens scoped STS sessions for resources configured with a role_arn. */
  readonly sessions?: ScopedSessions;
  /** Per-peer and global limits (config `limits:`); absent: the defaults. */
  readonly limits?: LimitsConfig;
  /** Serve HTTPS with this certificate (config `listen.aws_tls`); absent: plain HTTP. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | undefined;
}

const ACCESS_KEY_RE = /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\//;

export class AwsFront {
  /**
   * The front's request handler without a socket: an in-process entry point (hono's
   * `app.request()` idea) for tests that drive the whole path with a request value
   * (test/support/in-process.ts injects one with light-my-request; the real SDKs can
   * use it through a request handler). The listener calls the same function.
   */
  readonly dispatch: (req: IncomingMessage, res: ServerResponse) => void;
  private readonly server: http.Server | https.Server;
  /** Requests waiting at the gate (held), ended with a retry error on shutdown. */
  private readonly gating = new Set<AbortController>();
  private stopping = false;
  private readonly limits: LimitsConfig;
  private readonly budget: BodyBudget;
  private readonly slots: AgentSlots;
  private readonly path: AccessPath;

  constructor(private readonly deps: AwsFrontDeps) {
    this.path = new AccessPath(deps.gate, deps.recorder);
    this.limits = deps.limits ?? DEFAULT_LIMITS;
    this.budget = new BodyBudget(this.limits.bufferedBytes);
    this.slots = new AgentSlots(this.limits.requestsPerAgent);
    // 1 MiB stream buffers: S3 bodies stream through in large steps (bench/s3-throughput.ts).
    // Node checks the header deadline only every connectionsCheckingInterval (default 30 s).
    const opts = {
      keepAliveTimeout: 65_000,
      requestTimeout: 0,
      highWaterMark: 1024 * 1024,
      connectionsCheckingInterval: Math.min(1000, this.limits.headerTimeoutMs / 2),
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err) => {
        deps.log(`aws front: unexpected error: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent)
          send(res, new AwsError('InternalFailure', 'Airlock internal error', 500), 'req_unknown');
        else res.destroy();
      });
    };
    this.dispatch = onRequest;
    this.server =
      deps.tls === undefined
        ? http.createServer(opts, onRequest)
        : https.createServer({ ...opts, ...deps.tls, minVersion: 'TLSv1.2' }, onRequest);
    new ConnectionLimits(this.limits.connectionsPerAddress, this.limits.connections).attach(this.server);
    // `Expect: 100-continue` (SDK uploads over 2 MB): answer 100 only when the codec wants the
    // body (S3: once the request is allowed), so a held or refused upload is never sent at all.
    this.server.on('checkContinue', onRequest);
    // Held requests stay open for the hold window, so there is no overall request timeout;
    // headers must arrive in time, and buffered bodies have their own deadline (handle()).
    this.server.headersTimeout = this.limits.headerTimeoutMs;
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    // Held requests keep their connections, so bursts of new ones are normal: a deeper accept
    // queue than Node's 511 (the kernel caps it at net.core.somaxconn) keeps a burst from
    // being reset (bench:holds overflowed 511 at 10,000 connecting at once).
    await new Promise<void>((resolve) => this.server.listen({ port, host, backlog: 4096 }, resolve));
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Graceful stop (SIGTERM): accept no new connections, end held requests with their
   * retry error (their approvals stay pending), let forwarded requests finish for up to
   * `graceMs` so their outcomes are recorded, then close what is left.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const c of this.gating) c.abort();
    const idle = await Promise.race([
      closed.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref()),
    ]);
    if (!idle) this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newId('req');
    const started = performance.now();
    const receivedAt = new Date();
    res.setHeader('x-airlock-request-id', requestId);
    let agent = '';
    let access: AccessRequest | undefined;
    let upstreamStatus: number | undefined;
    let error: string | undefined;
    let awsSession: AwsSessionRef | undefined;
    let requestHash: string | undefined;
    let route: Route | undefined;
    let credentials: ScopedCredentials | undefined;
    /** Set once the path took the request: it records its refusal, or `flight` its outcome. */
    let recorded = false;
    let flight: Extract<Entry, { kind: 'forward' }> | undefined;
    const elapsedMs = () => Math.round((performance.now() - started) * 1000) / 1000;
    const row = (facts: RowFacts): ActionRecord => {
      if (facts.stage !== 'early') recorded = true;
      return {
        requestId,
        at: receivedAt,
        agent,
        front: 'aws',
        service: access?.service ?? 'unknown',
        operation: access?.operation ?? 'unknown',
        scopes: access?.scopes ?? ([] as Scope[]),
        reason: access?.reason,
        outcome: facts.outcome,
        policyReasons: facts.gate?.reasons ?? [],
        upstreamStatus: undefined,
        latencyMs: elapsedMs(),
        grantId: facts.gate?.kind === 'allow' ? facts.gate.grantId : undefined,
        approvalId: facts.gate?.approvalId,
        error: rowError(facts),
        awsSession,
        requestHash,
      };
    };
    const headers = headerMap(req.rawHeaders);
    const service = peekService(headers, req.url ?? '/');
    const codec = this.deps.codecFor(service);
    let reserved = 0;
    let slotOf: string | undefined;
    let bodyTimer: NodeJS.Timeout | undefined;
    try {
      checkRequestPath(req.url ?? '/', service);
      if (codec.bufferedBodyMax !== undefined) {
        reserved = await this.beforeBody(codec.bufferedBodyMax, headers, (name) => (agent = name));
        // A peer that dribbles its body is closed when the deadline passes (readBody then fails).
        bodyTimer = setTimeout(() => req.destroy(), this.limits.bodyTimeoutMs);
      }
      const prepared = await codec.prepare(req, headers, {
        accountId: this.deps.accountId,
        clockSkewSeconds: this.deps.clockSkewSeconds,
        receivedAt,
        secretFor: (key) => this.secretFor(key, (name) => (agent = name)),
        wantBody: () => {
          if (/100-continue/i.test(headers.get('expect') ?? '') && !res.headersSent) res.writeContinue();
        },
      });
      clearTimeout(bodyTimer);
      this.budget.release(reserved);
      reserved = 0;
      slotOf = agent;
      if (!this.slots.take(agent)) {
        slotOf = undefined;
        throw new AwsError(
          'ThrottlingException',
          `agent ${agent} has ${this.limits.requestsPerAgent} requests in progress already; retry later`,
          503,
        );
      }
      requestHash = createHash('sha256').update(prepared.fingerprint).digest('hex');
      access = {
        id: requestId,
        agent,
        front: 'aws',
        service: prepared.service,
        region: prepared.region,
        operation: prepared.operation,
        scopes: prepared.scopes,
        reason: readReason(headers.get('x-airlock-reason'), prepared.signedHeaders),
        sourceIp: req.socket.remoteAddress ?? '',
        summary: prepared.summary,
        receivedAt,
        ...(prepared.items === undefined ? {} : { items: prepared.items }),
      };
      const abort = new AbortController();
      // 'close' also follows every finished response; only an early close means the client left.
      res.on('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      if (this.stopping) throw new AwsError('ServiceUnavailable', 'Airlock is shutting down; retry', 503);
      this.gating.add(abort);
      let entry: Entry;
      try {
        entry = await this.path.enter({
          access,
          fingerprint: prepared.fingerprint,
          signal: abort.signal,
          row,
          elapsedMs,
          // A resource that names a role is reached with an STS session scoped to this request
          // or grant; opening it is the last check before the intent.
          beforeIntent: async (allowed) => {
            route = this.deps.routes.routeFor(prepared.service, prepared.region, access?.scopes ?? []);
            if (route.role === undefined || access === undefined) return;
            const session = await this.scopedSession(route.role, allowed, access);
            credentials = session.credentials;
            awsSession = session.ref;
          },
          describe: (err) => awsErrorOf(err)?.text,
        });
      } finally {
        this.gating.delete(abort);
      }
      if (entry.kind === 'refused') throw denyError(entry.gate);
      if (entry.kind === 'unrecorded') throw new AwsError('ServiceUnavailable', entry.error.message, 503);
      flight = entry;
      const upstream = await this.deps.forwarder.send({
        ...prepared.forward,
        endpoint: (route as Route).endpoint,
        region: prepared.region,
        service: prepared.service,
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
      const awsErr = awsErrorOf(err);
      if (awsErr === undefined) throw err;
      error = awsErr.text;
      const protocol = codec.protocolFor?.(headers) ?? codec.protocol;
      if (!res.headersSent && !res.destroyed) send(res, awsErr.error, requestId, protocol);
    } finally {
      clearTimeout(bodyTimer);
      this.budget.release(reserved);
      if (slotOf !== undefined) this.slots.release(slotOf);
      if (flight !== undefined)
        flight.finish({ outcome: error === undefined ? undefined : 'error', upstreamStatus, error });
      else if (agent !== '' && !recorded)
        // Refused before the gate (signature, scopes, limits): the path records its one row.
        this.path.refuse(row({ stage: 'early', gate: undefined, outcome: 'error', error }));
    }
  }

  /**
   * Checks made before a buffered body is read, so that a peer without a valid key, or a
   * body larger than the service accepts, costs no memory: the body size from
   * Content-Length, the access key exists and is active, and room in the buffer budget.
   * Returns the bytes reserved (release them once the body is no longer held).
   */
  private async beforeBody(
    max: number,
    headers: ReadonlyMap<string, string>,
    setAgent: (name: string) => void,
  ): Promise<number> {
    const length = headers.get('content-length');
    const declared = length === undefined ? undefined : Number(length);
    if (declared !== undefined && !(Number.isSafeInteger(declared) && declared >= 0))
      throw new AwsError('ValidationException', 'Content-Length is not a valid length', 400);
    if (declared !== undefined && declared > max)
      throw new AwsError('ValidationException', `Request body exceeds ${max / 1048576} MB`, 413);
    const key = ACCESS_KEY_RE.exec(headers.get('authorization') ?? '')?.[1];
    if (key !== undefined && (await this.secretFor(key, setAgent)) === undefined)
      throw new AwsError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    // Without a length (chunked), the body may be as large as the service allows.
    const bytes = declared ?? (headers.has('transfer-encoding') ? max : 0);
    if (!this.budget.reserve(bytes))
      throw new AwsError(
        'ThrottlingException',
        'Airlock is busy: too many request bytes in flight; retry',
        503,
      );
    return bytes;
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
    const grant = await this.deps.directory.grant(gate.grantId);
    if (grant === undefined)
      throw new AwsError('AccessDeniedException', `grant ${gate.grantId} is gone`, 403);
    return sessions.sessionFor(role, { kind: 'grant', grant });
  }

  /** Looks up an active agent's secret; reports the agent name for the record. */
  private async secretFor(
    accessKeyId: string,
    setAgent: (name: string) => void,
  ): Promise<string | undefined> {
    const agent = await this.deps.directory.agentByAccessKey(accessKeyId);
    if (agent === undefined) return undefined;
    setAgent(agent.name);
    return agent.secret;
  }
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'proxy-authenticate',
  'upgrade',
]);

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

/** An error the AWS front answers in the AWS shape, with the text its record keeps; else undefined. */
function awsErrorOf(err: unknown): { error: AwsError; text: string } | undefined {
  const e =
    err instanceof UpstreamError
      ? upstreamAwsError(err)
      : err instanceof DirectoryUnavailable
        ? new AwsError('ServiceUnavailable', err.message, 503)
        : err instanceof AwsError
          ? err
          : undefined;
  return e === undefined ? undefined : { error: e, text: `${e.code}: ${e.message}` };
}

/** The record's error text for a row, in the words the agent was answered with. */
function rowError(facts: RowFacts): string | undefined {
  if (facts.stage === 'denied' && facts.gate?.kind === 'deny') {
    const e = denyError(facts.gate);
    return `${e.code}: ${e.message}`;
  }
  if (facts.stage === 'unrecorded') return `ServiceUnavailable: ${facts.error}`;
  return facts.error;
}
