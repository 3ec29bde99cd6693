/**
 * Just enough of DynamoDB's PartiQL dialect to learn which table (or index) a
 * statement touches and what it does to it. It is not a full parser: it
 * tokenizes properly (so quotes, comments and literals cannot hide a keyword)
 * and then reads only the statement head, rejecting whatever it does not
 * recognise, so an odd statement becomes "unknown" rather than a wrong scope.
 * Grammar: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.statements.html
 */

export type PartiqlVerb = 'select' | 'insert' | 'update' | 'delete';

export interface PartiqlTarget {
  readonly verb: PartiqlVerb;
  readonly table: string;
  readonly index?: string;
}

export class PartiqlParseError extends Error {
  override readonly name = 'PartiqlParseError';
}

type TokenKind = 'ident' | 'qident' | 'string' | 'number' | 'ion' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier / literal contents with escapes undone, or the punctuation itself. */
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

const PUNCT2 = ['<>', '!=', '<=', '>=', '||', '<<', '>>'];
const PUNCT1 = '.,()[]{};:*?=<>+-/%|!';

/** Reads a quoted run starting at `i` (the opening quote); a doubled quote is an escaped one. */
function readQuoted(text: string, i: number, quote: string): { value: string; end: number } {
  let value = '';
  let j = i + 1;
  for (;;) {
    const at = text.indexOf(quote, j);
    if (at < 0) throw new PartiqlParseError(`unterminated ${quote} quote at offset ${i}`);
    value += text.slice(j, at);
    if (text[at + 1] === quote) {
      value += quote;
      j = at + 2;
      continue;
    }
    return { value, end: at + 1 };
  }
}

/** Splits a statement into tokens, dropping whitespace and comments. */
export function tokenizePartiql(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith('--', i)) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (text.startsWith('/*', i)) {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) throw new PartiqlParseError(`unterminated comment at offset ${i}`);
      i = close + 2;
    } else if (c === '"' || c === "'" || c === '`') {
      const { value, end } = readQuoted(text, i, c);
      const kind: TokenKind = c === '"' ? 'qident' : c === "'" ? 'string' : 'ion';
      tokens.push({ kind, value, start: i, end });
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
      const value = m ? m[0] : c;
      tokens.push({ kind: 'ident', value, start: i, end: i + value.length });
      i += value.length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
      const value = m ? m[0] : c;
      tokens.push({ kind: 'number', value, start: i, end: i + value.length });
      i += value.length;
    } else {
      const two = text.slice(i, i + 2);
      const value = PUNCT2.includes(two) ? two : PUNCT1.includes(c) ? c : undefined;
      if (value === undefined) throw new PartiqlParseError(`unexpected character ${JSON.stringify(c)}`);
      tokens.push({ kind: 'punct', value, start: i, end: i + value.length });
      i += value.length;
    }
  }
  return tokens;
}

const isKeyword = (t: Token | undefined, kw: string): boolean =>
  t !== undefined && t.kind === 'ident' && t.value.toUpperCase() === kw;
const isPunct = (t: Token | undefined, p: string): boolean =>
  t !== undefined && t.kind === 'punct' && t.value === p;

/** A table or index name: an unquoted identifier or a double-quoted one. */
function nameAt(tokens: readonly Token[], i: number, what: string): string {
  const t = tokens[i];
  if (t === undefined || (t.kind !== 'ident' && t.kind !== 'qident') || t.value === '') {
    throw new PartiqlParseError(`expected ${what} name`);
  }
  return t.value;
}

function expectKeyword(tokens: readonly Token[], i: number, kw: string): void {
  if (!isKeyword(tokens[i], kw)) throw new PartiqlParseError(`expected ${kw}`);
}

/** Index of the first depth-0 FROM, so `SELECT (SELECT a FROM b) ...` or `x['FROM']` cannot mislead. */
function topLevelFrom(tokens: readonly Token[], from: number): number {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === undefined) break;
    if (t.kind === 'punct' && '([{'.includes(t.value)) depth++;
    else if (t.kind === 'punct' && ')]}'.includes(t.value)) depth--;
    else if (depth === 0 && isKeyword(t, 'FROM')) return i;
    if (depth < 0) break;
  }
  throw new PartiqlParseError('SELECT without FROM');
}

