/**
 * The durability rule under faults, with real processes and the real SDK: nothing
 * reaches DynamoDB unless its record is durable. `airlock serve` runs as a child
 * process; it is killed with -9, stopped with SIGTERM, and its store is put on a full
 * disk, made read-only, locked by another process and deleted. Every assertion is made
 * at the upstream (what DynamoDB holds) and in the ledger (read back through the store).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import Database from 'better-sqlite3';
import { joinActionOutcomes } from '../../src/ledger/action-outcomes.js';
import { REGION } from '../support/harness.js';
import {
  cli,
  readLedger,
  type Served,
  type ServeSetup,
  serve,
  setUpServe,
} from '../support/serve-process.js';

const isRoot = process.getuid?.() === 0;

interface Sent {
  /** sha256 of each PutItem body, by item id: the ledger's requestHash. */
  readonly hashes: Map<string, string>;
  /** Item ids whose PutItem answered 200. */
  readonly acked: Set<string>;
  /** Airlock's request id of each acknowledged PutItem. */
  readonly ackedRequestIds: Set<string>;
}

function agentClient(s: ServeSetup, url: string, sent?: Sent): DynamoDBClient {
  const c = new DynamoDBClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: s.agent.accessKeyId, secretAccessKey: s.agent.secretAccessKey },
    maxAttempts: 1,
  });
  if (sent !== undefined) {
    // The exact bytes sent, to find each request's row by its hash.
    c.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { body?: unknown };
        const input = args.input as { Item?: { id?: { S?: string } } };
        const id = input.Item?.id?.S;
        const body = req.body;
        if (id !== undefined && (typeof body === 'string' || body instanceof Uint8Array))
          sent.hashes.set(id, createHash('sha256').update(body).digest('hex'));
        const out = await next(args);
        const res = out.response as { statusCode?: number; headers?: Record<string, string> };
        if (id !== undefined && res.statusCode === 200) {
          sent.acked.add(id);
          const rid = res.headers?.['x-airlock-request-id'];
          if (rid !== undefined) sent.ackedRequestIds.add(rid);
        }
        return out;
      },
      { step: 'finalizeRequest', name: 'recordSent', priority: 'low' },
    );
  }
  return c;
}

