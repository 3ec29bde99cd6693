/**
 * Assembles one Airlock process: store, policy, gate, the AWS front and the API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreCancelKeys } from './access/cancel-keys.js';
import { actionGroupsFrom, type FrontCatalog } from './access/catalog.js';
import { Coordinator } from './access/coordinator.js';
import { StoreDirectory } from './access/directory.js';
import { Recorder } from './access/recorder.js';
import { ApiServer } from './api/server.js';
import { Decider } from './approvals/decide.js';
import { type ApprovalEvents, fanOut } from './approvals/events.js';
import { Gate } from './approvals/gate.js';
import { Waiter } from './approvals/waiter.js';
import { slackFromConfig } from './channels/slack/from-config.js';
import { WebhookDispatcher } from './channels/webhooks/dispatcher.js';
import { webhookTargets } from './channels/webhooks/from-config.js';
import type { AirlockConfig } from './config/config.js';
import type { DatabaseConfig } from './config/databases.js';
import { DEFAULT_LIMITS } from './config/load-limits.js';
import type { ListenerTls } from './config/load-listen-tls.js';
import { MasterKey } from './core/secrets.js';
import type { Evaluator } from './core/types.js';
import { awsCatalog } from './fronts/aws/catalog.js';
import { codecFor } from './fronts/aws/codecs.js';
import { Forwarder } from './fronts/aws/forward.js';
import { RouteTable } from './fronts/aws/routes.js';
import { AwsFront } from './fronts/aws/server.js';
import { mcpCatalog } from './fronts/mcp/catalog.js';
import { ToolPins } from './fronts/mcp/pins.js';
import { McpFront } from './fronts/mcp/server.js';
import { Upstreams } from './fronts/mcp/upstreams.js';
import { CancelRegistry } from './fronts/postgres/cancel-registry.js';
import { postgresCatalog } from './fronts/postgres/catalog.js';
import { postgresDatabase } from './fronts/postgres/database.js';
import { PostgresFront } from './fronts/postgres/server.js';
import { tlsFiles } from './fronts/tls-cert.js';
import { startCheckpoints } from './ledger/checkpoint-publisher.js';
import type { Store } from './ledger/store.js';
import { describeStore, openConfiguredStore } from './open-store.js';
import { createLogger, type Logger, lineLog } from './ops/log.js';
import { Metrics } from './ops/metrics.js';
import { Observer } from './ops/observer.js';
import {
  checkCredentials,
  checkFileModes,
  checkHoldWindow,
  checkRoutesReachable,
} from './ops/startup-checks.js';
import { PolicyEngine } from './policy/engine.js';
import { memoizeEvaluator } from './policy/memo-evaluator.js';
import { type CredentialSource, defaultCredentialChain } from './upstream/aws-credentials.js';
import { grantIsLive, ScopedSessions } from './upstream/scoped-sessions.js';

export interface RunningAirlock {
  readonly awsUrl: string;
  /** The AWS front's handler without a socket (AwsFront.dispatch; test/support/in-process.ts). */
  readonly awsDispatch: AwsFront['dispatch'];
  readonly apiUrl: string;
  readonly store: Store;
  /** This process's Prometheus registry (also served at the API's /metrics). */
  readonly metrics: Metrics;
  /** Postgres front listeners by database name. */
  readonly databases: Readonly<Record<string, { readonly host: string; readonly port: number }>>;
  /** The MCP front's base URL (servers at `${mcpUrl}/mcp/NAME`), when `mcp:` is configured. */
  readonly mcpUrl: string | undefined;
  /** Immediate stop (tests, CLI errors): in-flight requests are cut; their outcomes are recorded as such. */
  /** Publishes a signed checkpoint of the ledger head now (no-op without `audit.checkpoints`). */
  publishCheckpoint(): Promise<void>;
  close(): Promise<void>;
  /**
   * Graceful stop (SIGTERM): stop accepting, end held requests with their retry error
   * (approvals stay pending), let forwarded requests finish for up to `graceMs`, record
   * their outcomes, flush the store, and close.
   */
  shutdown(graceMs: number): Promise<void>;
}

