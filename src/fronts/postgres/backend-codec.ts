/**
 * Backend (server → client) messages: builders for the few Airlock writes itself,
 * and a framer for the upstream's stream that yields message boundaries without
 * copying, so relayed bytes are forwarded exactly as PostgreSQL sent them.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
import type { PgError } from './pg-error.js';

export const Backend = {
  authentication: 0x52, // 'R'
  backendKeyData: 0x4b, // 'K'
  parameterStatus: 0x53, // 'S'
  readyForQuery: 0x5a, // 'Z'
  errorResponse: 0x45, // 'E'
  noticeResponse: 0x4e, // 'N'
  commandComplete: 0x43, // 'C'
  parseComplete: 0x31, // '1'
  bindComplete: 0x32, // '2'
  closeComplete: 0x33, // '3'
  rowDescription: 0x54, // 'T'
  noData: 0x6e, // 'n'
  parameterDescription: 0x74, // 't'
  emptyQuery: 0x49, // 'I'
  portalSuspended: 0x73, // 's'
  copyInResponse: 0x47, // 'G'
  copyOutResponse: 0x48, // 'H'
  copyBothResponse: 0x57, // 'W'
  negotiateProtocol: 0x76, // 'v'
} as const;

/** Authentication request codes (the Int32 after 'R'). */
export const Auth = {
  ok: 0,
  cleartext: 3,
  md5: 5,
  sasl: 10,
  saslContinue: 11,
  saslFinal: 12,
} as const;

function message(type: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type;
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');

export function authRequest(code: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return message(Backend.authentication, Buffer.concat([int32(code), data]));
}

export function authSasl(mechanisms: readonly string[]): Buffer {
  return authRequest(Auth.sasl, Buffer.concat([...mechanisms.map(cstr), Buffer.from([0])]));
}

export function parameterStatus(name: string, value: string): Buffer {
  return message(Backend.parameterStatus, Buffer.concat([cstr(name), cstr(value)]));
}

export function backendKeyData(pid: number, secret: number): Buffer {
  return message(Backend.backendKeyData, Buffer.concat([int32(pid), int32(secret)]));
}

export function readyForQuery(status: TxStatus): Buffer {
  return message(Backend.readyForQuery, Buffer.from(status, 'latin1'));
}

/** NegotiateProtocolVersion: we speak 3.0; list the `_pq_.` options we ignore. */
export function negotiateProtocol(minor: number, unsupported: readonly string[]): Buffer {
  return message(
    Backend.negotiateProtocol,
    Buffer.concat([int32(minor), int32(unsupported.length), ...unsupported.map(cstr)]),
  );
}

export function errorResponse(err: PgError): Buffer {
  const fields: Buffer[] = [
    Buffer.from('S'),
    cstr(err.severity),
    Buffer.from('V'),
    cstr(err.severity),
    Buffer.from('C'),
    cstr(err.code),
    Buffer.from('M'),
    cstr(err.message),
  ];
  if (err.opts.detail !== undefined) fields.push(Buffer.from('D'), cstr(err.opts.detail));
  if (err.opts.hint !== undefined) fields.push(Buffer.from('H'), cstr(err.opts.hint));
  fields.push(Buffer.from([0]));
  return message(Backend.errorResponse, Buffer.concat(fields));
}

/** Transaction status in ReadyForQuery: idle, in a transaction block, in a failed one. */
export type TxStatus = 'I' | 'T' | 'E';

export interface BackendFrame {
  readonly type: number;
  /** Offsets into the buffer passed to `BackendFramer.push`'s callback. */
  readonly start: number;
  readonly end: number;
}

/**
 * Splits the upstream's byte stream into messages. `push` calls `onFrame` for every
 * complete message with offsets into one contiguous buffer, so the caller can forward
 * runs of messages with a single write.
 */
export class BackendFramer {
  private rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (buf: Buffer, f: BackendFrame) => void): Buffer {
    const buf = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    let pos = 0;
    while (buf.length - pos >= 5) {
      const len = buf.readInt32BE(pos + 1);
      if (len < 4) throw new Error(`upstream sent an invalid message length ${len}`);
      const end = pos + 1 + len;
      if (end > buf.length) break;
      onFrame(buf, { type: buf[pos] as number, start: pos, end });
      pos = end;
    }
    this.rest = buf.subarray(pos);
    return buf.subarray(0, pos);
  }
}

/** Fields of an ErrorResponse/NoticeResponse body, keyed by field letter. */
export function decodeErrorFields(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const code = String.fromCharCode(body[pos] as number);
    const end = body.indexOf(0, pos + 1);
    if (end === -1) break;
    out.set(code, body.toString('utf8', pos + 1, end));
    pos = end + 1;
  }
  return out;
}

/** The tag of a CommandComplete body, e.g. `UPDATE 3`. */
export function decodeCommandTag(body: Buffer): string {
  const end = body.indexOf(0);
  return body.toString('utf8', 0, end === -1 ? body.length : end);
}
