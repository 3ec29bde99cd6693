/**
 * Cedar files → policies with ids, effects, hold terms and source positions.
 * Every problem is reported as `file:line:col: message`, all of them at once,
 * so a broken policy refuses to start with a pointer to the line to fix.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  checkParsePolicySet,
  type DetailedError,
  policySetTextToParts,
  policyToJson,
} from '@cedar-policy/cedar-wasm/nodejs';
import { type PolicyTerms, readTerms } from './annotations.js';

export class PolicyLoadError extends Error {
  override readonly name = 'PolicyLoadError';
}

export interface LoadedPolicy {
  /** `@id`, or `FILE:LINE` when the policy has none. */
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  /** The policy's own source text, exactly as written. */
  readonly text: string;
  readonly file: string;
  /** Offset of `text` in the file, to map Cedar's positions back to file:line. */
  readonly offset: number;
  readonly terms: PolicyTerms;
  /** Action ids the scope names (`action == X` / `action in [X, Y]`). */
  readonly scopeActions: readonly string[];
}

/** Positions inside one file's text. */
export class SourceMap {
  private readonly lineStarts: number[] = [0];
  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  at(offset: number): string {
    const line = this.lineOf(offset);
    return `${this.file}:${line}:${offset - (this.lineStarts[line - 1] ?? 0) + 1}`;
  }

  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}

export function describeError(map: SourceMap, base: number, e: DetailedError): string {
  const loc = e.sourceLocations?.[0];
  const where = map.at(base + (loc?.start ?? 0));
  const label = loc?.label ? ` (${loc.label})` : '';
  const help = e.help ? `; ${e.help}` : '';
  return `${where}: ${e.message}${label}${help}`;
}

export function readPolicyFiles(files: readonly string[]): {
  policies: LoadedPolicy[];
  maps: Map<string, SourceMap>;
} {
  const problems: string[] = [];
  const policies: LoadedPolicy[] = [];
  const maps = new Map<string, SourceMap>();
  const seen = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push(`${file}: cannot read policy file: ${(err as Error).message}`);
      continue;
    }
    const map = new SourceMap(file, text);
    maps.set(file, map);
    const parsed = checkParsePolicySet({ staticPolicies: text });
    if (parsed.type === 'failure') {
      for (const e of parsed.errors) problems.push(describeError(map, 0, e));
      continue;
    }
    const parts = policySetTextToParts(text);
    if (parts.type === 'failure') {
      for (const e of parts.errors) problems.push(describeError(map, 0, e));
      continue;
    }
    if (parts.policy_templates.length > 0) {
      problems.push(
        `${file}: policy templates (?principal / ?resource slots) are not supported; write static policies`,
      );
    }
    let cursor = 0;
    for (const part of parts.policies) {
      const found = text.indexOf(part, cursor);
      const offset = found === -1 ? cursor : found;
      cursor = offset + part.length;
      const json = policyToJson(part);
      if (json.type === 'failure') {
        for (const e of json.errors) problems.push(describeError(map, offset, e));
        continue;
      }
      const annotations = (json.json.annotations ?? {}) as Record<string, string>;
      const id = annotations.id ?? `${basename(file)}:${map.lineOf(offset)}`;
      const where = map.at(offset);
      const read = readTerms(json.json.effect, annotations);
      if ('problem' in read) {
        problems.push(`${where}: policy ${id}: ${read.problem}`);
        continue;
      }
      if (
        !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(id) ||
        id === 'default-deny' ||
        id === 'missing-reason'
      ) {
        problems.push(
          `${where}: @id("${id}") must be 1-128 letters, digits, '_', '-', '.', ':' and not a reserved name`,
        );
        continue;
      }
      const dup = seen.get(id);
      if (dup !== undefined) {
        problems.push(`${where}: policy id ${id} is already used at ${dup}`);
        continue;
      }
      seen.set(id, where);
      policies.push({
        id,
        effect: json.json.effect,
        text: part,
        file,
        offset,
        terms: read.terms,
        scopeActions: scopeActions(json.json.action),
      });
    }
  }
  if (problems.length > 0) throw new PolicyLoadError(problems.join('\n'));
  return { policies, maps };
}

function scopeActions(constraint: unknown): string[] {
  const c = constraint as {
    op: string;
    entity?: { id?: string; __entity?: { id: string } };
    entities?: { id?: string }[];
  };
  const ids: string[] = [];
  const push = (e: { id?: string; __entity?: { id: string } } | undefined) => {
    const id = e?.id ?? e?.__entity?.id;
    if (id !== undefined) ids.push(id);
  };
  if (c.entity !== undefined) push(c.entity);
  for (const e of c.entities ?? []) push(e);
  return ids;
}