export function openMasterKey(config: AirlockConfig): MasterKey {
  return MasterKey.load({ env: process.env.AIRLOCK_MASTER_KEY, keyFile: join(config.dataDir, 'master.key') });
}

/** The store the config names: SQLite in data_dir (default) or a shared PostgreSQL (open-store.ts). */
export function openStore(
  config: AirlockConfig,
  key: MasterKey,
  onCommit?: (batchSize: number, ms: number) => void,
): Store {
  return openConfiguredStore(config, key.derive('ledger'), onCommit);
}

/** Every front's policy catalog; a new front adds its own here. The first that owns an action names its groups. */
const CATALOGS: readonly FrontCatalog[] = [postgresCatalog, mcpCatalog, awsCatalog];

/** Every action any front can produce (the Cedar schema is generated from them). */
export function knownActions(): string[] {
  return CATALOGS.flatMap((c) => c.actions());
}

export const actionGroups = actionGroupsFrom(CATALOGS);

/** Where the MCP front pins upstream tool definitions (docs/MCP.md). */
export function mcpPinsPath(config: AirlockConfig): string {
  return join(config.dataDir, 'mcp-pins.json');
}

export async function loadPolicy(config: AirlockConfig): Promise<PolicyEngine> {
  return PolicyEngine.load([...config.policies], {
    defaultMaxGrantSeconds: config.holds.defaultMaxGrantSeconds,
    knownActions: knownActions(),
    actionGroups,
  });
}

