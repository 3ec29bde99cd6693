/**
 * Refusals at the MCP front's edge: each gets a clear HTTP status and JSON-RPC error,
 * and none reaches the upstream (counted there).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type McpHarness, startMcpHarness } from '../support/mcp-harness.js';

let h: McpHarness;
let url: string;

before(async () => {
  h = await startMcpHarness();
  url = `${h.mcpUrl}/mcp/counter`;
  // Connect Airlock to the upstream once, so every count below is of forwarded traffic only.
  await (await h.client('counter')).listTools();
});
after(async () => h.close());

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function post(
  body: string | Buffer,
  headers: Record<string, string> = {},
  target = url,
): Promise<{
  status: number;
  json: { error?: { code: number; message: string }; result?: unknown };
  headers: Headers;
}> {
  const res = await fetch(target, {
    method: 'POST',
    headers: { ...HEADERS, authorization: `Bearer ${h.token}`, ...headers },
    body,
  });
  const raw = await res.text();
  // A request answered over SSE carries its JSON-RPC message in a `data:` line.
  const data = raw.startsWith('{') ? raw : (/^data: (.*)$/m.exec(raw)?.[1] ?? '{}');
  return { status: res.status, json: JSON.parse(data), headers: res.headers };
}

const call = (name: string, id: number | string = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

describe('mcp front: the edge', () => {
  it('refuses a missing, malformed or wrong bearer token with 401 and nothing upstream', async () => {
    const before = h.counter.requests;
    for (const authorization of [
      '',
      'Bearer nonsense',
      `Bearer ${h.agent.accessKeyId}:wrong-secret`,
      `Bearer AKIAAAAAAAAAAAAAAAAA:${h.agent.secretAccessKey}`,
      `Basic ${Buffer.from(h.token).toString('base64')}`,
    ]) {
      const r = await post(call('count'), { authorization });
      assert.equal(r.status, 401, authorization);
      assert.equal(r.json.error?.code, -32600);
      assert.match(r.json.error?.message ?? '', /^Unauthorized: /);
      assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="airlock"');
      // The token never comes back in the answer.
      assert.ok(!JSON.stringify(r.json).includes(h.agent.secretAccessKey));
    }
    assert.equal(h.counter.requests, before);
  });

  it('malformed JSON-RPC, batches, huge messages: clear errors, nothing upstream', async () => {
    const before = h.counter.requests;
    const parse = await post('{"jsonrpc": "2.0", "id": 1, "method": ');
    assert.equal(parse.status, 400);
    assert.equal(parse.json.error?.code, -32700);
    const batch = await post(`[${call('count', 1)},${call('count', 2)}]`);
    assert.equal(batch.status, 400);
    assert.equal(batch.json.error?.code, -32600);
    assert.match(batch.json.error?.message ?? '', /batches are not accepted/);
    for (const bad of ['42', '{"id":1,"method":"tools/call"}', '{"jsonrpc":"2.0","id":{},"method":"ping"}']) {
      const r = await post(bad);
      assert.equal(r.status, 400, bad);
      assert.equal(r.json.error?.code, -32600, bad);
    }
    const huge = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'count', arguments: { target: 'x'.repeat(200_000) } },
    });
    const big = await post(huge);
    assert.equal(big.status, 413);
    assert.match(big.json.error?.message ?? '', /exceeds 65536 bytes/);
    assert.equal(h.counter.requests, before);
    assert.equal(h.counter.calls.get('count'), undefined);
  });

  it('unknown methods get -32601; other paths and verbs 404 / 405; nothing upstream', async () => {
    const before = h.counter.requests;
    for (const method of [
      'tools/delete',
      'completion/complete',
      'sampling/createMessage',
      'resources/read',
    ]) {
      const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 7, method, params: {} }));
      assert.equal(r.json.error?.code, -32601, method);
    }
    const nowhere = await post(call('count'), {}, `${h.mcpUrl}/mcp/nope`);
    assert.equal(nowhere.status, 404);
    const get = await fetch(url, { headers: { ...HEADERS, authorization: `Bearer ${h.token}` } });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal(h.counter.requests, before);
  });

  it('a well-formed call with the token still works after all that', async () => {
    const r = await post(call('count'));
    assert.equal(r.status, 200);
    assert.equal(h.counter.calls.get('count'), 1);
  });
});
