/**
 * Tool definition pinning (docs/MCP.md, "Pinned tool definitions"): the first time
 * Airlock sees an upstream tool it pins the hash of its name, description and input
 * schema; a later definition with another hash (a "rug pull": the description now tells
 * the model to do something else) is hidden from lists and its calls are refused until an
 * operator runs `airlock mcp accept SERVER`. Pins live in `data_dir/mcp-pins.json`
 * (written atomically, re-read when it changes on disk, so `accept` takes effect on a
 * running gateway); every refused call of a changed tool is a ledger row naming both hashes.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { canonicalJson } from './args.js';

export interface ToolPin {
  /** sha256 of the canonical {name, description, inputSchema}. */
  readonly hash: string;
  readonly descriptionHash: string;
  readonly inputSchemaHash: string;
  /** ISO time first seen. */
  readonly at: string;
}

interface ServerPins {
  pinned: Record<string, ToolPin>;
  /** Definitions seen that differ from the pin, waiting for `airlock mcp accept`. */
  changed: Record<string, ToolPin>;
}

interface PinFile {
  version: 1;
  servers: Record<string, ServerPins>;
}

export interface ToolDefinition {
  readonly name: string;
  readonly description?: string | undefined;
  readonly inputSchema: unknown;
}

export type PinCheck =
  | { readonly status: 'same' | 'new'; readonly now: ToolPin }
  | { readonly status: 'changed'; readonly now: ToolPin; readonly pinned: ToolPin };

const sha = (v: unknown) => createHash('sha256').update(canonicalJson(v)).digest('hex');

export function pinOf(t: ToolDefinition, at: Date): ToolPin {
  return {
    hash: sha({ name: t.name, description: t.description ?? '', inputSchema: t.inputSchema }),
    descriptionHash: sha(t.description ?? ''),
    inputSchemaHash: sha(t.inputSchema),
    at: at.toISOString(),
  };
}

export class ToolPins {
  private file: PinFile = { version: 1, servers: {} };
  private mtimeMs = -1;

  constructor(private readonly path: string) {}

  /** Compares a tool with its pin; pins it when first seen, notes it when changed. */
  check(server: string, tool: ToolDefinition, now = new Date()): PinCheck {
    this.reload();
    const pins = this.serverPins(server);
    const current = pinOf(tool, now);
    const pinned = pins.pinned[tool.name];
    if (pinned === undefined) {
      pins.pinned[tool.name] = current;
      this.save();
      return { status: 'new', now: current };
    }
    if (pinned.hash === current.hash) return { status: 'same', now: current };
    if (pins.changed[tool.name]?.hash !== current.hash) {
      pins.changed[tool.name] = current;
      this.save();
    }
    return { status: 'changed', now: current, pinned };
  }

  /** The changed definitions of `server` waiting for `airlock mcp accept`. */
  changed(server: string): { tool: string; from: string; to: string }[] {
    this.reload();
    const pins = this.serverPins(server);
    return Object.entries(pins.changed).map(([tool, pin]) => ({
      tool,
      from: pins.pinned[tool]?.hash ?? '',
      to: pin.hash,
    }));
  }

  /**
   * Pins the changed definitions of `server` listed in `which` (by tool and new hash, as
   * `changed` returned them: a definition that changed again since is left waiting);
   * returns what was accepted. With no list, every changed definition.
   */
  accept(
    server: string,
    which?: readonly { tool: string; to: string }[],
  ): { tool: string; from: string; to: string }[] {
    this.reload();
    const pins = this.serverPins(server);
    const out: { tool: string; from: string; to: string }[] = [];
    for (const [tool, pin] of Object.entries(pins.changed)) {
      if (which !== undefined && !which.some((w) => w.tool === tool && w.to === pin.hash)) continue;
      out.push({ tool, from: pins.pinned[tool]?.hash ?? '', to: pin.hash });
      pins.pinned[tool] = pin;
      delete pins.changed[tool];
    }
    this.save();
    return out;
  }

  private serverPins(server: string): ServerPins {
    let p = this.file.servers[server];
    if (p === undefined) {
      p = { pinned: {}, changed: {} };
      this.file.servers[server] = p;
    }
    return p;
  }

  private reload(): void {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch {
      return; // no file yet: nothing pinned
    }
    if (mtimeMs === this.mtimeMs) return;
    const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as PinFile;
    if (parsed.version !== 1 || typeof parsed.servers !== 'object')
      throw new Error(`${this.path}: not an Airlock pin file`);
    this.file = parsed;
    this.mtimeMs = mtimeMs;
  }

  private save(): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.file, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
    this.mtimeMs = statSync(this.path).mtimeMs;
  }
}
