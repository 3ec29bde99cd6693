/**
 * JSON request bodies as Airlock must read them: exactly one meaning. JSON.parse
 * keeps the last of duplicate object keys, but RFC 8259 §4 leaves duplicates'
 * meaning to each parser, and the upstream may keep the first: `{"TableName":
 * "scratch","TableName":"orders"}` would be authorized on one table and run on
 * the other. Duplicate keys (also spelled differently, e.g. `"\u0054ableName"`)
 * are refused, as is any body-altering Content-Encoding on a body Airlock reads.
 */
import { AwsError } from './aws-error.js';

/**
 * How deep a request body may nest. DynamoDB allows 32 levels of nested attribute values
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html,
 * "Nested attribute depth"); each level is two JSON levels (`{"M": {"name": …}}`) under a
 * few levels of request structure. Refused before anything walks the value recursively.
 */
export const MAX_JSON_DEPTH = 80;

/** JSON.parse, refusing any object with the same key twice (at any depth), and deep nesting. */
export function parseStrictJson(text: string, error: () => AwsError): unknown {
  refuseDeepNesting(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw error();
  }
  // The text is valid JSON now, so a small scanner suffices to find each object's keys.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = stack.at(-1) instanceof Set;
    } else if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (expectKey) {
        const keys = stack.at(-1) as Set<string>;
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (keys.has(key))
          throw new AwsError('SerializationException', `Request body repeats the key "${key.slice(0, 64)}"`);
        keys.add(key);
        expectKey = false;
      }
    }
  }
  return value;
}

/**
 * A body Airlock extracts from must be the bytes the upstream reads: a Content-Encoding
 * (gzip, br…) the upstream would decode first is refused. https://www.rfc-editor.org/rfc/rfc9110#section-8.4
 */
export function refuseEncodedBody(headers: ReadonlyMap<string, string>): void {
  const enc = headers.get('content-encoding')?.trim().toLowerCase();
  if (enc !== undefined && enc !== '' && enc !== 'identity')
    throw new AwsError(
      'ValidationException',
      `Airlock does not accept Content-Encoding ${enc.slice(0, 32)} on this service: send the body uncompressed`,
    );
}

/** Counts bracket depth outside strings, iteratively: no recursion on what the peer sent. */
function refuseDeepNesting(text: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > MAX_JSON_DEPTH)
        throw new AwsError(
          'ValidationException',
          `Request body nests deeper than ${MAX_JSON_DEPTH} levels (DynamoDB allows 32 levels of nested attributes)`,
        );
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}
