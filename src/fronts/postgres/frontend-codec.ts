/**
 * Frontend (client → server) messages: a pure codec. `FrontendFramer` splits a byte
 * stream into messages however the bytes were chunked; the `decode*` functions turn
 * one message's payload into a typed value. No sockets, no policy.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import { PgError, SqlState } from './pg-error.js';

/** Message type bytes sent by the client (after startup). */
export const Frontend = {
  query: 0x51, // 'Q'
  parse: 0x50, // 'P'
  bind: 0x42, // 'B'
  describe: 0x44, // 'D'
  execute: 0x45, // 'E'
  sync: 0x53, // 'S'
  flush: 0x48, // 'H'
  close: 0x43, // 'C'
  terminate: 0x58, // 'X'
  copyData: 0x64, // 'd'
  copyDone: 0x63, // 'c'
  copyFail: 0x66, // 'f'
  functionCall: 0x46, // 'F'
  password: 0x70, // 'p' (PasswordMessage, SASLInitialResponse, SASLResponse)
} as const;

/** Request codes of length-prefixed startup-phase packets (no type byte). */
export const StartupCode = {
  sslRequest: 80877103,
  gssEncRequest: 80877104,
  cancelRequest: 80877102,
} as const;

/** Largest message we accept; PostgreSQL's own limit for most messages is 1 GB, ours is stricter. */
export const MAX_MESSAGE = 64 * 1024 * 1024;
/**
 * Largest message before authentication (SASL responses): PostgreSQL's
 * PG_MAX_AUTH_TOKEN_LENGTH. An unauthenticated peer must not make Airlock buffer 64 MB.
 */
export const MAX_AUTH_MESSAGE = 65_535;
const MAX_STARTUP = 10_000; // PostgreSQL's MAX_STARTUP_PACKET_LENGTH

export interface Frame {
  /** Type byte; 0 for startup-phase packets. */
  readonly type: number;
  /** The message body (without type byte and length). */
  readonly payload: Buffer;
  /** The whole message as received, for forwarding unchanged. */
  readonly raw: Buffer;
}

export class FrontendFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Chunks received after `buf`, joined only once a whole message is there (no O(n²) copying of a large one). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): void {
    if (this.buf.length === 0 && this.pending.length === 0) this.buf = chunk;
    else {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
  }

  /** Bytes received but not yet returned as a frame. */
  get buffered(): number {
    return this.buf.length + this.pendingBytes;
  }

  /** Makes at least `n` bytes (or all there are) contiguous in `buf`. */
  private need(n: number): void {
    if (this.buf.length >= n || this.pending.length === 0) return;
    this.buf = Buffer.concat([this.buf, ...this.pending]);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Next startup-phase packet (Int32 length, then body), or undefined if incomplete. */
  nextStartup(): Frame | undefined {
    this.need(4);
    if (this.buf.length < 4) return undefined;
    const len = this.buf.readInt32BE(0);
    if (len < 8 || len > MAX_STARTUP)
      throw new PgError(SqlState.protocolViolation, `invalid startup packet length ${len}`, {
        severity: 'FATAL',
      });
    return this.take(0, 4, len);
  }

  /** Next typed message (Byte1 type, Int32 length, body), or undefined if incomplete. */
  next(max: number = MAX_MESSAGE): Frame | undefined {
    this.need(5);
    if (this.buf.length < 5) return undefined;
    const type = this.buf[0] as number;
    const len = this.buf.readInt32BE(1);
    if (len < 4 || len > max)
      throw new PgError(SqlState.protocolViolation, `invalid message length ${len}`, { severity: 'FATAL' });
    return this.take(type, 5, len + 1);
  }

  private take(type: number, bodyStart: number, total: number): Frame | undefined {
    if (this.buf.length + this.pendingBytes < total) return undefined;
    this.need(total);
    const raw = this.buf.subarray(0, total);
    this.buf = this.buf.subarray(total);
    return { type, payload: raw.subarray(bodyStart), raw };
  }
}

/** Sequential reads from one message body; any overrun is a protocol violation. */
export class BodyReader {
  private pos = 0;
  constructor(private readonly b: Buffer) {}

