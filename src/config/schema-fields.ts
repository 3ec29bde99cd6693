/**
 * The building blocks of the config schema (schema.ts). Each carries the message a
 * problem with it prints, so the schema is the one place that says what a key accepts
 * and what Airlock answers when it does not; positions.ts adds the file:line:col.
 */
import { z } from 'zod';

type Path = readonly PropertyKey[];
/** A problem's text, fixed or made from the path of the value (keyOf gives its key) and the value. */
export type Msg = string | ((path: Path, input: unknown) => string);

/** The key a value sits under: the last name in its path (list indexes skipped). */
export function keyOf(path: Path): string {
  for (let i = path.length - 1; i >= 0; i--) {
    const p = path[i];
    if (typeof p === 'string') return p;
  }
  return '';
}

const say =
  (msg: Msg) =>
  (iss: { readonly path?: PropertyKey[] | undefined; readonly input?: unknown }): string =>
    typeof msg === 'string' ? msg : msg(iss.path ?? [], iss.input);

/**
 * YAML reads `account_id: 123456789012` as a number; every string key has always taken
 * a number written without quotes, as its decimal text.
 */
const numberAsText = (v: unknown) => (typeof v === 'number' ? String(v) : v);

/** A string; `check` narrows it (a pattern, or a test such as isHttpUrl). */
export function text(
  msg: Msg = (p) => `${keyOf(p)} must be a string`,
  check?: RegExp | ((s: string) => boolean),
) {
  const s = z.string({ error: say(msg) });
  const checked =
    check === undefined
      ? s
      : check instanceof RegExp
        ? s.regex(check, { error: say(msg) })
        : s.refine(check, { error: say(msg) });
  return z.preprocess(numberAsText, checked);
}

export function int(
  min: number,
  max: number,
  msg: Msg = (p) => `${keyOf(p)} must be an integer from ${min} to ${max}`,
) {
  return z
    .number({ error: say(msg) })
    .int()
    .min(min)
    .max(max);
}

export function bool(msg: Msg = (p) => `${keyOf(p)} must be true or false`) {
  return z.boolean({ error: say(msg) });
}

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** `host:port`, e.g. `127.0.0.1:4566` or `[::1]:4566`. */
export function hostPort(dflt: string) {
  const msg = (p: Path) => `${keyOf(p)} must be host:port, e.g. 127.0.0.1:4566`;
  return z
    .string({ error: say(msg) })
    .regex(/^(\[[^\]]+\]|[^:]+):(\d{1,5})$/, { error: say(msg) })
    .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, { error: say(msg) })
    .transform((s) => {
      const at = s.lastIndexOf(':');
      return { host: s.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(s.slice(at + 1)) };
    })
    .prefault(dflt);
}

/**
 * A mapping that takes only the keys of `shape`. An unknown key is reported at the key,
 * with the keys that are allowed (positions.ts prefixes "unknown key PATH").
 */
export function obj<S extends z.core.$ZodLooseShape>(
  shape: S,
  msg: Msg = (p) => `${keyOf(p)} must be a mapping`,
) {
  const expected = `(expected one of: ${Object.keys(shape).join(', ')})`;
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? expected : say(msg)(iss)),
  });
}

/**
 * A list of scalars whose problems are reported at the list itself, as the config has
 * always done ("must be a list of …"); an item's problem prints the item schema's message.
 */
export function scalars<T extends z.ZodType>(elem: T, msg: Msg, size: { min?: number; max?: number } = {}) {
  let list = z.array(z.unknown(), { error: say(msg) });
  if (size.min !== undefined) list = list.min(size.min, { error: say(msg) });
  if (size.max !== undefined) list = list.max(size.max, { error: say(msg) });
  return list
    .superRefine((items, ctx) => {
      for (const item of items) {
        const r = elem.safeParse(item);
        if (!r.success) ctx.addIssue({ code: 'custom', message: r.error.issues[0]?.message ?? '' });
      }
    })
    .transform((items) => items.map((item) => elem.parse(item) as z.output<T>))
    .meta({ items: jsonOf(elem) });
}

/** The JSON Schema of one part, for embedding (no `$schema` of its own). */
export function jsonOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}
