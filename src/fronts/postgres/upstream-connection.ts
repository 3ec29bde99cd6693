/**
 * Opens Airlock's own session to the upstream PostgreSQL: TCP, optional TLS
 * (SSLRequest, then a CA-verified handshake), StartupMessage as Airlock's database
 * user, and authentication with Airlock's password (SCRAM-SHA-256, MD5 or
 * cleartext over TLS, e.g. an RDS IAM token). The agent never sees any of it.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { serialize } from 'pg-protocol';
import { Auth, Backend, BackendFramer, decodeErrorFields } from './backend-codec.js';
import { PgError, SqlState } from './pg-error.js';
import { SCRAM_MECHANISM, ScramClient } from './scram-sha-256.js';

export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly tls: { readonly mode: 'disable' | 'require' | 'verify-full'; readonly caFile: string | undefined };
  readonly password: () => Promise<string>;
  readonly connectTimeoutMs: number;
}

export interface UpstreamSession {
  readonly socket: Socket;
  /** Raw ParameterStatus messages to relay to the client. */
  readonly parameterStatus: readonly Buffer[];
  readonly parameters: ReadonlyMap<string, string>;
  readonly pid: number;
  readonly secret: Buffer;
}

export async function connectUpstream(
  target: UpstreamTarget,
  startupParams: ReadonlyMap<string, string>,
): Promise<UpstreamSession> {
  let socket: Socket = await openTcp(target);
  // One deadline for the whole startup (TLS and authentication too): an upstream that
  // accepts and then never answers costs the agent this long, not forever.
  const deadline = setTimeout(
    () =>
      socket.destroy(
        unavailable(`the upstream database did not finish its startup within ${target.connectTimeoutMs} ms`),
      ),
    target.connectTimeoutMs,
  );
  try {
    if (target.tls.mode !== 'disable') socket = await startTls(socket, target);
    return await authenticate(socket, target, startupParams);
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    clearTimeout(deadline);
  }
}

/** Sends a CancelRequest on a fresh connection (PostgreSQL's own cancel path). */
export async function cancelUpstream(target: UpstreamTarget, pid: number, secret: Buffer): Promise<void> {
  let socket: Socket = await openTcp(target);
  try {
    if (target.tls.mode !== 'disable') socket = await startTls(socket, target);
    const msg = Buffer.alloc(12 + secret.length);
    msg.writeInt32BE(msg.length, 0);
    msg.writeInt32BE(80877102, 4);
    msg.writeInt32BE(pid, 8);
    secret.copy(msg, 12);
    await new Promise<void>((resolve) => socket.end(msg, resolve));
  } finally {
    socket.destroy();
  }
}

function openTcp(t: UpstreamTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: t.host, port: t.port });
    const timer = setTimeout(
      () => s.destroy(new Error(`timed out connecting to ${t.host}:${t.port}`)),
      t.connectTimeoutMs,
    );
    s.once('connect', () => {
      clearTimeout(timer);
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(unavailable(`cannot reach the upstream database: ${e.message}`));
    });
  });
}

async function startTls(socket: Socket, t: UpstreamTarget): Promise<Socket> {
  socket.write(serialize.requestSsl());
  const answer = await readBytes(socket, 1);
  if (answer[0] !== 0x53)
    throw unavailable('the upstream database does not accept TLS (tls.mode requires it)');
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      host: t.host,
      servername: net.isIP(t.host) === 0 ? t.host : undefined,
      ca: t.tls.caFile === undefined ? undefined : readFileSync(t.tls.caFile),
      rejectUnauthorized: t.tls.mode === 'verify-full',
    });
    secure.once('secureConnect', () => resolve(secure));
    secure.once('error', (e) => reject(unavailable(`TLS to the upstream database failed: ${e.message}`)));
  });
}

