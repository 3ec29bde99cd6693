/**
 * Where Airlock's own password for an upstream PostgreSQL comes from: an
 * environment variable, a file (read on every connection, so rotation needs no
 * restart), or an RDS IAM authentication token minted from Airlock's AWS
 * credentials (valid 15 minutes, so minted per connection).
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.Connecting.html
 */
import { readFileSync } from 'node:fs';
import { Signer } from '@aws-sdk/rds-signer';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export type PgPasswordSource =
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'rds_iam'; readonly region: string };

export interface PasswordTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

export type PasswordProvider = () => Promise<string>;

export function passwordProvider(
  source: PgPasswordSource,
  target: PasswordTarget,
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider,
): PasswordProvider {
  switch (source.kind) {
    case 'env':
      return async () => {
        const v = process.env[source.name];
        if (v === undefined || v === '') throw new Error(`environment variable ${source.name} is not set`);
        return v;
      };
    case 'file':
      return async () => readFileSync(source.path, 'utf8').replace(/\r?\n$/, '');
    case 'rds_iam': {
      const signer = new Signer({
        hostname: target.host,
        port: target.port,
        username: target.user,
        region: source.region,
        ...(credentials === undefined ? {} : { credentials }),
      });
      return () => signer.getAuthToken();
    }
  }
}
