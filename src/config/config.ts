import type { AuditCheckSettings } from './audit-check-config.js';

/** The validated configuration every other layer reads. Paths are absolute. */
export interface UpstreamRoute {
  /** ARN glob (`*` matches any run of characters), e.g. `arn:aws:dynamodb:*:*:table/*`. */
  readonly arn: string;
  /** Endpoint URL that requests for matching resources are sent to. */
  readonly endpoint: string;
}

export interface AirlockConfig {
  /** File the config came from (for messages). */
  readonly source: string;
  readonly dataDir: string;
  readonly listen: { readonly aws: HostPort; readonly api: HostPort };
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
  /** `audit_check:` thresholds for `airlock audit check` (absent: the defaults). */
  readonly auditCheck?: AuditCheckSettings;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}
