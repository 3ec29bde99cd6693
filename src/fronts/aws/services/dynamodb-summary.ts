/**
 * Turns DynamoDB request fields into a readable, redacted summary for approvers.
 * Values are shown only when short and not named like a secret; key values are
 * shown (cut to 64 chars) since an approver needs to know which item is touched.
 * AttributeValue shapes: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html
 */

export const SECRET_NAME = /(secret|passw|token|credential|api[_-]?key|private|ssn|card)/i;
export const MAX_VALUE_CHARS = 64;
export const MAX_LIST = 25;

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** First MAX_LIST entries, and how many were left off (0 when none). */
export function capList<T>(list: readonly T[]): { list: T[]; truncated: number } {
  return { list: list.slice(0, MAX_LIST), truncated: Math.max(0, list.length - MAX_LIST) };
}

function capObject(entries: [string, Json][]): { [key: string]: Json } {
  const { list, truncated } = capList(entries);
  const out: { [key: string]: Json } = Object.fromEntries(list);
  if (truncated > 0) out['[truncated]'] = truncated;
  return out;
}

/** Plain JSON for an AttributeValue; binaries show as sizes, nested secret-named members are redacted. */
export function renderAttributeValue(av: unknown): Json {
  if (!isObject(av)) return '[unrecognized]';
  const [type, v] = Object.entries(av)[0] ?? [];
  switch (type) {
    case 'S':
      return typeof v === 'string' ? v : '[unrecognized]';
    case 'N':
      return typeof v === 'string' && Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
    case 'BOOL':
      return v === true;
    case 'NULL':
      return null;
    case 'B':
      return `[${typeof v === 'string' ? Buffer.from(v, 'base64').length : 0} bytes]`;
    case 'SS':
    case 'NS':
      return Array.isArray(v) ? capList(v.map(String)).list : '[unrecognized]';
    case 'BS':
      return Array.isArray(v) ? `[${v.length} binaries]` : '[unrecognized]';
    case 'L':
      return Array.isArray(v) ? capList(v.map(renderAttributeValue)).list : '[unrecognized]';
    case 'M':
      return isObject(v) ? renderItem(v) : '[unrecognized]';
    default:
      return '[unrecognized]';
  }
}

const byteSize = (v: Json): number => Buffer.byteLength(JSON.stringify(v));

/** A non-key value: shown when short and no related name looks secret. */
export function redactValue(names: readonly string[], av: unknown): Json {
  if (names.some((n) => SECRET_NAME.test(n))) return '[redacted]';
  const shown = renderAttributeValue(av);
  const size = byteSize(shown);
  return size <= MAX_VALUE_CHARS ? shown : `[${size} bytes]`;
}

/** Attribute map (an item or a map value), each attribute redacted by its own name. */
export function renderItem(item: Record<string, unknown>): { [key: string]: Json } {
  return capObject(Object.entries(item).map(([name, av]) => [name, redactValue([name], av)]));
}

/** Key attributes: shown, cut to 64 characters, unless named like a secret. */
export function renderKey(key: Record<string, unknown>): { [key: string]: Json } {
  return capObject(
    Object.entries(key).map(([name, av]): [string, Json] => {
      if (SECRET_NAME.test(name)) return [name, '[redacted]'];
      const shown = renderAttributeValue(av);
      const text = typeof shown === 'string' ? shown : JSON.stringify(shown);
      if (text.length <= MAX_VALUE_CHARS) return [name, shown];
      return [name, `${text.slice(0, MAX_VALUE_CHARS)}…`];
    }),
  );
}