function readBytes(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      socket.off('data', onData);
      socket.off('error', reject);
      if (chunk.length !== n) reject(unavailable('upstream sent unexpected bytes during TLS negotiation'));
      else resolve(chunk);
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/** Runs the startup exchange until ReadyForQuery; every message handled is named in the switch. */
function authenticate(
  socket: Socket,
  t: UpstreamTarget,
  startupParams: ReadonlyMap<string, string>,
): Promise<UpstreamSession> {
  return new Promise((resolve, reject) => {
    const framer = new BackendFramer();
    const statuses: Buffer[] = [];
    const parameters = new Map<string, string>();
    let scram: ScramClient | undefined;
    let pid = 0;
    let secret = Buffer.alloc(0);
    const fail = (e: unknown) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('close', onClose);
    };
    const onClose = () => fail(unavailable('the upstream database closed the connection during startup'));
    const step = async (type: number, body: Buffer, raw: Buffer): Promise<boolean> => {
      switch (type) {
        case Backend.authentication: {
          const code = body.readInt32BE(0);
          const password = async () => t.password();
          if (code === Auth.ok) return false;
          if (code === Auth.cleartext) {
            if (t.tls.mode === 'disable')
              throw unavailable('upstream asked for a cleartext password without TLS; refusing');
            socket.write(serialize.password(await password()));
          } else if (code === Auth.md5) {
            const inner = createHash('md5')
              .update(`${await password()}${t.user}`)
              .digest('hex');
            const outer = createHash('md5').update(inner).update(body.subarray(4, 8)).digest('hex');
            socket.write(serialize.password(`md5${outer}`));
          } else if (code === Auth.sasl) {
            const mechs = body.subarray(4).toString('utf8').split('\0');
            if (!mechs.includes(SCRAM_MECHANISM))
              throw unavailable(`upstream offers no supported SASL mechanism (${mechs.join(', ')})`);
            scram = new ScramClient(await password());
            socket.write(serialize.sendSASLInitialResponseMessage(SCRAM_MECHANISM, scram.first()));
          } else if (code === Auth.saslContinue && scram !== undefined) {
            socket.write(
              serialize.sendSCRAMClientFinalMessage(scram.final(body.subarray(4).toString('utf8'))),
            );
          } else if (code === Auth.saslFinal && scram !== undefined) {
            scram.verify(body.subarray(4).toString('utf8'));
          } else {
            throw unavailable(`upstream asked for an unsupported authentication method (${code})`);
          }
          return false;
        }
        case Backend.parameterStatus: {
          const [name = '', value = ''] = body.toString('utf8').split('\0');
          parameters.set(name, value);
          statuses.push(Buffer.from(raw));
          return false;
        }
        case Backend.backendKeyData:
          pid = body.readInt32BE(0);
          secret = Buffer.from(body.subarray(4));
          return false;
        case Backend.errorResponse: {
          const f = decodeErrorFields(body);
          // The upstream's reason is for Airlock's operators, not the agent (it may name Airlock's DB user).
          throw unavailable(
            `the upstream database refused Airlock's connection: ${f.get('C') ?? ''} ${f.get('M') ?? ''}`,
          );
        }
        case Backend.readyForQuery:
          return true;
        default:
          return false; // NoticeResponse, NegotiateProtocolVersion: nothing to do
      }
    };
    let chain = Promise.resolve(false);
    const onData = (chunk: Buffer) => {
      try {
        framer.push(chunk, (buf, f) => {
          const raw = buf.subarray(f.start, f.end);
          chain = chain.then((done) => (done ? true : step(f.type, raw.subarray(5), raw)));
        });
      } catch (e) {
        fail(e);
        return;
      }
      chain.then((done) => {
        if (!done) return;
        cleanup();
        resolve({ socket, parameterStatus: statuses, parameters, pid, secret });
      }, fail);
    };
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('close', onClose);
    const params: Record<string, string> = { user: t.user, database: t.database };
    for (const [k, v] of startupParams) params[k] = v;
    socket.write(serialize.startup(params));
  });
}

function unavailable(message: string): PgError {
  return new PgError(SqlState.connectionFailure, message, { severity: 'FATAL' });
}
