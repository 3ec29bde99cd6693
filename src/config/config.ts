import type { GuardConfig } from '../approvals/guards.js';
import type { AssumedRoleConfig } from '../upstream/assumed-role.js';
import type { AuditCheckSettings } from './audit-check-config.js';
import type { DatabaseConfig } from './databases.js';
import type { SlackConfig, WebhookConfig } from './load-channels.js';
import type { LimitsConfig } from './load-limits.js';
import type { ListenerTls } from './load-listen-tls.js';
import type { McpConfig } from './load-mcp.js';
import type { StoreConfig } from './load-store.js';

/** The validated configuration every other layer reads. Paths are absolute. */
export interface UpstreamRoute {
  /** ARN glob (`*` matches any run of characters), e.g. `arn:aws:dynamodb:*:*:table/*`. */
  readonly arn: string;
  /** Endpoint URL that requests for matching resources are sent to. */
  readonly endpoint: string;
  /** When set, requests to these resources are signed with a scoped STS session of this role. */
  readonly role?: AssumedRoleConfig;
}

export type { AssumedRoleConfig };

export interface AirlockConfig {
  /** File the config came from (for messages). */
  readonly source: string;
  readonly dataDir: string;
  readonly listen: {
    readonly aws: HostPort;
    readonly api: HostPort;
    /** HTTPS on the AWS front / the API (absent: plain HTTP). */
    readonly awsTls?: ListenerTls | undefined;
    readonly apiTls?: ListenerTls | undefined;
  };
  readonly aws: {
    readonly accountId: string;
    /** Allowed difference between the request's x-amz-date and our clock (AWS uses 5 minutes). */
    readonly clockSkewSeconds: number;
  };
  readonly policies: readonly string[];
  readonly holds: {
    /** How long an HTTP request is kept open waiting for a decision. */
    readonly windowSeconds: number;
    /** How long a pending approval stays decidable. */
    readonly approvalTtlSeconds: number;
    readonly defaultMaxGrantSeconds: number;
  };
  readonly resources: readonly UpstreamRoute[];
  /** PostgreSQL databases served by the Postgres front (docs/POSTGRES.md). */
  readonly databases: readonly DatabaseConfig[];
  /** `audit_check:` thresholds for `airlock audit check` (absent: the defaults). */
  readonly auditCheck?: AuditCheckSettings;
  /** Decision-quality guards per risk tier (approvals/guards.ts); absent: built-in defaults. */
  readonly guards?: GuardConfig;
  /** The approver console and its sign-in (docs/CONSOLE.md). */
  readonly console?: ConsoleConfig;
  /** Per-peer and global limits, upstream deadlines (absent: DEFAULT_LIMITS). */
  readonly limits?: LimitsConfig;
  /** `audit:` — signed checkpoints of the ledger (absent: none published). */
  readonly audit?: AuditConfig;
  /** `admins:` — approver groups that may revoke other approvers over the API. */
  readonly admins?: AdminsConfig;
  /** `mcp:` — the MCP front and its upstream MCP servers (docs/MCP.md); absent: no MCP front. */
  readonly mcp?: McpConfig;
  /** `slack:` — approvals in Slack (docs/SLACK.md); absent: no Slack. */
  readonly slack?: SlackConfig;
  /** `webhooks:` — signed event deliveries (docs/WEBHOOKS.md). */
  readonly webhooks?: readonly WebhookConfig[];
  /** `store:` — SQLite in data_dir (absent, the default) or a shared PostgreSQL (docs/DEPLOY.md). */
  readonly store?: StoreConfig;
}

export interface AuditConfig {
  readonly checkpoints?: {
    /** Absolute; outside data_dir. */
    readonly dir: string;
    readonly intervalSeconds: number;
  };
}

export interface AdminsConfig {
  readonly groups: readonly string[];
}

export interface ConsoleConfig {
  /** Idle-independent session lifetime. */
  readonly sessionTtlSeconds: number;
  /** Local accounts (`airlock approvers set-password`) may sign in. */
  readonly localAccounts: boolean;
  readonly oidc: OidcConfig | undefined;
}

export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  /** Name of the environment variable holding the client secret (never the secret itself). */
  readonly clientSecretEnv: string | undefined;
  /**
   * `<console origin>/v1/auth/oidc/callback`, or just that path: then it is resolved
   * against the Host the browser used (the IdP still only redirects to registered URIs).
   */
  readonly redirectUri: string;
  /** ID-token / userinfo claim that lists the user's groups. */
  readonly groupsClaim: string;
  /** Claim whose value becomes the approver name (lower-cased; email's local part). */
  readonly usernameClaim: string;
  /** IdP group → Airlock approver group; when empty, claim values are used as they are. */
  readonly groupMap: Readonly<Record<string, string>>;
  readonly scopes: string;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}
