/**
 * Schema problems → `file:line:col: message`. The schema (schema.ts) works on the plain
 * value of the YAML document; each issue's path is looked up in the parsed YAML nodes to
 * find where in the file it is, so an editor-free user still gets a pointer to the line.
 */
import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { z } from 'zod';

export type Path = readonly PropertyKey[];

/** A problem before it is rendered: where (an offset in the file) and what. */
export interface Problem {
  readonly offset: number;
  readonly message: string;
}

/** `databases[].upstream.` for ['databases', 0, 'upstream']: the prefix of an unknown key. */
function prefixOf(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? '[]' : `${out === '' ? '' : '.'}${String(p)}`;
  return out === '' ? '' : `${out}.`;
}

function child(node: Node | null | undefined, key: PropertyKey): Node | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
    return (pair?.value as Node | null | undefined) ?? undefined;
  }
  if (isSeq(node) && typeof key === 'number') return (node.items[key] as Node | undefined) ?? undefined;
  return undefined;
}

/** The node at `path`, or the nearest one above it that is in the file (a missing key: its mapping). */
function nodeAt(doc: Document, path: Path): Node | undefined {
  let node = (doc.contents as Node | null) ?? undefined;
  for (const key of path) {
    const next = child(node, key);
    if (next === undefined) break;
    node = next;
  }
  return node;
}

function keyNode(doc: Document, mapPath: Path, key: string): Node | undefined {
  const map = nodeAt(doc, mapPath);
  if (!isMap(map)) return map;
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return (pair?.key as Node | undefined) ?? map;
}

const offsetOf = (node: Node | undefined) => node?.range?.[0] ?? 0;

/** A problem at the value under `path` (or the nearest mapping above it). */
export function problemAt(doc: Document, path: Path, message: string): Problem {
  return { offset: offsetOf(nodeAt(doc, path)), message };
}

export function fromIssues(doc: Document, issues: readonly z.core.$ZodIssue[]): Problem[] {
  const out: Problem[] = [];
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys)
        out.push({
          offset: offsetOf(keyNode(doc, iss.path, k)),
          message: `unknown key ${prefixOf(iss.path)}${k} ${iss.message}`,
        });
    } else if (iss.code === 'invalid_key') {
      const k = String(iss.path.at(-1));
      const parent = iss.path.slice(0, -1);
      out.push({
        offset: offsetOf(keyNode(doc, parent, k)),
        message: `${String(parent.at(-1))}: ${JSON.stringify(k)} is not a valid name`,
      });
    } else {
      out.push(problemAt(doc, iss.path, iss.message));
    }
  }
  return out;
}

/** Rendered in file order, each once. */
export function render(problems: readonly Problem[], file: string, lines: LineCounter): string[] {
  const sorted = [...problems].sort((a, b) => a.offset - b.offset);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of sorted) {
    const pos = lines.linePos(p.offset);
    const line = `${file}:${pos.line}:${pos.col}: ${p.message}`;
    if (!seen.has(line)) out.push(line);
    seen.add(line);
  }
  return out;
}