/** `workers` loops of PutItem into `events` until `stop()`; errors are counted, not thrown. */
function load(client: DynamoDBClient, workers: number, prefix: string) {
  let running = true;
  let errors = 0;
  const loops = Array.from({ length: workers }, async (_, w) => {
    for (let n = 0; running; n++) {
      try {
        await client.send(
          new PutItemCommand({ TableName: 'events', Item: { id: { S: `${prefix}-${w}-${n}` } } }),
        );
      } catch {
        errors++;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return errors;
    },
  };
}

async function itemsIn(s: ServeSetup, table: string, prefix = ''): Promise<Set<string>> {
  const ids = new Set<string>();
  let start: Record<string, never> | undefined;
  do {
    const page = await s.direct.send(
      new ScanCommand({ TableName: table, ...(start === undefined ? {} : { ExclusiveStartKey: start }) }),
    );
    for (const it of page.Items ?? []) {
      const id = it.id?.S;
      if (id?.startsWith(prefix)) ids.add(id);
    }
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start !== undefined);
  return ids;
}

/** Action bodies (intent and outcome joined) from the ledger. */
async function actions(s: ServeSetup) {
  const { entries, verified } = await readLedger(s);
  const rows = joinActionOutcomes(entries)
    .filter((e) => e.kind === 'action')
    .map((e) => JSON.parse(e.body) as Record<string, unknown>);
  return { rows, verified, raw: entries };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the record under faults (airlock serve as a process)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function started(s: ServeSetup): Promise<Served> {
    const p = await serve(s);
    cleanups.push(() => p.kill('SIGKILL'));
    return p;
  }

  /** A small tmpfs of its own (root only), unmounted when the suite ends. */
  function tmpfs(name: string, mib: number): string {
    const mnt = join(tmpdir(), `airlock-${name}-${process.pid}-${Date.now().toString(36)}`);
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m`, 'tmpfs', mnt]);
    cleanups.push(() => {
      try {
        execFileSync('umount', ['-l', mnt]);
      } catch {
        /* already unmounted */
      }
      rmSync(mnt, { recursive: true, force: true });
    });
    return mnt;
  }

  async function setUp(opts?: Parameters<typeof setUpServe>[0]): Promise<ServeSetup> {
    const s = await setUpServe(opts);
    cleanups.push(async () => {
      await s.upstream.close();
      rmSync(s.dir, { recursive: true, force: true });
    });
    return s;
  }

  it('kill -9 under load: every write in DynamoDB and every acknowledged request has its row', async () => {
    const s = await setUp();
    const sent: Sent = { hashes: new Map(), acked: new Set(), ackedRequestIds: new Set() };
    for (let round = 0; round < 2; round++) {
      const p = await started(s);
      const l = load(agentClient(s, p.awsUrl, sent), 8, `k${round}`);
      // Kill mid-load: once this round has had some writes acknowledged (bounded in time).
      const target = sent.acked.size + 40;
      for (let t = 0; t < 300 && sent.acked.size < target; t++) await sleep(50);
      await sleep(100);
      p.kill('SIGKILL');
      assert.equal(await p.exited, 'SIGKILL');
      await l.stop();
    }
    const inDynamo = await itemsIn(s, 'events');
    const { rows, verified } = await actions(s);
    assert.ok(verified, 'the ledger verifies after two kill -9');
    assert.ok(inDynamo.size >= 80, `load reached DynamoDB (${inDynamo.size} items)`);
    const hashes = new Set(rows.map((r) => r.requestHash));
    const unrecorded = [...inDynamo].filter((id) => !hashes.has(sent.hashes.get(id)));
    assert.deepEqual(unrecorded, [], 'items in DynamoDB without an action row');
    const ids = new Set(rows.map((r) => r.requestId));
    const ackedMissing = [...sent.ackedRequestIds].filter((id) => !ids.has(id));
    assert.deepEqual(ackedMissing, [], 'acknowledged requests without an action row');
    for (const id of sent.acked) assert.ok(inDynamo.has(id), `acknowledged ${id} is in DynamoDB`);
    // Requests cut off by the kill show as outcome unknown, never as missing or as a success.
    for (const r of rows) assert.ok(r.outcome === 'allowed' || r.outcome === 'unknown', String(r.outcome));
    const verify = await cli(s, ['audit', 'verify']);
    assert.equal(verify.code, 0, verify.stderr);
  });

  it('SIGTERM under load: in-flight requests finish with outcomes, held ones get a retry error, exit 0', async () => {
    const s = await setUp();
    const p = await started(s);
    const sent: Sent = { hashes: new Map(), acked: new Set(), ackedRequestIds: new Set() };
    const client = agentClient(s, p.awsUrl, sent);
    const held = client.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'held-1' } } })).then(
      () => 'answered',
      (e: Error) => e.name,
    );
    const l = load(client, 8, 'term');
    for (let t = 0; t < 300 && sent.acked.size < 40; t++) await sleep(50);
    p.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.stderr());
    await l.stop();
    assert.equal(await held, 'ApprovalPendingException');
    const inDynamo = await itemsIn(s, 'events', 'term');
    const { rows, verified } = await actions(s);
    assert.ok(verified);
    assert.ok(inDynamo.size >= 40, `${inDynamo.size} items`);
    const byHash = new Map(rows.map((r) => [r.requestHash, r]));
    for (const id of inDynamo) {
      const row = byHash.get(sent.hashes.get(id));
      assert.ok(row !== undefined, `${id} has a row`);
      // A graceful stop records every forwarded request's outcome.
      assert.equal(row.upstreamStatus, 200, `${id}: ${JSON.stringify(row)}`);
    }
    assert.equal(rows.filter((r) => r.outcome === 'unknown').length, 0);
    for (const id of sent.ackedRequestIds) assert.ok(rows.some((r) => r.requestId === id));
    const pendingHeld = (await readLedger(s)).entries.filter((e) => e.kind === 'approval.resolved');
    assert.equal(pendingHeld.length, 0, 'the held request’s approval stays pending');
    assert.equal((await itemsIn(s, 'orders')).size, 0);
  });

  it('a write lock held by another process: requests fail closed after the wait, the event loop stays free', async () => {
    const s = await setUp();
    const p = await started(s);
    const client = agentClient(s, p.awsUrl);
    await client.send(new PutItemCommand({ TableName: 'events', Item: { id: { S: 'before-lock' } } }));
    const other = new Database(join(s.dataDir, 'airlock.sqlite'));
    other.exec('BEGIN EXCLUSIVE');
    try {
      const t0 = performance.now();
      const put = client
        .send(new PutItemCommand({ TableName: 'events', Item: { id: { S: 'during-lock' } } }))
        .then(
          () => 200,
          (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
        );
      // While the write waits for the lock, the process still answers at once.
      await sleep(300);
      const h0 = performance.now();
      const ready = await fetch(`${p.apiUrl}/healthz`);
      assert.equal(ready.status, 200);
      assert.ok(performance.now() - h0 < 500, 'healthz answered while the store was locked');
      assert.equal(await put, 503);
      const waited = performance.now() - t0;
      assert.ok(waited >= 1500 && waited < 6000, `refused after the lock wait (${Math.round(waited)} ms)`);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    assert.equal((await itemsIn(s, 'events', 'during')).size, 0, 'nothing unrecorded reached DynamoDB');
    await client.send(new PutItemCommand({ TableName: 'events', Item: { id: { S: 'after-lock' } } }));
    assert.ok((await itemsIn(s, 'events', 'after')).has('after-lock'), 'recovers when the lock is gone');
  });

  it('a deleted data directory: requests are refused, /readyz says why, nothing reaches DynamoDB', async () => {
    const s = await setUp();
    const p = await started(s);
    const client = agentClient(s, p.awsUrl);
    await client.send(new PutItemCommand({ TableName: 'events', Item: { id: { S: 'before-rm' } } }));
    rmSync(s.dataDir, { recursive: true, force: true });
    const put = await client
      .send(new PutItemCommand({ TableName: 'events', Item: { id: { S: 'after-rm' } } }))
      .then(
        () => 200,
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
      );
    assert.equal(put, 503);
    const get = await client
      .send(new GetItemCommand({ TableName: 'events', Key: { id: { S: 'before-rm' } } }))
      .then(
        () => 200,
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
      );
    assert.equal(get, 503, 'reads are refused too: they could not be recorded');
    const ready = await fetch(`${p.apiUrl}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(String(((await ready.json()) as { store: string }).store), /deleted/);
    assert.deepEqual([...(await itemsIn(s, 'events', 'after'))], []);
  });

  it('a full disk: allowed requests are refused and DynamoDB is untouched; it recovers when space returns', {
    skip: isRoot ? false : 'needs root to mount a tmpfs',
  }, async () => {
    const mnt = tmpfs('full', 6);
    const s = await setUp({ dataDir: join(mnt, 'data') });
    const p = await started(s);
    const client = agentClient(s, p.awsUrl);
    await client.send(new PutItemCommand({ TableName: 'events', Item: { id: { S: 'before-full' } } }));
    // Fill the disk (dd stops at ENOSPC).
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
    } catch {
      /* ENOSPC is the point */
    }
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      const status = await client
        .send(
          new PutItemCommand({
            TableName: 'events',
            Item: { id: { S: `full-${i}` }, pad: { S: 'x'.repeat(2000) } },
          }),
        )
        .then(
          () => 200,
          (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
        );
      if (status === 503) refused++;
    }
    const reached = await itemsIn(s, 'events', 'full-');
    const { rows } = await (async () => {
      // Read the ledger once space is back (the reader needs to open the file).
      rmSync(join(mnt, 'filler'));
      return actions(s);
    })();
    const hashes = rows.length;
    assert.ok(refused > 0, 'some requests were refused on the full disk');
    // Whatever reached DynamoDB was recorded first.
    assert.ok(reached.size <= 40 - refused, `${reached.size} reached, ${refused} refused`);
    assert.ok(hashes >= 1 + reached.size);
    const ready = await fetch(`${p.apiUrl}/readyz`);
    assert.equal(ready.status, 200, 'ready again once space returned');
    await client.send(new PutItemCommand({ TableName: 'events', Item: { id: { S: 'after-full' } } }));
    assert.ok((await itemsIn(s, 'events', 'after')).has('after-full'));
    const verify = await cli(s, ['audit', 'verify']);
    assert.equal(verify.code, 0, verify.stderr);
  });

  it('a read-only store: the gateway refuses to start, with the fix in the message', {
    skip: isRoot ? false : 'needs root to mount a tmpfs',
  }, async () => {
    const mnt = tmpfs('ro', 16);
    const s = await setUp({ dataDir: join(mnt, 'data') });
    writeFileSync(join(mnt, 'marker'), 'x');
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    const r = await serve(s).then(
      (p) => {
        p.kill('SIGKILL');
        return 'started';
      },
      (e: Error) => e.message,
    );
    assert.match(r, /cannot write|read-only|readonly/i);
  });
});
