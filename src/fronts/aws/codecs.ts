/**
 * Which codec serves a signing service. Services without a codec are refused
 * here, after their signature is verified (so an unknown key still gets the
 * authentication error it deserves).
 */
import { AwsError } from './aws-error.js';
import type { ServiceCodec } from './codec.js';
import { s3Codec } from './s3/s3-codec.js';
import { dynamoDbCodec } from './services/dynamodb-codec.js';

const CODECS: ReadonlyMap<string, ServiceCodec> = new Map([
  ['dynamodb', dynamoDbCodec],
  ['s3', s3Codec],
]);

export function codecFor(service: string | undefined): ServiceCodec {
  return (service === undefined ? undefined : CODECS.get(service)) ?? unsupported;
}

/** Verifies like DynamoDB (the error a client with a wrong key expects), then refuses the service. */
const unsupported: ServiceCodec = {
  protocol: 'json',
  async prepare(req, headers, ctx) {
    const p = await dynamoDbCodec.prepare(req, headers, ctx).catch((err: unknown) => {
      throw err;
    });
    throw new AwsError('AccessDeniedException', `Airlock does not front the ${p.service} service`, 400);
  },
};
