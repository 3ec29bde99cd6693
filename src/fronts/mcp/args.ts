/**
 * A call's arguments at the edge: canonical JSON (the approval fingerprint and the
 * recorded hash), the text tags policy sees as `context.args`, and the redacted copy
 * the ledger keeps. Pure functions, no I/O.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every depth, so equal arguments give equal bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function argsHash(args: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(canonicalJson(args)).digest('hex');
}

/** Top-level arguments as Cedar tags: strings as they are, anything else as canonical JSON. */
export function policyArgs(args: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined) continue;
    out[k] = typeof v === 'string' ? v : canonicalJson(v);
  }
  return out;
}

/** Argument names whose values are never stored (at any depth). */
const SECRET_NAME =
  /pass(word|phrase)?|secret|token|api[-_]?key|credential|auth|private[-_]?key|cookie|session/i;
/** Longest string value kept in the record; longer ones are cut with their length noted. */
const MAX_TEXT = 512;

/** The arguments as the ledger keeps them: secret-named values replaced, long strings cut. */
export function redactArgs(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[nested too deep]';
  if (typeof value === 'string')
    return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}… [${value.length} chars]` : value;
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redactArgs(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>))
      out[k] = SECRET_NAME.test(k) ? '[redacted]' : redactArgs(v, depth + 1);
    return out;
  }
  return value;
}
