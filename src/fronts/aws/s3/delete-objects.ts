/**
 * The body of DeleteObjects (`POST /bucket?delete`): every key it deletes becomes
 * a scope, so a batch delete is approved key by key. The body is read by the one
 * S3 XML reader (s3-xml.ts), as the upstream's XML parser reads it; only the
 * documented elements are accepted, anything else is refused rather than guessed at.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
 */
import { AwsError } from '../aws-error.js';
import { checkKey } from './s3-address.js';
import { readS3Xml, type XmlElement } from './s3-xml.js';

export interface DeleteTarget {
  readonly key: string;
  readonly versionId: string | undefined;
}

/** S3 accepts at most 1000 keys per DeleteObjects call. */
export const MAX_DELETE_KEYS = 1000;
/** 1000 keys of ≤ 1024 bytes each, escaped, with version ids: 2 MiB is ample. */
export const MAX_DELETE_BODY = 2 * 1024 * 1024;

/** ObjectIdentifier members (the conditional ones S3 added for directory buckets included). */
const OBJECT_MEMBERS = new Set(['Key', 'VersionId', 'ETag', 'LastModifiedTime', 'Size']);

export function parseDeleteObjects(body: Buffer | string): DeleteTarget[] {
  const malformed = (why: string) => new AwsError('MalformedXML', `DeleteObjects body refused: ${why}`);
  const root = readS3Xml(
    typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    {
      maxBytes: MAX_DELETE_BODY,
      maxDepth: 3,
      // 1000 objects of at most 5 members: ~12,000 tags; references: 64 per key on average.
      maxTags: 16_384,
      maxRefs: 65_536,
    },
    'DeleteObjects',
  );
  if (root.name !== 'Delete') throw malformed(`the root element is <${root.name}>, not <Delete>`);
  const targets: DeleteTarget[] = [];
  let quiet = 0;
  for (const child of root.children) {
    if (child.name === 'Quiet') {
      if (++quiet > 1 || child.children.length > 0) throw malformed('one <Quiet> with text');
      continue;
    }
    if (child.name !== 'Object') throw malformed(`unexpected element <${child.name}> in <Delete>`);
    targets.push(target(child));
  }
  if (targets.length === 0) throw malformed('no <Object> to delete');
  if (targets.length > MAX_DELETE_KEYS) throw malformed(`more than ${MAX_DELETE_KEYS} keys`);
  return targets;

  function target(obj: XmlElement): DeleteTarget {
    const seen = new Set<string>();
    for (const m of obj.children) {
      if (!OBJECT_MEMBERS.has(m.name)) throw malformed(`unexpected element <${m.name}> in <Object>`);
      if (seen.has(m.name)) throw malformed(`<${m.name}> appears twice in one <Object>`);
      if (m.children.length > 0) throw malformed(`<${m.name}> holds elements`);
      seen.add(m.name);
    }
    const key = obj.children.find((m) => m.name === 'Key')?.text;
    if (key === undefined || key === '') throw malformed('each <Object> needs exactly one non-empty <Key>');
    // Parsers differ on trimming text (fast-xml-parser trims by default, S3 does not), so a key
    // with leading or trailing whitespace could delete another object than the one authorized.
    if (/^[ \t\n\r]|[ \t\n\r]$/.test(key))
      throw malformed('a <Key> starting or ending with whitespace (delete it with DeleteObject)');
    checkKey(key, 'a DeleteObjects key');
    const versionId = obj.children.find((m) => m.name === 'VersionId')?.text;
    if (versionId === '') throw malformed('an empty <VersionId>');
    return { key, versionId };
  }
}
