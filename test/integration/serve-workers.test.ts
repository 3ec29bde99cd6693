/**
 * `airlock serve --workers 2`: two gateway processes behind one set of listeners (node:cluster
 * hands each new connection to the next worker). Every request below opens a connection of
 * its own, so consecutive requests land on different workers; each assertion would fail on
 * half of them if the state it checks were kept per process: console sessions and sign-out,
 * the sign-in throttle, retry dedupe of a held request, and release by an approval decided
 * on either worker. SIGTERM to the primary drains both workers and exits 0.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { after, describe, it } from 'node:test';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { hashPassword } from '../../src/api/passwords.js';
import { openMasterKey, openStore } from '../../src/app.js';
import { REGION } from '../support/harness.js';
import { type Served, type ServeSetup, serve, setUpServe } from '../support/serve-process.js';

const PASSWORD = 'correct horse battery';

/** One request on a fresh connection (no keep-alive), so the cluster picks a worker for it. */
function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      {
        method,
        agent: false,
        headers: { ...headers, ...(data === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          text += d;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text === '' ? {} : JSON.parse(text),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

function agentClient(s: ServeSetup, url: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: s.agent.accessKeyId, secretAccessKey: s.agent.secretAccessKey },
    maxAttempts: 1,
    // A connection per request: the retry may reach the other worker.
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: false }) }),
  });
}

describe('serve --workers 2', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('shares console sessions, the throttle, holds and approvals between workers; SIGTERM drains both', async () => {
    const s = await setUpServe();
    cleanups.push(async () => {
      await s.upstream.close();
      rmSync(s.dir, { recursive: true, force: true });
    });
    const store = openStore(s.config, openMasterKey(s.config));
    await store.setApproverPassword('alice', await hashPassword(PASSWORD), new Date());
    await store.close();
    const p: Served = await serve(s, undefined, ['--workers', '2']);
    cleanups.push(() => p.kill('SIGKILL'));
    assert.match(p.stderr(), /airlock: 2 workers \(pids \d+, \d+\)/);
    const pids = execFileSync('pgrep', ['-P', String(p.proc.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    assert.equal(pids.length, 2, 'the primary runs two worker processes');

    // A console session made on one worker works on the other, until sign-out on either.
    const signIn = await call(p.apiUrl, 'POST', '/v1/session', {}, { name: 'alice', password: PASSWORD });
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    const cookie = String(signIn.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
    for (let i = 0; i < 6; i++) {
      const r = await call(p.apiUrl, 'GET', '/v1/session', { cookie });
      assert.equal(r.status, 200, `request ${i}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.approver, 'alice');
    }
    const csrf = String((await call(p.apiUrl, 'GET', '/v1/session', { cookie })).body.csrfToken);
    const out = await call(p.apiUrl, 'DELETE', '/v1/session', { cookie, 'x-airlock-csrf': csrf });
    assert.equal(out.status, 200, JSON.stringify(out.body));
    for (let i = 0; i < 4; i++)
      assert.equal(
        (await call(p.apiUrl, 'GET', '/v1/session', { cookie })).status,
        401,
        `after sign-out, ${i}`,
      );

    // Five wrong passwords spread over both workers block the name on both.
    for (let i = 0; i < 5; i++) {
      const r = await call(p.apiUrl, 'POST', '/v1/session', {}, { name: 'alice', password: `wrong ${i}` });
      assert.equal(r.status, 401);
    }
    for (let i = 0; i < 2; i++) {
      const r = await call(p.apiUrl, 'POST', '/v1/session', {}, { name: 'alice', password: PASSWORD });
      assert.equal(r.status, 429, `blocked on every worker (${i})`);
    }

    // A held write and its retry (on the other worker) wait on one approval; approving releases both.
    const put = () =>
      agentClient(s, p.awsUrl)
        .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'workers-1' } } }))
        .then(
          () => 'ok',
          (e: Error) => e.name,
        );
    const bearer = { authorization: `Bearer ${s.dbaToken}` };
    const first = put();
    let ids: string[] = [];
    for (let i = 0; i < 100 && ids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const r = await call(p.apiUrl, 'GET', '/v1/approvals?status=pending', bearer);
      ids = (r.body.approvals as { id: string }[]).map((a) => a.id);
    }
    assert.equal(ids.length, 1);
    const retry = put();
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 2; i++) {
      const r = await call(p.apiUrl, 'GET', '/v1/approvals?status=pending', bearer);
      assert.deepEqual(
        (r.body.approvals as { id: string }[]).map((a) => a.id),
        ids,
        'still one approval',
      );
    }
    assert.equal((await call(p.apiUrl, 'GET', `/v1/approvals/${ids[0]}`, bearer)).status, 200);
    const ok = await call(p.apiUrl, 'POST', `/v1/approvals/${ids[0]}/approve`, bearer, {
      comment: 'checked',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(await Promise.all([first, retry]), ['ok', 'ok']);

    p.proc.kill('SIGTERM');
    assert.equal(await p.exited, 0);
    assert.match(p.stderr(), /SIGTERM: stopping 2 workers/);
    assert.equal((p.stderr().match(/airlock: stopped/g) ?? []).length, 2, 'both workers drained');
  });
});
