/** Reading values out of imported rows and events: paths, times, scope lists. */
import type { Scope } from '../core/types.js';

export class ImportError extends Error {
  override readonly name = 'ImportError';
}

/** Dotted path into nested objects; a key that itself contains dots is tried first. */
export function getPath(row: unknown, path: string): unknown {
  if (typeof row !== 'object' || row === null) return undefined;
  const o = row as Record<string, unknown>;
  if (path in o) return o[path];
  let cur: unknown = row;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** ISO 8601, `YYYY-MM-DD HH:MM[:SS]` (taken as UTC), or epoch seconds/milliseconds. */
export function parseTime(v: unknown): Date | undefined {
  if (typeof v === 'number') return new Date(v < 1e12 ? v * 1000 : v);
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const s = v.trim();
  if (/^\d{9,13}$/.test(s)) return parseTime(Number(s));
  const local = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$/.exec(s);
  const d = new Date(local ? `${local[1]}T${local[2]}Z` : s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** `action resource` pairs separated by `;` or newlines, or a JSON array of {action, resource}. */
export function parseScopes(v: unknown): Scope[] {
  if (Array.isArray(v))
    return v
      .filter((s): s is Record<string, unknown> => typeof s === 'object' && s !== null)
      .map((s) => ({ action: String(s.action ?? ''), resource: String(s.resource ?? '') }));
  if (typeof v !== 'string' || v.trim() === '') return [];
  return v
    .split(/[;\n]/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => {
      const [action = '', ...rest] = p.split(/\s+/);
      return { action, resource: rest.join(' ') };
    });
}
