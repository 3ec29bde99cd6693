/**
 * The role a resource's requests are signed with (config `resources[].role_arn` and
 * friends; docs/AWS.md, "Scoped sessions"). Defined here, below config, so upstream/
 * does not import the config layer.
 */
export interface AssumedRoleConfig {
  readonly roleArn: string;
  readonly externalId: string | undefined;
  /** STS endpoint URL; default the regional endpoint of `stsRegion`. */
  readonly stsEndpoint: string | undefined;
  readonly stsRegion: string;
  /** The role's MaxSessionDuration (IAM default 3600 s); sessions never ask for more. */
  readonly maxSessionSeconds: number;
}
