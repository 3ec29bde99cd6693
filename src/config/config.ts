/** The validated configuration every other layer reads. Paths are absolute. */
export interface UpstreamRoute {
  /** ARN glob (`*` matches any run of characters), e.g. `arn:aws:dynamodb:*:*:table/*`. */
  readonly arn: string;
  /** Endpoint URL that requests for matching resources are sent to. */
  readonly endpoint: string;
  /** When set, requests to these resources are signed with a scoped STS session of this role. */
  readonly role?: AssumedRoleConfig;
}

/** `role_arn` and friends of a resources entry (docs/AWS.md, "Scoped sessions"). */
export interface AssumedRoleConfig {
  readonly roleArn: string;
  readonly externalId: string | undefined;
  /** STS endpoint URL; default the regional endpoint of `stsRegion`. */
  readonly stsEndpoint: string | undefined;
  readonly stsRegion: string;
  /** The role's MaxSessionDuration (IAM default 3600 s); sessions never ask for more. */
  readonly maxSessionSeconds: number;
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
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}
