/**
 * Airlock's own AWS identity: the SDK's default credential chain (env, shared
 * profile, web identity, ECS container, EC2 instance metadata), memoized and
 * refreshed by the provider before expiry. Agents never see these credentials.
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export type CredentialSource = AwsCredentialIdentityProvider;

export function defaultCredentialChain(): CredentialSource {
  return fromNodeProviderChain();
}

export function staticCredentials(creds: AwsCredentialIdentity): CredentialSource {
  return async () => creds;
}