function parseSelect(tokens: readonly Token[], at: number): PartiqlTarget {
  const f = topLevelFrom(tokens, at + 1);
  if (f === at + 1) throw new PartiqlParseError('SELECT without a projection');
  const table = nameAt(tokens, f + 1, 'table');
  let next = f + 2;
  let index: string | undefined;
  if (isPunct(tokens[next], '.')) {
    index = nameAt(tokens, next + 1, 'index');
    next += 2;
  }
  // DynamoDB has no joins or aliases: only WHERE / ORDER BY may follow the source.
  const after = tokens[next];
  if (after !== undefined && !isKeyword(after, 'WHERE') && !isKeyword(after, 'ORDER')) {
    throw new PartiqlParseError(
      `unexpected ${after.kind === 'ident' ? after.value : after.kind} after FROM source`,
    );
  }
  return index === undefined ? { verb: 'select', table } : { verb: 'select', table, index };
}

function parseTokens(tokens: readonly Token[]): PartiqlTarget {
  const head = tokens[0];
  if (isKeyword(head, 'SELECT')) return parseSelect(tokens, 0);
  if (isKeyword(head, 'EXISTS')) {
    // ExecuteTransaction's condition check: EXISTS(SELECT ... ) reads the table.
    const last = tokens[tokens.length - 1];
    if (!isPunct(tokens[1], '(') || !isPunct(last, ')') || !isKeyword(tokens[2], 'SELECT')) {
      throw new PartiqlParseError('expected EXISTS(SELECT ...)');
    }
    return parseSelect(tokens.slice(2, -1), 0);
  }
  if (isKeyword(head, 'INSERT')) {
    expectKeyword(tokens, 1, 'INTO');
    const table = nameAt(tokens, 2, 'table');
    expectKeyword(tokens, 3, 'VALUE');
    return { verb: 'insert', table };
  }
  if (isKeyword(head, 'UPDATE')) {
    const table = nameAt(tokens, 1, 'table');
    if (!isKeyword(tokens[2], 'SET') && !isKeyword(tokens[2], 'REMOVE')) {
      throw new PartiqlParseError('expected SET or REMOVE');
    }
    return { verb: 'update', table };
  }
  if (isKeyword(head, 'DELETE')) {
    expectKeyword(tokens, 1, 'FROM');
    const table = nameAt(tokens, 2, 'table');
    if (tokens[3] !== undefined) expectKeyword(tokens, 3, 'WHERE');
    return { verb: 'delete', table };
  }
  throw new PartiqlParseError(head === undefined ? 'empty statement' : `unsupported statement ${head.value}`);
}

/** Drops one trailing `;`; anything after a `;` is a second statement, which DynamoDB does not run. */
function singleStatement(tokens: Token[]): Token[] {
  const semi = tokens.findIndex((t) => isPunct(t, ';'));
  if (semi < 0) return tokens;
  if (semi !== tokens.length - 1) throw new PartiqlParseError('more than one statement');
  return tokens.slice(0, semi);
}

/** Throws PartiqlParseError for anything it cannot read with certainty. */
export function parsePartiql(statement: string): PartiqlTarget {
  return parseTokens(singleStatement(tokenizePartiql(statement)));
}

const SECRET_NAME = /(secret|passw|token|credential|api[_-]?key|private|ssn|card)/i;
const COMPARISON = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

/**
 * The statement text for approvers: string literals longer than `max` are cut,
 * and literals compared with or assigned to a secret-looking attribute
 * (`password = '...'`, `{'token': '...'}`) are replaced. Falls back to a
 * plain cut when the text does not tokenize.
 */
export function redactPartiql(statement: string, max = 64): string {
  let tokens: Token[];
  try {
    tokens = tokenizePartiql(statement);
  } catch {
    return statement.length > max * 4 ? `${statement.slice(0, max * 4)}…` : statement;
  }
  let out = '';
  let pos = 0;
  tokens.forEach((t, i) => {
    if (t.kind !== 'string' && t.kind !== 'ion') return;
    const op = tokens[i - 1];
    const name = tokens[i - 2];
    const named =
      op !== undefined &&
      name !== undefined &&
      ((COMPARISON.has(op.value) && op.kind === 'punct') || isPunct(op, ':')) &&
      SECRET_NAME.test(name.value);
    const q = t.kind === 'string' ? "'" : '`';
    let shown: string | undefined;
    if (named) shown = '[redacted]';
    else if (t.value.length > max) shown = `${t.value.slice(0, max)}…`;
    if (shown === undefined) return;
    out += `${statement.slice(pos, t.start)}${q}${shown.replaceAll(q, q + q)}${q}`;
    pos = t.end;
  });
  return out + statement.slice(pos);
}
