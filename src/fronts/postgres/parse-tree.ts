/**
 * Small readers over libpg-query's JSON parse tree (node shapes as in PostgreSQL's
 * parsenodes.h: `{ NodeType: { field: ... } }`, lists as arrays, names as String nodes).
 */

export type Node = Record<string, unknown>;

export function collectCteNames(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectCteNames(v, into);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Node)) {
    if (key === 'CommonTableExpr') {
      const name = str((child as Node).ctename);
      if (name !== undefined) into.add(name);
    }
    if (child !== null && typeof child === 'object') collectCteNames(child, into);
  }
}

export function entry(node: Node): [string | undefined, Node] {
  const k = Object.keys(node)[0];
  return [k, (k === undefined ? {} : node[k]) as Node];
}

export function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `[{String:{sval:'a'}},{String:{sval:'b'}}]` → ['a','b']. */
export function names(v: unknown): string[] {
  return list(v)
    .map((n) => str(((n as Node).String as Node | undefined)?.sval))
    .filter((s): s is string => s !== undefined);
}

export function isFalse(arg: unknown): boolean {
  const a = (arg as Node | undefined)?.A_Const as Node | undefined;
  const b = (arg as Node | undefined)?.Boolean as Node | undefined;
  if (b !== undefined) return b.boolval !== true;
  if (a?.boolval !== undefined) return (a.boolval as Node).boolval !== true;
  const s =
    str((a?.sval as Node | undefined)?.sval) ??
    str(((arg as Node | undefined)?.String as Node | undefined)?.sval);
  return s !== undefined && ['false', 'off', '0', 'no'].includes(s.toLowerCase());
}
