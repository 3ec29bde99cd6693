import { randomBytes } from 'node:crypto';

/**
 * Prefixed, unguessable ids: the prefix tells a reader what the id names
 * (`apr_` approval, `gr_` grant, `req_` request) in logs and CLI output.
 */
export function newId(prefix: 'apr' | 'gr' | 'req' | 'ses'): string {
  return `${prefix}_${nextRandom().toString('base64url')}`;
}

/** Random bytes are drawn from the CSPRNG in blocks: one call per request id costs more than the id. */
const ID_BYTES = 12;
const POOL_IDS = 256;
let pool = Buffer.alloc(0);
let offset = 0;

function nextRandom(): Buffer {
  if (offset + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * POOL_IDS);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return out;
}
