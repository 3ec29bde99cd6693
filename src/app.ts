/**
 * Assembles one Airlock process: store, policy, gate, the AWS front and the API.
 */
import { join } from 'node:path';
import { Recorder } from './access/recorder.js';
import { ApiServer } from './api/server.js';
import { Decider } from './approvals/decide.js';
import { type Evaluator, Gate } from './approvals/gate.js';
import { Waiter } from './approvals/waiter.js';
import type { AirlockConfig } from './config/config.js';
import type { DatabaseConfig } from './config/databases.js';
import { DEFAULT_LIMITS } from './config/load-limits.js';
import { MasterKey } from './core/secrets.js';
import { codecFor } from './fronts/aws/codecs.js';
import { Forwarder } from './fronts/aws/forward.js';
import { RouteTable } from './fronts/aws/routes.js';
import { AwsFront } from './fronts/aws/server.js';
import { serviceActionGroups, serviceIamActions } from './fronts/aws/service-actions.js';
import { dynamoDbActionClass } from './fronts/aws/services/dynamodb.js';
import { dynamoDbIamActions } from './fronts/aws/services/dynamodb-operations.js';
import { postgresActionGroups, postgresActions } from './fronts/postgres/actions.js';
import { postgresDatabase } from './fronts/postgres/database.js';
import { PostgresFront } from './fronts/postgres/server.js';
import { startCheckpoints } from './ledger/checkpoint-publisher.js';
import { describeStore, openConfiguredStore } from './ledger/open-store.js';
import type { Store } from './ledger/store.js';
import { PolicyEngine } from './policy/engine.js';
import { memoizeEvaluator } from './policy/memo-evaluator.js';
import { type CredentialSource, defaultCredentialChain } from './upstream/aws-credentials.js';
import { grantIsLive, ScopedSessions } from './upstream/scoped-sessions.js';

export interface RunningAirlock {
  readonly awsUrl: string;
  readonly apiUrl: string;
  readonly store: Store;
  /** Postgres front listeners by database name. */
  readonly databases: Readonly<Record<string, { readonly host: string; readonly port: number }>>;
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

/** The store the config names: SQLite in data_dir (default) or a shared PostgreSQL (ledger/open-store.ts). */
export function openStore(config: AirlockConfig, key: MasterKey): Store {
  return openConfiguredStore(config, key.derive('ledger'));
}

export function actionGroups(action: string): string[] {
  if (action.startsWith('postgres:')) return postgresActionGroups(action);
  const cls = dynamoDbActionClass(action);
  if (cls !== 'unknown') return [`dynamodb:${cls}`];
  return serviceActionGroups(action);
}

export async function loadPolicy(config: AirlockConfig): Promise<PolicyEngine> {
  return PolicyEngine.load([...config.policies], {
    defaultMaxGrantSeconds: config.holds.defaultMaxGrantSeconds,
    knownActions: [...dynamoDbIamActions(), ...serviceIamActions(), ...postgresActions()],
    actionGroups,
  });
}

export async function startAirlock(
  config: AirlockConfig,
  opts: { credentials?: CredentialSource; log?: (line: string) => void } = {},
): Promise<RunningAirlock> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const engine = await loadPolicy(config);
  // Decisions memoized per second (exact, see memo-evaluator.ts); one gate for every front.
  const policy: Evaluator = memoizeEvaluator(engine);
  const key = openMasterKey(config);
  const store = openStore(config, key);
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
  store.watchApprovals?.((id) => waiter.recheck(id));
  const gate = new Gate(store, () => policy, waiter, {
    holdWindowMs: config.holds.windowSeconds * 1000,
    approvalTtlMs: config.holds.approvalTtlSeconds * 1000,
  });
  const recorder = new Recorder(store, log);
  const credentials = opts.credentials ?? defaultCredentialChain();
  const limits = config.limits ?? DEFAULT_LIMITS;
  const forwarder = new Forwarder(credentials, {
    connectTimeoutMs: limits.upstreamConnectTimeoutMs,
    responseTimeoutMs: limits.upstreamResponseTimeoutMs,
  });
  const sessions = new ScopedSessions(credentials);
  const aws = new AwsFront({
    store,
    recorder,
    masterKey: key,
    gate,
    forwarder,
    routes: new RouteTable(config.resources),
    accountId: config.aws.accountId,
    clockSkewSeconds: config.aws.clockSkewSeconds,
    log,
    sessions,
    codecFor,
    limits,
  });
  const api = new ApiServer({
    store,
    decider: new Decider(store, waiter, undefined, config.guards),
    log,
    guards: config.guards,
    policy: (id) => engine.describe(id),
    console: config.console,
    adminGroups: config.admins?.groups ?? [],
  });
  const pgFronts = config.databases.map(
    (db) =>
      new PostgresFront({
        store,
        recorder,
        masterKey: key,
        gate,
        db: postgresDatabase(config, db, credentials),
        log,
      }),
  );
  const databases: Record<string, { host: string; port: number }> = {};
  for (const [i, front] of pgFronts.entries()) {
    const db = config.databases[i] as DatabaseConfig;
    const addr = await front.listen(db.listen.host, db.listen.port);
    databases[db.name] = { host: addr.address, port: addr.port };
  }
  const awsAddr = await aws.listen(config.listen.aws.host, config.listen.aws.port);
  const apiAddr = await api.listen(config.listen.api.host, config.listen.api.port);
  // Pending approvals past their TTL become 'expired' and wake their waiters.
  const expiry = setInterval(() => {
    store.expireApprovals(new Date()).then(
      (ids) => {
        for (const id of ids) waiter.notify(id, 'expired');
      },
      (e: unknown) => log(`expiry sweep failed: ${(e as Error).message}`),
    );
    // Revoked or expired grants lose their cached STS session (revocation may come from the CLI).
    sessions
      .prune(async (id) => grantIsLive(await store.getGrant(id), new Date()))
      .catch((e: unknown) => log(`session sweep failed: ${(e as Error).message}`));
  }, 1000);
  expiry.unref();
  return {
    awsUrl: `http://${awsAddr.address}:${awsAddr.port}`,
    apiUrl: `http://${apiAddr.address}:${apiAddr.port}`,
    store,
    databases,
    publishCheckpoint: async () => void (await checkpoints?.publish()),
    async close() {
      clearInterval(expiry);
      await Promise.all([aws.close(), api.close(), ...pgFronts.map((f) => f.close())]);
      forwarder.close();
      sessions.close();
      await checkpoints
        ?.stop()
        .catch((e: unknown) => log(`checkpoint: final publish failed: ${(e as Error).message}`));
      await store.close();
    },
    async shutdown(graceMs: number) {
      clearInterval(expiry);
      const started = performance.now();
      await Promise.all([aws.shutdown(graceMs), ...pgFronts.map((f) => f.stopAccepting())]);
      // Statements already sent on open Postgres sessions get the rest of the grace period.
      const left = Math.max(0, graceMs - (performance.now() - started));
      if (!(await recorder.drain(left)))
        log(
          `shutdown: ${recorder.pending} forwarded request(s) unfinished after ${graceMs} ms; recorded as cut off`,
        );
      await Promise.all([api.close(), ...pgFronts.map((f) => f.close())]);
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
