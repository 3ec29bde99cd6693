/**
 * Hostile peers and stuck dependencies, against `airlock serve` as a real process:
 * anonymous peers with huge bodies cost no memory, slow bodies are closed, a hung
 * upstream costs a request the configured deadline (and the pool recovers), and deep
 * JSON is refused before anything recurses. RSS is read from /proc.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { REGION } from '../support/harness.js';
import { readLedger, type Served, type ServeSetup, serve, setUpServe } from '../support/serve-process.js';

/** The documented bound: 60 peers × 15 MiB bodies with bogus keys add less than this. */
const RSS_BOUND_MB = 100;

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

function client(s: ServeSetup, url: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: s.agent.accessKeyId, secretAccessKey: s.agent.secretAccessKey },
    maxAttempts: 1,
  });
}

const Sha256 = Hash.bind(null, 'sha256');

const statusOf = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { $metadata?: { httpStatusCode?: number }; name?: string }) => e.$metadata?.httpStatusCode ?? e.name,
  );

/** Sends raw bytes on a fresh connection; resolves with what came back before it closed (or `ms`). */
function raw(url: string, head: string, body: (sock: net.Socket) => void, ms: number) {
  const u = new URL(url);
  return new Promise<{ reply: string; closed: boolean }>((resolve) => {
    const sock = net.connect(Number(u.port), u.hostname);
    let reply = '';
    let closed = false;
    const t = setTimeout(() => {
      sock.destroy();
      resolve({ reply, closed });
    }, ms);
    sock.on('data', (d) => {
      reply += d.toString('latin1');
    });
    sock.on('close', () => {
      closed = true;
      clearTimeout(t);
      resolve({ reply, closed });
    });
    sock.on('error', () => undefined);
    sock.on('connect', () => {
      sock.write(head);
      body(sock);
    });
  });
}

