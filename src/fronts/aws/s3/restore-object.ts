/**
 * The body of RestoreObject (`POST /bucket/key?restore`). A plain restore names no
 * other resource, but a restore of type SELECT writes its output to the bucket named
 * in `<OutputLocation><S3><BucketName>`, which no scope would cover: refused (AWS no
 * longer offers it to new customers either). Read by the one S3 XML reader (s3-xml.ts).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html
 */
import { AwsError } from '../aws-error.js';
import { readS3Xml, type XmlElement } from './s3-xml.js';

/** A RestoreRequest is a handful of small elements. */
export const MAX_RESTORE_BODY = 64 * 1024;

export function checkRestoreRequest(body: Buffer): void {
  const root = readS3Xml(
    body,
    { maxBytes: MAX_RESTORE_BODY, maxDepth: 8, maxTags: 512, maxRefs: 4096 },
    'RestoreObject',
  );
  if (root.name !== 'RestoreRequest')
    throw new AwsError('MalformedXML', `RestoreObject body refused: the root element is <${root.name}>`);
  const walk = (e: XmlElement): void => {
    if (
      e.name === 'OutputLocation' ||
      e.name === 'SelectParameters' ||
      (e.name === 'Type' && e.text === 'SELECT')
    )
      throw new AwsError(
        'InvalidArgument',
        'Airlock refuses a SELECT restore: its OutputLocation names a bucket no scope covers',
      );
    for (const c of e.children) walk(c);
  };
  walk(root);
}
