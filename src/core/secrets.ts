/**
 * Secrets at rest. Agent secret keys must be recoverable (SigV4 verification needs
 * the secret itself), so they are sealed with AES-256-GCM under a master key.
 * Approver tokens are bearer tokens: only their SHA-256 is stored.
 * The ledger's HMAC key is derived from the same master key (domain-separated).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const SEAL_VERSION = 'v1';

/** Opened secrets kept in memory; past this many the memo starts over. */
const MAX_OPENED = 4096;

export class MasterKey {
  private readonly sealKey: Buffer;
  /**
   * Every request of an agent opens the same sealed secret: opening is pure, so its
   * result is kept, keyed by the exact ciphertext and owner. The plaintext is in this
   * process's memory either way (SigV4 verification needs it); it never leaves it.
   */
  private readonly opened = new Map<string, string>();

  private constructor(private readonly key: Buffer) {
    this.sealKey = this.derive('seal');
  }

  /**
   * AIRLOCK_MASTER_KEY (base64 of 32 bytes) wins; otherwise the key file, created
   * with mode 0600 on first run. A key file readable by others is refused.
   */
  static load(opts: { env: string | undefined; keyFile: string }): MasterKey {
    if (opts.env !== undefined && opts.env !== '') {
      const key = Buffer.from(opts.env, 'base64');
      if (key.length !== 32) {
        throw new Error(
          'AIRLOCK_MASTER_KEY must be base64 of exactly 32 bytes (generate: openssl rand -base64 32)',
        );
      }
      return new MasterKey(key);
    }
    if (!existsSync(opts.keyFile)) {
      mkdirSync(dirname(opts.keyFile), { recursive: true, mode: 0o700 });
      writeFileSync(opts.keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    }
    const mode = statSync(opts.keyFile).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new Error(
        `${opts.keyFile} is readable by group/others (mode ${mode.toString(8)}); fix: chmod 600 ${opts.keyFile}`,
      );
    }
    const key = Buffer.from(readFileSync(opts.keyFile, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${opts.keyFile} does not hold a base64 32-byte key`);
    chmodSync(opts.keyFile, 0o600);
    return new MasterKey(key);
  }

  static fromBytes(key: Buffer): MasterKey {
    if (key.length !== 32) throw new Error('master key must be 32 bytes');
    return new MasterKey(key);
  }

  /** Sub-key for one purpose, so the ledger key and the sealing key never coincide. */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.key).update(`airlock:${purpose}`).digest();
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      SEAL_VERSION,
      iv.toString('base64'),
      ct.toString('base64'),
      cipher.getAuthTag().toString('base64'),
    ].join('.');
  }

  /** `aad` binds the ciphertext to its owner (e.g. the access key id): a swapped row fails to open. */
  unseal(sealed: string, aad: string): string {
    const memoKey = `${aad}\0${sealed}`;
    const known = this.opened.get(memoKey);
    if (known !== undefined) return known;
    const plain = this.open(sealed, aad);
    if (this.opened.size >= MAX_OPENED) this.opened.clear();
    this.opened.set(memoKey, plain);
    return plain;
  }

  private open(sealed: string, aad: string): string {
    const [version, iv, ct, tag] = sealed.split('.');
    if (version !== SEAL_VERSION || iv === undefined || ct === undefined || tag === undefined) {
      throw new Error('sealed secret has an unknown format');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
  }
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** AWS-style key pair: 20-char id (AKIA-like prefix `ALAK`), 40-char secret. */
export function newAccessKeyPair(): { accessKeyId: string; secretAccessKey: string } {
  const bytes = randomBytes(16);
  let id = 'ALAK';
  for (const b of bytes) id += KEY_ALPHABET[b % 32];
  return { accessKeyId: id, secretAccessKey: randomBytes(30).toString('base64').replace(/[+/]/g, 'x') };
}

/** Approver bearer token; only `hashToken(token)` is stored. */
export function newApproverToken(): string {
  return `alt_${randomBytes(24).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