const PLACEHOLDER_USE =
  /([#A-Za-z_][\w#.[\]]*)\s*(?:=|<>|<=|>=|<|>|,|\+|-)\s*(:\w+)|(:\w+)\s*(?:=|<>|<=|>=|<|>|,|\+|-)\s*([#A-Za-z_][\w#.[\]]*)/g;

/**
 * For each `:placeholder`, the attribute names it is compared with or assigned
 * to (`SET #p = :v` with `#p` → `password` makes `:v` secret), so a neutral
 * placeholder name cannot smuggle a secret past redaction.
 */
function placeholderNames(
  expressions: readonly string[],
  names: Record<string, unknown>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const expr of expressions) {
    for (const m of expr.matchAll(PLACEHOLDER_USE)) {
      const path = m[1] ?? m[4] ?? '';
      const placeholder = m[2] ?? m[3] ?? '';
      const parts = path.split(/[.[\]]/).map((p) => {
        const resolved = names[p];
        return typeof resolved === 'string' ? resolved : p;
      });
      out.set(placeholder, [...(out.get(placeholder) ?? []), ...parts]);
    }
  }
  return out;
}

const EXPRESSIONS = [
  ['ConditionExpression', 'conditionExpression'],
  ['UpdateExpression', 'updateExpression'],
  ['KeyConditionExpression', 'keyConditionExpression'],
  ['FilterExpression', 'filterExpression'],
  ['ProjectionExpression', 'projectionExpression'],
] as const;

/** Legacy conditional parameters (Expected, KeyConditions, ...) and AttributeUpdates carry values too. */
const LEGACY = [
  ['Expected', 'expected'],
  ['KeyConditions', 'keyConditions'],
  ['QueryFilter', 'queryFilter'],
  ['ScanFilter', 'scanFilter'],
  ['AttributeUpdates', 'attributeUpdates'],
] as const;

/** Why the fields cannot be summarized (a wrong type), or undefined when they are well-formed. */
export function checkItemFields(body: Record<string, unknown>): string | undefined {
  for (const [field] of EXPRESSIONS) {
    if (body[field] !== undefined && typeof body[field] !== 'string') return `${field} must be a string`;
  }
  for (const field of ['Key', 'Item', 'ExpressionAttributeNames', 'ExpressionAttributeValues']) {
    if (body[field] !== undefined && !isObject(body[field])) return `${field} must be an object`;
  }
  for (const [field] of LEGACY) {
    if (body[field] !== undefined && !isObject(body[field])) return `${field} must be an object`;
  }
  return undefined;
}

function renderLegacy(map: Record<string, unknown>): { [key: string]: Json } {
  return capObject(
    Object.entries(map).map(([name, cond]): [string, Json] => {
      if (!isObject(cond)) return [name, '[unrecognized]'];
      const out: { [key: string]: Json } = {};
      for (const [k, v] of Object.entries(cond)) {
        if (k === 'Value') out.value = redactValue([name], v);
        else if (k === 'AttributeValueList' && Array.isArray(v)) {
          out.values = capList(v).list.map((av) => redactValue([name], av));
        } else if (typeof v === 'string' || typeof v === 'boolean') out[k] = v;
      }
      return [name, out];
    }),
  );
}

/** The item-level fields of one request or one transaction entry (call checkItemFields first). */
export function summarizeItemFields(body: Record<string, unknown>): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  if (isObject(body.Key)) out.key = renderKey(body.Key);
  if (isObject(body.Item)) out.item = renderItem(body.Item);
  const expressions: string[] = [];
  for (const [field, name] of EXPRESSIONS) {
    const v = body[field];
    if (typeof v === 'string') {
      out[name] = v;
      expressions.push(v);
    }
  }
  const names = isObject(body.ExpressionAttributeNames) ? body.ExpressionAttributeNames : {};
  if (isObject(body.ExpressionAttributeNames)) {
    out.expressionAttributeNames = capObject(
      Object.entries(names).map(([k, v]): [string, Json] => [
        k,
        typeof v === 'string' ? v : '[unrecognized]',
      ]),
    );
  }
  if (isObject(body.ExpressionAttributeValues)) {
    const related = placeholderNames(expressions, names);
    out.expressionAttributeValues = capObject(
      Object.entries(body.ExpressionAttributeValues).map(([ph, av]): [string, Json] => [
        ph,
        redactValue([ph, ...(related.get(ph) ?? [])], av),
      ]),
    );
  }
  for (const [field, name] of LEGACY) {
    const v = body[field];
    if (isObject(v)) out[name] = renderLegacy(v);
  }
  return out;
}
