/**
 * What classification takes and returns: the session context it resolves names in,
 * the scopes and statement classes it finds, and the session effects it reports
 * (returned, not applied: classify.ts is pure).
 */
import type { Scope } from '../../core/types.js';
import type { StatementClass } from './actions.js';
import type { FunctionCatalog } from './function-catalog.js';
import type { Node } from './parse-tree.js';

export interface ClassifyContext {
  /** Database resource name from the config (`databases[].name`). */
  readonly db: string;
  /** Effective search_path, `$user` already replaced. */
  readonly searchPath: readonly string[];
  /** The upstream user name, for `$user` in a search_path set by the statement itself. */
  readonly user: string;
  /** What RESET search_path goes back to (expanded). */
  readonly defaultSearchPath: readonly string[];
  /** Which function calls are reads (function-catalog.ts). */
  readonly functions: FunctionCatalog;
  /** Statements prepared in this session (for EXECUTE). */
  readonly prepared: ReadonlyMap<string, PreparedEntry>;
}

/**
 * What a prepared name may stand for at the upstream. PostgreSQL analyses a prepared
 * statement again when search_path has changed since it was planned (plancache.c,
 * RevalidateCachedQuery), so EXECUTE resolves names against the path *then*: `sources`
 * are kept to classify again, and `scopes` (from preparation time) are kept too.
 * More than one source when Airlock cannot know which of them the upstream holds.
 */
export interface PreparedEntry {
  readonly scopes: readonly Scope[];
  readonly sources: readonly PreparedSource[];
}

/** SQL text (protocol Parse) or the query of a SQL PREPARE. */
export type PreparedSource = { readonly sql: string } | { readonly query: Node };

export type SessionEffect =
  | { readonly kind: 'search_path'; readonly value: readonly string[] | 'default'; readonly local: boolean }
  | {
      readonly kind: 'prepare';
      readonly name: string;
      readonly scopes: readonly Scope[];
      readonly query: Node;
    }
  | { readonly kind: 'deallocate'; readonly name: string | undefined }
  | { readonly kind: 'application_name'; readonly value: string | 'default' }
  | { readonly kind: 'client_encoding'; readonly value: string }
  | { readonly kind: 'transaction'; readonly op: TxOp; readonly readWrite?: boolean }
  /** An attempt to change a setting Airlock pins (session-settings.ts): refused outright. */
  | { readonly kind: 'pinned_setting'; readonly name: string };

export type TxOp = 'begin' | 'commit' | 'rollback' | 'rollback_to' | 'savepoint' | 'release' | 'other';

export interface Classification {
  readonly scopes: readonly Scope[];
  readonly classes: readonly StatementClass[];
  readonly effects: readonly SessionEffect[];
  /** Number of statements (0 for an empty query). */
  readonly statements: number;
  /** Parser error message, when the text did not parse. */
  readonly parseError: string | undefined;
}
