import { randomBytes } from 'node:crypto';

/**
 * Prefixed, unguessable ids: the prefix tells a reader what the id names
 * (`apr_` approval, `gr_` grant, `req_` request) in logs and CLI output.
 */
export function newId(prefix: 'apr' | 'gr' | 'req' | 'ses'): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
