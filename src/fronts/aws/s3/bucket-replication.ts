/**
 * The body of PutBucketReplication (`PUT /bucket?replication`) names the IAM role S3
 * assumes to replicate, and AWS requires the caller to hold iam:PassRole on it ("you
 * must have the iam:PassRole permission", PutBucketReplication reference), so the role
 * becomes a scope of its own. Read by the one S3 XML reader (s3-xml.ts).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketReplication.html
 */
import { AwsError } from '../aws-error.js';
import { readS3Xml } from './s3-xml.js';

/** A replication configuration holds at most 1000 rules. */
export const MAX_REPLICATION_BODY = 2 * 1024 * 1024;

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** The role ARN the configuration passes to S3. */
export function replicationRole(body: Buffer): string {
  const root = readS3Xml(
    body,
    {
      maxBytes: MAX_REPLICATION_BODY,
      maxDepth: 10,
      // ≤ 1000 rules of a few dozen elements each.
      maxTags: 65_536,
      maxRefs: 65_536,
    },
    'PutBucketReplication',
  );
  const malformed = (why: string) =>
    new AwsError('MalformedXML', `PutBucketReplication body refused: ${why}`);
  if (root.name !== 'ReplicationConfiguration') throw malformed(`the root element is <${root.name}>`);
  const roles = root.children.filter((c) => c.name === 'Role');
  const role = roles[0]?.text;
  if (roles.length !== 1 || role === undefined || !ROLE_ARN.test(role))
    throw malformed('exactly one <Role> with an IAM role ARN');
  return role;
}
