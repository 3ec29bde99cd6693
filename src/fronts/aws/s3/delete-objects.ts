/**
 * The body of DeleteObjects (`POST /bucket?delete`): every key it deletes becomes
 * a scope, so a batch delete is approved key by key. Only the documented shape is
 * accepted; anything else (DTDs, CDATA, comments, namespaced or unknown elements,
 * a <Key> outside an <Object>) is refused rather than guessed at.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
 */
import { AwsError } from '../aws-error.js';

export interface DeleteTarget {
  readonly key: string;
  readonly versionId: string | undefined;
}

/** S3 accepts at most 1000 keys per DeleteObjects call. */
export const MAX_DELETE_KEYS = 1000;

const OBJECT_RE = /<Object>([\s\S]*?)<\/Object>/g;
const ALLOWED_TAGS = new Set([
  'Delete',
  'Object',
  'Key',
  'VersionId',
  'Quiet',
  'ETag',
  'LastModifiedTime',
  'Size',
]);

export function parseDeleteObjects(xml: string): DeleteTarget[] {
  const malformed = (why: string) => new AwsError('MalformedXML', `DeleteObjects body refused: ${why}`);
  const body = xml.replace(/^\uFEFF?\s*<\?xml[^?]*\?>/, '').trim();
  if (/<!|<\?/.test(body))
    throw malformed('DTDs, CDATA, comments and processing instructions are not accepted');
  const open =
    /^<Delete(?:\s+xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/")?\s*>([\s\S]*)<\/Delete>$/.exec(
      body,
    );
  if (open === null) throw malformed('expected a single <Delete> element');
  for (const m of body.matchAll(/<\/?([^\s>/]+)[^>]*>/g)) {
    if (!ALLOWED_TAGS.has(m[1] ?? '')) throw malformed(`unexpected element <${m[1]}>`);
  }
  const inner = open[1] ?? '';
  const targets: DeleteTarget[] = [];
  for (const m of inner.matchAll(OBJECT_RE)) {
    const obj = m[1] ?? '';
    const keys = [...obj.matchAll(/<Key>([\s\S]*?)<\/Key>/g)];
    const versions = [...obj.matchAll(/<VersionId>([\s\S]*?)<\/VersionId>/g)];
    if (keys.length !== 1 || versions.length > 1) throw malformed('each <Object> needs exactly one <Key>');
    targets.push({
      key: decodeXml(keys[0]?.[1] ?? ''),
      versionId: versions[0] === undefined ? undefined : decodeXml(versions[0][1] ?? ''),
    });
  }
  const keyCount = [...inner.matchAll(/<Key>/g)].length;
  if (keyCount !== targets.length) throw malformed('a <Key> outside an <Object>');
  if (targets.length === 0) throw malformed('no <Object> to delete');
  if (targets.length > MAX_DELETE_KEYS) throw malformed(`more than ${MAX_DELETE_KEYS} keys`);
  return targets;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(s: string): string {
  if (s.includes('<')) throw new AwsError('MalformedXML', 'DeleteObjects body refused: markup inside <Key>');
  // XML 1.0 §2.11: a parser turns raw CR and CRLF into LF, so S3 would delete "a\nb" where
  // "a\r\nb" was authorized. (A `&#13;` reference survives parsing, and is decoded below.)
  if (s.includes('\r'))
    throw new AwsError(
      'MalformedXML',
      'DeleteObjects body refused: a raw carriage return in a key (use &#13;)',
    );
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, e: string) => {
    if (e.startsWith('#')) {
      const code = e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      if (!(code > 0 && code <= 0x10ffff))
        throw new AwsError('MalformedXML', `DeleteObjects body refused: bad character reference ${whole}`);
      return String.fromCodePoint(code);
    }
    const v = ENTITIES[e];
    if (v === undefined)
      throw new AwsError('MalformedXML', `DeleteObjects body refused: unknown entity ${whole}`);
    return v;
  });
}
