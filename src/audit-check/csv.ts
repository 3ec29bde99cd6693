/**
 * A small RFC 4180 CSV parser (https://www.rfc-editor.org/rfc/rfc4180): quoted fields,
 * "" for a quote inside one, CR LF / LF / CR inside quotes kept as data, rows ended by
 * CR LF or LF. No CSV library is installed here, and exports from ticketing systems are
 * exactly the quoted, multi-line kind a `split(',')` gets wrong.
 *
 * Hostile input fails with a positioned error rather than a guess: a quote inside an
 * unquoted field, text after a closing quote, or an unterminated quoted field.
 */
export class CsvError extends Error {
  override readonly name = 'CsvError';
}

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark from spreadsheet exports
  let line = 1;
  let quoted = false;
  let afterQuote = false;
  const endField = () => {
    row.push(field);
    field = '';
    afterQuote = false;
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        afterQuote = true;
        i++;
        continue;
      }
      if (c === '\n') line++;
      field += c;
      i++;
      continue;
    }
    if (c === ',') {
      endField();
      i++;
    } else if (c === '\r' || c === '\n') {
      endRow();
      line++;
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else if (afterQuote) {
      throw new CsvError(`line ${line}: text after a closing quote (quote the whole field, "" for a quote)`);
    } else if (c === '"') {
      if (field !== '') throw new CsvError(`line ${line}: a quote inside an unquoted field`);
      quoted = true;
      i++;
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new CsvError(`line ${line}: a quoted field is never closed`);
  if (field !== '' || row.length > 0 || afterQuote) endRow();
  return rows;
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
