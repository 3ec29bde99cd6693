/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it, both sides:
 * `ScramServer` authenticates agents (their Airlock secret is the password), and
 * `ScramClient` authenticates Airlock to the upstream. Channel binding
 * (SCRAM-SHA-256-PLUS) is not offered; a client that insists on it is refused.
 * https://www.postgresql.org/docs/current/sasl-authentication.html
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
const ITERATIONS = 4096; // PostgreSQL's default scram_iterations
const MAX_CLIENT_ITERATIONS = 100_000;

const hmac = (key: Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}

/** RFC 3454 B.1 "commonly mapped to nothing" (built from a string: the class holds combining marks). */
// biome-ignore lint/complexity/useRegexLiterals: as a literal, the class trips noMisleadingCharacterClass
const MAPPED_TO_NOTHING = new RegExp(
  '[\\u00AD\\u034F\\u1806\\u180B-\\u180D\\u200C\\u200D\\u2060\\uFE00-\\uFE0F\\uFEFF]',
  'g',
);

/** RFC 4013 SASLprep, the mapping steps PostgreSQL applies (prohibition checks omitted, as libpq does). */
export function saslPrep(password: string): string {
  return password
    .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, ' ')
    .replace(MAPPED_TO_NOTHING, '')
    .normalize('NFKC');
}

function keys(password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(saslPrep(password), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return { clientKey, storedKey: sha256(clientKey), serverKey: hmac(salted, 'Server Key') };
}

/** `a=1,b=2` attribute lists of SCRAM messages. */
function attrs(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0] as string, part.slice(2));
  }
  return out;
}

export class ScramError extends Error {
  override readonly name = 'ScramError';
}

/** One server-side exchange. Steps: `first(clientFirst)` → server-first; `final(clientFinal)` → server-final or throws. */
export class ScramServer {
  private clientFirstBare = '';
  private serverFirst = '';
  private gs2Header = '';
  private nonce = '';

  constructor(private readonly password: string) {}

  first(clientFirst: string): string {
    // gs2-header: "n,," (no channel binding) or "y,," (client could, server did not offer).
    const m = /^([ny]),(a=[^,]*)?,(.*)$/.exec(clientFirst);
    if (m === null) {
      if (clientFirst.startsWith('p='))
        throw new ScramError('channel binding (SCRAM-SHA-256-PLUS) is not supported by Airlock');
      throw new ScramError('malformed SCRAM client-first-message');
    }
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3] as string;
    const clientNonce = attrs(this.clientFirstBare).get('r');
    if (clientNonce === undefined || clientNonce === '' || /[^\x21-\x7e]|,/.test(clientNonce))
      throw new ScramError('malformed SCRAM client nonce');
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.salt = randomBytes(16);
    this.serverFirst = `r=${this.nonce},s=${this.salt.toString('base64')},i=${ITERATIONS}`;
    return this.serverFirst;
  }

  private salt: Buffer = Buffer.alloc(0);

  /** Verifies the client proof; returns the server-final-message (`v=...`). */
  final(clientFinal: string): string {
    const pIndex = clientFinal.lastIndexOf(',p=');
    if (pIndex === -1) throw new ScramError('malformed SCRAM client-final-message');
    const withoutProof = clientFinal.slice(0, pIndex);
    const a = attrs(withoutProof);
    if (a.get('c') !== Buffer.from(this.gs2Header).toString('base64'))
      throw new ScramError('SCRAM channel binding does not match');
    if (a.get('r') !== this.nonce) throw new ScramError('SCRAM nonce does not match');
    const proof = Buffer.from(clientFinal.slice(pIndex + 3), 'base64');
    const k = keys(this.password, this.salt, ITERATIONS);
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(k.storedKey, authMessage);
    if (proof.length !== 32 || !timingSafeEqual(sha256(xor(proof, clientSignature)), k.storedKey))
      throw new ScramError('password authentication failed');
    return `v=${hmac(k.serverKey, authMessage).toString('base64')}`;
  }
}

/** One client-side exchange against an upstream PostgreSQL. */
export class ScramClient {
  private readonly clientNonce = randomBytes(18).toString('base64');
  private readonly clientFirstBare = `n=*,r=${this.clientNonce}`;
  private expectedServerSignature: Buffer | undefined;

  constructor(private readonly password: string) {}

  first(): string {
    return `n,,${this.clientFirstBare}`;
  }

  /** Given server-first, returns client-final (with proof). */
  final(serverFirst: string): string {
    const a = attrs(serverFirst);
    const nonce = a.get('r');
    const salt = a.get('s');
    const iterations = Number(a.get('i'));
    if (nonce === undefined || !nonce.startsWith(this.clientNonce) || nonce === this.clientNonce)
      throw new ScramError('upstream SCRAM nonce is invalid');
    if (
      salt === undefined ||
      !Number.isInteger(iterations) ||
      iterations < 1 ||
      iterations > MAX_CLIENT_ITERATIONS
    )
      throw new ScramError('upstream SCRAM parameters are invalid');
    const k = keys(this.password, Buffer.from(salt, 'base64'), iterations);
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    this.expectedServerSignature = hmac(k.serverKey, authMessage);
    const proof = xor(k.clientKey, hmac(k.storedKey, authMessage));
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** Checks the upstream's signature: proves the upstream knows the password too. */
  verify(serverFinal: string): void {
    const v = attrs(serverFinal).get('v');
    const got = v === undefined ? Buffer.alloc(0) : Buffer.from(v, 'base64');
    const want = this.expectedServerSignature;
    if (want === undefined || got.length !== want.length || !timingSafeEqual(got, want))
      throw new ScramError('upstream SCRAM server signature does not verify');
  }
}