export async function startAirlock(
  config: AirlockConfig,
  opts: {
    credentials?: CredentialSource;
    /** Line-based log for the modules that take one (tests pass `() => undefined`). */
    log?: (line: string) => void;
    /** The structured log (ops/log.ts). Default: JSON on stdout, or silent when `log` is given. */
    logger?: Logger;
    /** Run the startup checks (ops/startup-checks.ts) and log what they find. */
    startupChecks?: boolean;
    /** Add Node process metrics (CPU, memory, event loop) to /metrics. */
    processMetrics?: boolean;
  } = {},
): Promise<RunningAirlock> {
  const logger = opts.logger ?? (opts.log === undefined ? createLogger() : createLogger({ level: 'silent' }));
  const log = opts.log ?? lineLog(logger, 'airlock');
  const engine = await loadPolicy(config);
  let pendingHolds: () => Promise<number> = async () => 0;
  const metrics = new Metrics({
    pendingHolds: () => pendingHolds(),
    processMetrics: opts.processMetrics === true,
  });
  const observer = new Observer(logger, metrics);
  // Decisions memoized per second (exact, see memo-evaluator.ts); one gate for every front.
  const memo = memoizeEvaluator(engine);
  const policy: Evaluator = {
    evaluate(input) {
      const started = performance.now();
      try {
        return memo.evaluate(input);
      } finally {
        metrics.policyEvaluated(performance.now() - started);
      }
    },
  };
  const key = openMasterKey(config);
  const store = openStore(config, key, (n, ms) => metrics.ledgerCommit(n, ms));
  pendingHolds = async () => (await store.listApprovals({ status: 'pending' })).length;
  try {
    await store.checkWritable();
  } catch (err) {
    await store.close();
    throw new Error(
      `${describeStore(config)} cannot write (${(err as Error).message}); Airlock will not serve requests it cannot record: fix the disk or permissions, or point data_dir at a writable directory`,
    );
  }
  // Refuses to start on a ledger that does not match the master key or the last checkpoint.
  const checkpoints = await startCheckpoints(
    store,
    key.derive('ledger'),
    config.dataDir,
    config.audit?.checkpoints,
    log,
  ).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const waiter = new Waiter(async (id) => (await store.getApproval(id))?.status);
  // Listeners outside the request path (Slack) hear of approvals through one hook.
  const listeners: ApprovalEvents[] = [];
  const events = fanOut(listeners, log);
  const decider = new Decider(store, waiter, undefined, config.guards, (r) => observer.decided(r), events);
  let slack: ReturnType<typeof slackFromConfig>;
  let webhooks: WebhookDispatcher;
  try {
    webhooks = new WebhookDispatcher(store, webhookTargets(config.webhooks), { log });
    slack = slackFromConfig(config.slack, {
      store,
      decider,
      guards: config.guards,
      policy: (id) => engine.describe(id),
      log,
    });
  } catch (err) {
    await checkpoints?.stop().catch(() => undefined);
    await store.close();
    throw err;
  }
  if (slack !== undefined) listeners.push(slack);
  // Webhooks read the ledger (every process's facts); these only make them prompt.
  const poke = () => webhooks.poke();
  listeners.push({ requested: poke, decided: poke, lapsed: () => undefined, expired: poke });
  store.watchApprovals?.((id) => waiter.recheck(id));
  const gate = new Gate(store, () => policy, waiter, {
    holdWindowMs: config.holds.windowSeconds * 1000,
    approvalTtlMs: config.holds.approvalTtlSeconds * 1000,
    events,
  });
  const recorder = new Recorder(store, log, observer);
  const credentials = opts.credentials ?? defaultCredentialChain();
  /** Last known answer of the credential chain: set by the startup check. */
  let credentialState: 'ok' | 'missing' | 'unchecked' = 'unchecked';
  const limits = config.limits ?? DEFAULT_LIMITS;
  const forwarder = new Forwarder(credentials, {
    connectTimeoutMs: limits.upstreamConnectTimeoutMs,
    responseTimeoutMs: limits.upstreamResponseTimeoutMs,
  });
  const sessions = new ScopedSessions(credentials);
  const directory = new StoreDirectory(store, key);
  const awsTls = listenerTls(config, config.listen.awsTls, 'aws', log);
  const apiTls = listenerTls(config, config.listen.apiTls, 'api', log);
  const aws = new AwsFront({
    directory,
    recorder,
    gate,
    forwarder,
    routes: new RouteTable(config.resources),
    accountId: config.aws.accountId,
    clockSkewSeconds: config.aws.clockSkewSeconds,
    log,
    sessions,
    codecFor,
    limits,
    tls: awsTls,
  });
  const api = new ApiServer({
    tls: apiTls,
    store,
    decider,
    slack,
    log,
    observer,
    ready: () => ({
      policies: engine.policyIds.length,
      credentials: credentialState,
    }),
    guards: config.guards,
    policy: (id) => engine.describe(id),
    console: config.console,
    adminGroups: config.admins?.groups ?? [],
  });
  // Periodic jobs shared with the other processes on this store (access/coordinator.ts).
  let cancels: CancelRegistry | undefined;
  const coordinator = new Coordinator(store, {
    expired: (ids) => {
      for (const id of ids) waiter.notify(id, 'expired');
      events.expired(ids);
    },
    cancelled: (pids) => cancels?.cancelForwarded(pids),
    holdsCancelKeys: () => (cancels?.size ?? 0) > 0,
    log,
  });
  cancels = new CancelRegistry(new StoreCancelKeys(store.coordination, coordinator.id), log);
  const pgFronts = config.databases.map(
    (db) =>
      new PostgresFront({
        directory,
        recorder,
        gate,
        db: postgresDatabase(config, db, credentials),
        log,
        cancels,
      }),
  );
  const mcp =
    config.mcp === undefined
      ? undefined
      : new McpFront({
          directory,
          recorder,
          gate,
          policy: () => policy,
          policyTexts: engine.policyIds.map((id) => engine.describe(id)?.text ?? ''),
          upstreams: new Upstreams(config.mcp.servers, log),
          config: config.mcp,
          upstreamTimeoutMs: limits.upstreamResponseTimeoutMs,
          headerTimeoutMs: limits.headerTimeoutMs,
          pins: new ToolPins(mcpPinsPath(config)),
          log,
        });
  const mcpAddr =
    mcp === undefined || config.mcp === undefined
      ? undefined
      : await mcp.listen(config.mcp.listen.host, config.mcp.listen.port);
  const databases: Record<string, { host: string; port: number }> = {};
  for (const [i, front] of pgFronts.entries()) {
    const db = config.databases[i] as DatabaseConfig;
    const addr = await front.listen(db.listen.host, db.listen.port);
    databases[db.name] = { host: addr.address, port: addr.port };
  }
  const awsAddr = await aws.listen(config.listen.aws.host, config.listen.aws.port);
  webhooks.start();
  const apiAddr = await api.listen(config.listen.api.host, config.listen.api.port);
  // Pending approvals past their TTL become 'expired' (one process at a time: the coordinator).
  await coordinator.start();
  const expiry = setInterval(() => {
    // Revoked or expired grants lose their cached STS session (revocation may come from the CLI).
    sessions
      .prune(async (id) => grantIsLive(await store.getGrant(id), new Date()))
      .catch((e: unknown) => log(`session sweep failed: ${(e as Error).message}`));
  }, 1000);
  expiry.unref();
  if (opts.startupChecks === true) {
    const found = [
      ...checkFileModes(config),
      ...checkHoldWindow(config),
      ...checkRoutesReachable(
        config,
        (await store.listAgents()).filter((a) => a.revokedAt === undefined).map((a) => a.name),
        knownActions(),
        (input) => engine.evaluate(input),
      ),
    ];
    for (const p of found) observer.startupProblem(p.check, p.problem, p.fix);
    // Not awaited: the chain may take seconds (instance metadata); it warns when it answers.
    void checkCredentials(credentials).then((p) => {
      credentialState = p === undefined ? 'ok' : 'missing';
      if (p !== undefined) observer.startupProblem(p.check, p.problem, p.fix);
    });
  }
  return {
    metrics,
    awsUrl: `${awsTls === undefined ? 'http' : 'https'}://${awsAddr.address}:${awsAddr.port}`,
    awsDispatch: aws.dispatch,
    apiUrl: `${apiTls === undefined ? 'http' : 'https'}://${apiAddr.address}:${apiAddr.port}`,
    store,
    databases,
    mcpUrl: mcpAddr === undefined ? undefined : `http://${mcpAddr.address}:${mcpAddr.port}`,
    publishCheckpoint: async () => void (await checkpoints?.publish()),
    async close() {
      clearInterval(expiry);
      coordinator.stop();
      await Promise.all([aws.close(), api.close(), ...pgFronts.map((f) => f.close()), mcp?.close()]);
      await webhooks.stop();
      forwarder.close();
      sessions.close();
      await checkpoints
        ?.stop()
        .catch((e: unknown) => log(`checkpoint: final publish failed: ${(e as Error).message}`));
      await store.close();
    },
    async shutdown(graceMs: number) {
      clearInterval(expiry);
      coordinator.stop();
      const started = performance.now();
      await Promise.all([
        aws.shutdown(graceMs),
        ...pgFronts.map((f) => f.stopAccepting()),
        mcp?.stopAccepting(),
      ]);
      // Statements already sent on open Postgres sessions get the rest of the grace period.
      const left = Math.max(0, graceMs - (performance.now() - started));
      if (!(await recorder.drain(left)))
        log(
          `shutdown: ${recorder.pending} forwarded request(s) unfinished after ${graceMs} ms; recorded as cut off`,
        );
      await Promise.all([api.close(), ...pgFronts.map((f) => f.close()), mcp?.close()]);
      await webhooks.stop();
      forwarder.close();
      sessions.close();
      // The final checkpoint covers every outcome recorded above.
      await checkpoints
        ?.stop()
        .catch((e: unknown) => log(`checkpoint: final publish failed: ${(e as Error).message}`));
      await store.close();
    },
  };
}

/**
 * The certificate for an HTTPS listener (config `listen.aws_tls` / `api_tls`), or
 * undefined for plain HTTP, with a warning when plain HTTP listens beyond loopback:
 * SigV4 requests and approver tokens would then cross the network in clear.
 */
function listenerTls(
  config: AirlockConfig,
  tls: ListenerTls | undefined,
  name: 'aws' | 'api',
  log: (line: string) => void,
): { cert: Buffer; key: Buffer } | undefined {
  if (tls === undefined) {
    const host = config.listen[name].host;
    if (!/^(127\.|::1$|localhost$)/.test(host))
      log(
        `warning: the ${name === 'aws' ? 'AWS front' : 'approver API'} listens on ${host} over plain HTTP: set listen.${name}_tls (docs/AWS.md, "TLS")`,
      );
    return undefined;
  }
  const files = tlsFiles(
    config.dataDir,
    tls.kind === 'files' ? tls : undefined,
    name === 'aws' ? 'https-aws' : 'https-api',
  );
  return { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
}