describe('hostile peers and stuck upstreams (airlock serve as a process)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function start(opts: Parameters<typeof setUpServe>[0] = {}): Promise<{ s: ServeSetup; p: Served }> {
    const s = await setUpServe(opts);
    cleanups.push(async () => {
      await s.upstream.close();
      rmSync(s.dir, { recursive: true, force: true });
    });
    const p = await serve(s);
    cleanups.push(() => p.kill('SIGKILL'));
    return { s, p };
  }

  it(`60 anonymous peers sending 15 MiB bodies with a bogus key add < ${RSS_BOUND_MB} MB and are refused`, async () => {
    const { s, p } = await start();
    const pid = p.proc.pid as number;
    const before = rssMb(pid);
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const head = (i: number) =>
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=ALAKBOGUSBOGUSBOG${String(i).padStart(3, '0')}/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}\r\nContent-Length: ${15 * 1024 * 1024}\r\n\r\n`;
    const peers = Array.from({ length: 60 }, (_, i) =>
      raw(
        p.awsUrl,
        head(i),
        (sock) => {
          for (let n = 0; n < 15 && !sock.destroyed; n++) sock.write(chunk);
        },
        10_000,
      ),
    );
    const results = await Promise.all(peers);
    const peak = rssMb(pid);
    // Each is answered from its headers alone and closed. A peer still pushing its body when
    // the server closes may get a TCP reset that discards the answer it had received: then
    // it sees only the close. None is left open, and none gets anything but the refusal.
    for (const r of results) {
      assert.ok(r.closed, 'closed by the gateway');
      if (r.reply !== '') assert.match(r.reply, /^HTTP\/1\.1 400 [\s\S]*UnrecognizedClientException/);
    }
    assert.ok(
      results.some((r) => r.reply !== ''),
      'the refusal is an AWS error',
    );
    assert.ok(peak - before < RSS_BOUND_MB, `RSS grew ${Math.round(peak - before)} MB (${before} → ${peak})`);
    // Still serving.
    assert.equal(
      await statusOf(
        client(s, p.awsUrl).send(new GetItemCommand({ TableName: 'events', Key: { id: { S: 'x' } } })),
      ),
      200,
    );
  });

  it('a body that dribbles in is cut off at the body deadline; headers that dribble at the header deadline', async () => {
    const { s, p } = await start({
      extraYaml: 'limits:\n  body_timeout_seconds: 1\n  header_timeout_seconds: 2\n',
    });
    const t0 = performance.now();
    const head = `POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\nAuthorization: AWS4-HMAC-SHA256 Credential=${s.agent.accessKeyId}/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}\r\nContent-Length: 1000\r\n\r\n`;
    const slowBody = await raw(
      p.awsUrl,
      head,
      (sock) => {
        const t = setInterval(() => (sock.destroyed ? clearInterval(t) : sock.write('a')), 200);
        sock.once('close', () => clearInterval(t));
      },
      8000,
    );
    assert.ok(slowBody.closed, 'the connection was closed');
    assert.ok(performance.now() - t0 < 4000, `closed after ${Math.round(performance.now() - t0)} ms`);
    const t1 = performance.now();
    const slowHead = await raw(
      p.awsUrl,
      'POST / HTTP/1.1\r\n',
      (sock) => {
        const t = setInterval(() => (sock.destroyed ? clearInterval(t) : sock.write('X-A: b\r\n')), 200);
        sock.once('close', () => clearInterval(t));
      },
      10_000,
    );
    assert.ok(slowHead.closed);
    assert.ok(performance.now() - t1 < 7000, `closed after ${Math.round(performance.now() - t1)} ms`);
  });

  it('a hung upstream: requests get 503 at the deadline, are recorded as errors, and the pool recovers', async () => {
    // A TCP relay to the real upstream that can be switched to accept-and-never-answer.
    let hung = false;
    let target = 0;
    const held: net.Socket[] = [];
    const relay = net.createServer((inbound) => {
      if (hung) {
        held.push(inbound);
        inbound.on('error', () => undefined);
        return;
      }
      const out = net.connect(target, '127.0.0.1');
      // While hung, what arrives on a pooled connection is swallowed: it never gets an answer.
      inbound.on('data', (d) => {
        if (!hung) out.write(d);
      });
      out.pipe(inbound);
      inbound.on('close', () => out.destroy());
      inbound.on('error', () => out.destroy());
      out.on('error', () => inbound.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const relayPort = (relay.address() as net.AddressInfo).port;
    cleanups.push(() => {
      for (const h of held) h.destroy();
      relay.close();
    });
    const { s, p } = await start({
      endpoint: (url) => {
        target = Number(new URL(url).port);
        return `http://127.0.0.1:${relayPort}`;
      },
      extraYaml: 'limits:\n  upstream_response_timeout_seconds: 1\n',
    });
    const c = client(s, p.awsUrl);
    const get = () => c.send(new GetItemCommand({ TableName: 'events', Key: { id: { S: 'x' } } }));
    assert.equal(await statusOf(get()), 200);
    hung = true;
    // Sockets already in the pool are hung too: the relay holds new ones, and old ones stall.
    for (const h of held) h.destroy();
    const t0 = performance.now();
    const statuses = await Promise.all(Array.from({ length: 20 }, () => statusOf(get())));
    const took = performance.now() - t0;
    assert.deepEqual(statuses, Array(20).fill(503));
    assert.ok(took < 5000, `answered within the deadline (${Math.round(took)} ms)`);
    hung = false;
    for (const h of held) h.destroy();
    const t1 = performance.now();
    assert.equal(await statusOf(get()), 200, 'the pool recovers with the upstream');
    assert.ok(performance.now() - t1 < 2000);
    const put = await statusOf(
      c.send(new PutItemCommand({ TableName: 'events', Item: { id: { S: 'after-hang' } } })),
    );
    assert.equal(put, 200);
    const { entries } = await readLedger(s);
    const timedOut = entries.filter(
      (e) => e.kind === 'action.outcome' && /ServiceUnavailable: .*no answer within 1000 ms/.test(e.body),
    );
    assert.equal(timedOut.length, 20, 'each timed-out request is recorded with its error');
  });

  it('deeply nested JSON is refused before anything recurses, and the process stays up', async () => {
    const { s, p } = await start();
    const c = client(s, p.awsUrl);
    let v: Record<string, unknown> = { S: 'leaf' };
    for (let i = 0; i < 1000; i++) v = { M: { a: v } };
    const viaSdk = await statusOf(
      c.send(new PutItemCommand({ TableName: 'events', Item: { id: { S: 'deep-1000' }, nest: v as never } })),
    );
    assert.equal(viaSdk, 400);
    // 3000 levels: the SDK itself overflows serializing that, so the request is signed by hand.
    const body = `{"TableName":"events","Item":{"id":{"S":"deep-3000"},"nest":${'{"M":{"a":'.repeat(3000)}{"S":"x"}${'}}'.repeat(3000)}}}`;
    const u = new URL(p.awsUrl);
    const signer = new SignatureV4({
      credentials: { accessKeyId: s.agent.accessKeyId, secretAccessKey: s.agent.secretAccessKey },
      region: REGION,
      service: 'dynamodb',
      sha256: Sha256,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: u.hostname,
        port: Number(u.port),
        path: '/',
        headers: {
          host: u.host,
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.PutItem',
        },
        body,
      }),
    );
    const res = await fetch(p.awsUrl, { method: 'POST', headers: signed.headers, body });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /nests deeper than/);
    assert.equal(s.upstream.received.filter((r) => r.body.includes('deep-')).length, 0, 'nothing forwarded');
    assert.equal(
      await statusOf(c.send(new GetItemCommand({ TableName: 'events', Key: { id: { S: 'x' } } }))),
      200,
    );
    assert.doesNotMatch(p.stderr(), /Maximum call stack/);
  });

  it('one agent cannot take every slot: requests beyond requests_per_agent get 503 ThrottlingException', async () => {
    const { s, p } = await start({ extraYaml: 'limits:\n  requests_per_agent: 2\n' });
    const c = client(s, p.awsUrl);
    // Two writes to orders are held (each takes a slot while it waits); a third is refused at once.
    const held = [1, 2].map((n) =>
      statusOf(c.send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: `slot-${n}` } } }))),
    );
    await new Promise((r) => setTimeout(r, 700));
    const t0 = performance.now();
    const third = await c.send(new GetItemCommand({ TableName: 'events', Key: { id: { S: 'x' } } })).then(
      () => 'ok',
      (e: Error) => e.name,
    );
    assert.equal(third, 'ThrottlingException');
    assert.ok(performance.now() - t0 < 1000);
    p.kill('SIGKILL');
    await Promise.all(held);
  });
});
