/**
 * Signed checkpoints of the ledger's chain head: "entry N had hash H at time T",
 * signed with Airlock's Ed25519 checkpoint key and published outside the store
 * (checkpoint-dir.ts). In the spirit of RFC 9162's signed tree head (§4.10) and
 * CloudTrail's digest files: the store alone cannot prove nothing was removed
 * from its tail or that it was not replaced wholesale; a checkpoint held
 * elsewhere can, because the store must still contain entry N with hash H.
 *
 * The signature covers a fixed text (below), not the JSON file, so nothing
 * depends on how a JSON serializer orders or escapes fields. Pure functions.
 */
import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

export const CHECKPOINT_VERSION = 1;
/** First line of the signed text: the format and what it is about. */
const SIGNED_HEADER = 'airlock-ledger-checkpoint/v1';

export interface Checkpoint {
  readonly version: typeof CHECKPOINT_VERSION;
  /** seq of the ledger's last entry when the checkpoint was taken (0: empty ledger). */
  readonly seq: number;
  /** That entry's chain hash (hash-chain.ts; GENESIS_HASH for an empty ledger). */
  readonly hash: string;
  readonly at: Date;
  /** keyIdOf(the public key that verifies `signature`). */
  readonly keyId: string;
  /** base64 Ed25519 signature over signedText(). */
  readonly signature: string;
}

export type UnsignedCheckpoint = Omit<Checkpoint, 'signature' | 'keyId'>;

/** The exact bytes signed: one field per line, like a C2SP signed note's body. */
export function signedText(c: Omit<Checkpoint, 'signature'>): string {
  return `${SIGNED_HEADER}\n${c.keyId}\n${c.seq}\n${c.hash}\n${c.at.getTime()}\n`;
}

/** A public key's id: the first 16 bytes of the SHA-256 of its DER SubjectPublicKeyInfo, hex. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

export function signCheckpoint(c: UnsignedCheckpoint, privateKey: KeyObject): Checkpoint {
  const keyId = keyIdOf(createPublicKey(privateKey));
  const text = signedText({ ...c, keyId });
  // Ed25519 takes no digest algorithm: null (Node's crypto.sign docs).
  const signature = sign(null, Buffer.from(text), privateKey).toString('base64');
  return { ...c, keyId, signature };
}

/** True when `publicKey` is the key named by c.keyId and its signature verifies. */
export function checkpointSignatureValid(c: Checkpoint, publicKey: KeyObject): boolean {
  if (keyIdOf(publicKey) !== c.keyId) return false;
  try {
    return verify(null, Buffer.from(signedText(c)), publicKey, Buffer.from(c.signature, 'base64'));
  } catch {
    return false;
  }
}

/** The file form: plain JSON, `at` as ISO text plus epoch ms (the ms value is what is signed). */
export function checkpointJson(c: Checkpoint): string {
  return `${JSON.stringify(
    {
      version: c.version,
      seq: c.seq,
      hash: c.hash,
      at: c.at.toISOString(),
      atMs: c.at.getTime(),
      keyId: c.keyId,
      signature: c.signature,
    },
    null,
    2,
  )}\n`;
}

/** Parses a checkpoint file; throws an Error naming what is wrong. */
export function parseCheckpoint(text: string): Checkpoint {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error('not JSON');
  }
  if (typeof v !== 'object' || v === null) throw new Error('not a JSON object');
  if (v.version !== CHECKPOINT_VERSION) throw new Error(`unknown version ${String(v.version)}`);
  const { seq, hash, atMs, keyId, signature } = v;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) throw new Error('bad seq');
  if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw new Error('bad hash');
  if (typeof atMs !== 'number' || !Number.isInteger(atMs)) throw new Error('bad atMs');
  if (typeof keyId !== 'string' || !/^[0-9a-f]{32}$/.test(keyId)) throw new Error('bad keyId');
  if (typeof signature !== 'string' || signature === '') throw new Error('bad signature');
  return { version: CHECKPOINT_VERSION, seq, hash, at: new Date(atMs), keyId, signature };
}
