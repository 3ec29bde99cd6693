/**
 * Two `airlock serve` processes on one data_dir behave as one gateway for holds: a request
 * held on the first, retried on the second, waits on the same approval (the fingerprint is
 * in the store), and an approval decided through either process's API releases the
 * request held on the other (the waiter reads decisions from the store).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { REGION } from '../support/harness.js';
import { type Served, type ServeSetup, serve, setUpServe } from '../support/serve-process.js';

function client(s: ServeSetup, url: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: s.agent.accessKeyId, secretAccessKey: s.agent.secretAccessKey },
    maxAttempts: 1,
  });
}

async function api(p: Served, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${p.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function pendingIds(p: Served, token: string): Promise<string[]> {
  const r = await api(p, token, 'GET', '/v1/approvals?status=pending');
  return ((r.body.approvals ?? []) as { id: string }[]).map((a) => a.id);
}

describe('two airlock serve processes on one data_dir', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('a retry on the other process waits on the same approval; either API releases it', async () => {
    const s = await setUpServe();
    cleanups.push(async () => {
      await s.upstream.close();
      rmSync(s.dir, { recursive: true, force: true });
    });
    const a = await serve(s);
    cleanups.push(() => a.kill('SIGKILL'));
    const b = await serve(s);
    cleanups.push(() => b.kill('SIGKILL'));
    const put = (p: Served) =>
      client(s, p.awsUrl)
        .send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'two-1' } } }))
        .then(
          () => 'ok',
          (e: Error) => e.name,
        );
    const onA = put(a);
    let ids: string[] = [];
    for (let i = 0; i < 100 && ids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ids = await pendingIds(b, s.dbaToken);
    }
    assert.equal(ids.length, 1, 'B lists the approval A opened');
    const onB = put(b);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await pendingIds(a, s.dbaToken), ids, 'the retry on B joined it: still one approval');
    const id = ids[0] as string;
    const shown = await api(b, s.dbaToken, 'GET', `/v1/approvals/${id}`);
    assert.equal(shown.status, 200);
    const ok = await api(b, s.dbaToken, 'POST', `/v1/approvals/${id}/approve`, { comment: 'checked via B' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(await Promise.all([onA, onB]), ['ok', 'ok'], 'both held requests were released');
  });
});
