/** The RFC 4180 parser behind `audit check --import` (no CSV library is installed). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CsvError, parseCsv, parseCsvObjects } from '../../src/audit-check/csv.js';

describe('RFC 4180 CSV', () => {
  it('splits plain fields and CRLF / LF rows', () => {
    assert.deepEqual(parseCsv('a,b,c\r\n1,2,3\n4,5,6'), [
      ['a', 'b', 'c'],
      ['1', '2', '3'],
      ['4', '5', '6'],
    ]);
  });
  it('keeps commas, doubled quotes and line breaks inside quoted fields', () => {
    const rows = parseCsv('id,text\n1,"a, b"\n2,"she said ""no"""\n3,"line one\r\nline two\nline three"\n');
    assert.deepEqual(rows, [
      ['id', 'text'],
      ['1', 'a, b'],
      ['2', 'she said "no"'],
      ['3', 'line one\r\nline two\nline three'],
    ]);
  });
  it('keeps empty fields, a trailing empty field and an empty quoted field', () => {
    assert.deepEqual(parseCsv('a,,c,\n"",x,"",\n'), [
      ['a', '', 'c', ''],
      ['', 'x', '', ''],
    ]);
  });
  it('strips a byte-order mark and tolerates no final newline', () => {
    assert.deepEqual(parseCsv('\uFEFFk,v\n1,2'), [
      ['k', 'v'],
      ['1', '2'],
    ]);
  });
  it('refuses malformed quoting with a line number instead of guessing', () => {
    assert.throws(
      () => parseCsv('a,b\n1,"open\n2,3'),
      (e: Error) => e instanceof CsvError && /never closed/.test(e.message),
    );
    assert.throws(() => parseCsv('a,b\n1,x"y"\n'), /line 2: a quote inside an unquoted field/);
    assert.throws(() => parseCsv('a,b\n"1"x,2\n'), /line 2: text after a closing quote/);
  });
  it('maps rows to header names, skips blank lines, refuses ragged rows and duplicate headers', () => {
    assert.deepEqual(parseCsvObjects('Issue key,Status\nOPS-1,Done\n\nOPS-2,"Won\'t Do"\n'), [
      { 'Issue key': 'OPS-1', Status: 'Done' },
      { 'Issue key': 'OPS-2', Status: "Won't Do" },
    ]);
    assert.throws(() => parseCsvObjects('a,b\n1\n'), /record 1 has 1 fields; the header has 2/);
    assert.throws(() => parseCsvObjects('a,a\n1,2\n'), /column "a" twice/);
  });
});
