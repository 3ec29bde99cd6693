/**
 * RFC 4180 CSV (https://www.rfc-editor.org/rfc/rfc4180) through csv-parse: quoted fields,
 * "" for a quote inside one, line breaks inside quotes kept as data, rows ended by CR LF,
 * LF or CR, a spreadsheet's byte-order mark dropped. Exports from ticketing systems are
 * exactly the quoted, multi-line kind a `split(',')` gets wrong.
 *
 * Hostile input fails with a positioned error rather than a guess: a quote inside an
 * unquoted field, text after a closing quote, or an unterminated quoted field.
 */
import { CsvError as ParseError, parse } from 'csv-parse/sync';

export class CsvError extends Error {
  override readonly name = 'CsvError';
}

/** csv-parse's refusals, in the words the import's users see (with the line). */
const MESSAGES: Readonly<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field',
  CSV_INVALID_CLOSING_QUOTE: 'text after a closing quote (quote the whole field, "" for a quote)',
};

export function parseCsv(text: string): string[][] {
  try {
    return parse(text, {
      bom: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      skip_empty_lines: false,
    }) as string[][];
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    const what = MESSAGES[err.code] ?? err.message;
    const line = (err as { lines?: number }).lines;
    throw new CsvError(line === undefined ? what : `line ${line}: ${what}`);
  }
}

/** Rows as objects keyed by the header row; blank lines are skipped, ragged rows refused. */
export function parseCsvObjects(text: string): Record<string, string>[] {
  const rows = parseCsv(text).filter((r) => !(r.length === 1 && r[0] === ''));
  const header = rows.shift();
  if (header === undefined) return [];
  const names = header.map((h) => h.trim());
  const dup = names.find((h, i) => names.indexOf(h) !== i);
  if (dup !== undefined) throw new CsvError(`header names column "${dup}" twice`);
  return rows.map((r, n) => {
    if (r.length !== names.length)
      throw new CsvError(`record ${n + 1} has ${r.length} fields; the header has ${names.length}`);
    return Object.fromEntries(names.map((h, i) => [h, r[i] as string]));
  });
}
