/** Plain-text rendering shared by the CLI and the audit-check report: escaped cells, aligned columns. */
import { DECEPTIVE_CHARS } from './display-text.js';

/**
 * Agent-supplied text (reasons, S3 keys, SQL, summaries) reaches these printers: its
 * control and bidi characters (and, unless kept, newlines) are shown escaped, never sent raw.
 */
export function safe(v: unknown, keepNewlines = false): string {
  const s = (v === undefined || v === null ? '' : String(v)).replace(
    DECEPTIVE_CHARS,
    (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`,
  );
  return keepNewlines ? s : s.replace(/\n/g, '\\n');
}

export function table(rows: readonly Record<string, unknown>[], cols: readonly string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) =>
    v === undefined || v === null ? '-' : safe(Array.isArray(v) ? v.join(',') : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line([...cols]), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}