  int16(): number {
    this.need(2);
    const v = this.b.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.b.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  byte(): number {
    this.need(1);
    return this.b[this.pos++] as number;
  }

  cstring(): string {
    const end = this.b.indexOf(0, this.pos);
    if (end === -1) throw malformed('unterminated string');
    const s = this.b.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  rest(): Buffer {
    const v = this.b.subarray(this.pos);
    this.pos = this.b.length;
    return v;
  }

  end(): void {
    if (this.pos !== this.b.length) throw malformed('trailing bytes');
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.b.length) throw malformed('message too short');
  }
}

function malformed(what: string): PgError {
  return new PgError(SqlState.protocolViolation, `malformed message: ${what}`);
}

export type StartupPacket =
  | { readonly kind: 'ssl' }
  | { readonly kind: 'gssenc' }
  | { readonly kind: 'cancel'; readonly pid: number; readonly secret: Buffer }
  | {
      readonly kind: 'startup';
      readonly major: number;
      readonly minor: number;
      readonly params: ReadonlyMap<string, string>;
    };

export function decodeStartup(payload: Buffer): StartupPacket {
  const r = new BodyReader(payload);
  const code = r.int32();
  if (code === StartupCode.sslRequest) return { kind: 'ssl' };
  if (code === StartupCode.gssEncRequest) return { kind: 'gssenc' };
  if (code === StartupCode.cancelRequest) {
    const pid = r.int32();
    return { kind: 'cancel', pid, secret: Buffer.from(r.rest()) };
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major !== 3)
    throw new PgError(
      SqlState.featureNotSupported,
      `unsupported frontend protocol ${major}.${minor}: Airlock speaks 3.x`,
      { severity: 'FATAL' },
    );
  const params = new Map<string, string>();
  for (;;) {
    const key = r.cstring();
    if (key === '') break;
    params.set(key, r.cstring());
  }
  r.end();
  return { kind: 'startup', major, minor, params };
}

export function decodeQuery(payload: Buffer): string {
  const r = new BodyReader(payload);
  const sql = r.cstring();
  r.end();
  return sql;
}

/** A Query message, for statements Airlock sends on the client's behalf (COMMIT → ROLLBACK). */
export function encodeQuery(sql: string): Buffer {
  const body = Buffer.from(`${sql}\0`, 'utf8');
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = Frontend.query;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

export interface ParseMessage {
  readonly name: string;
  readonly sql: string;
  readonly paramTypes: readonly number[];
}

export function decodeParse(payload: Buffer): ParseMessage {
  const r = new BodyReader(payload);
  const name = r.cstring();
  const sql = r.cstring();
  const n = r.int16();
  const paramTypes: number[] = [];
  for (let i = 0; i < n; i++) paramTypes.push(r.int32());
  r.end();
  return { name, sql, paramTypes };
}

export interface BindMessage {
  readonly portal: string;
  readonly statement: string;
  readonly paramFormats: readonly number[];
  /** null = SQL NULL. */
  readonly params: readonly (Buffer | null)[];
}

export function decodeBind(payload: Buffer): BindMessage {
  const r = new BodyReader(payload);
  const portal = r.cstring();
  const statement = r.cstring();
  const nf = r.int16();
  const paramFormats: number[] = [];
  for (let i = 0; i < nf; i++) paramFormats.push(r.int16());
  const np = r.int16();
  const params: (Buffer | null)[] = [];
  for (let i = 0; i < np; i++) {
    const len = r.int32();
    params.push(len === -1 ? null : r.bytes(len));
  }
  const nr = r.int16();
  for (let i = 0; i < nr; i++) r.int16();
  r.end();
  return { portal, statement, paramFormats, params };
}

/** Describe and Close: 'S' (statement) or 'P' (portal) and a name. */
export function decodeTarget(payload: Buffer): { readonly kind: 'S' | 'P'; readonly name: string } {
  const r = new BodyReader(payload);
  const k = r.byte();
  const name = r.cstring();
  r.end();
  if (k !== 0x53 && k !== 0x50) throw malformed('describe/close target must be S or P');
  return { kind: k === 0x53 ? 'S' : 'P', name };
}

export function decodeExecute(payload: Buffer): { readonly portal: string; readonly maxRows: number } {
  const r = new BodyReader(payload);
  const portal = r.cstring();
  const maxRows = r.int32();
  r.end();
  return { portal, maxRows };
}

export function decodeSaslInitial(payload: Buffer): { readonly mechanism: string; readonly data: Buffer } {
  const r = new BodyReader(payload);
  const mechanism = r.cstring();
  const len = r.int32();
  const data = len === -1 ? Buffer.alloc(0) : r.bytes(len);
  r.end();
  return { mechanism, data };
}
