/**
 * A stuck upstream database: one that accepts the TCP connection and then never answers
 * (the StartupMessage, or SSLRequest) costs a session the connect deadline and ends in
 * SQLSTATE 08006, instead of hanging the agent forever.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PgError } from '../../src/fronts/postgres/pg-error.js';
import { connectUpstream } from '../../src/fronts/postgres/upstream-connection.js';

describe('upstream connection deadline', () => {
  let server: net.Server;
  let port = 0;
  const held: net.Socket[] = [];
  before(async () => {
    server = net.createServer((s) => {
      held.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => {
    for (const s of held) s.destroy();
    server.close();
  });

  for (const mode of ['disable', 'require'] as const)
    it(`tls ${mode}: a silent upstream fails with 08006 at the deadline`, async () => {
      const t0 = performance.now();
      const err = await connectUpstream(
        {
          host: '127.0.0.1',
          port,
          database: 'app',
          user: 'airlock',
          tls: { mode, caFile: undefined },
          password: async () => 'x',
          connectTimeoutMs: 300,
        },
        new Map(),
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      const took = performance.now() - t0;
      assert.ok(err instanceof PgError, String(err));
      assert.equal(err.code, '08006');
      assert.match(err.message, /did not finish its startup within 300 ms/);
      assert.ok(took >= 250 && took < 2000, `${Math.round(took)} ms`);
    });
});
