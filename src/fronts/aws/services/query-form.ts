/**
 * The body of an awsQuery call (`application/x-www-form-urlencoded`), read so that it has
 * exactly one meaning. AWS services and URLSearchParams disagree on the edges: a repeated
 * `Action` was authorized as the first value (SendMessage) and forwarded with both
 * (`…&Action=PurgeQueue`), and a service may read the first or the last. So every
 * parameter appears once (also across spellings: `%41ction`, `action`), names are the
 * plain ones the protocol uses (`Attribute.1.Name`), and percent-encoding is strict UTF-8.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 * https://url.spec.whatwg.org/#application/x-www-form-urlencoded
 */
import { AwsError } from '../aws-error.js';

/** Query-protocol member paths: `Name`, `Tags.member.1.Key`, `Filter.1.Value.2`, `MessageAttribute.1.Value.StringValue`. */
const NAME = /^[A-Za-z][A-Za-z0-9_:-]{0,127}(?:\.[A-Za-z0-9_:-]{1,128}){0,8}$/;
/** Bounds the work one body can make (SQS batches send ≤ 10 entries × a handful of fields). */
const MAX_PARAMS = 4096;

/** Parses a form body into one value per name; throws on anything ambiguous. */
export function parseQueryForm(body: string): Map<string, string> {
  const bad = (why: string) => new AwsError('MalformedQueryString', `Airlock refuses this form body: ${why}`);
  const out = new Map<string, string>();
  const folded = new Set<string>();
  if (body === '') return out;
  const parts = body.split('&');
  if (parts.length > MAX_PARAMS) throw bad(`more than ${MAX_PARAMS} parameters`);
  for (const part of parts) {
    if (part === '') throw bad('an empty parameter (&&)');
    const eq = part.indexOf('=');
    const name = decode(eq === -1 ? part : part.slice(0, eq), bad);
    const value = eq === -1 ? '' : decode(part.slice(eq + 1), bad);
    if (!NAME.test(name))
      throw bad(`parameter name ${JSON.stringify(name.slice(0, 64))} is not a Query member name`);
    // Names differing only in case are one name to a case-insensitive reader.
    const key = name.toLowerCase();
    if (folded.has(key)) throw bad(`parameter ${name.slice(0, 64)} appears more than once`);
    folded.add(key);
    out.set(name, value);
  }
  return out;
}

function decode(s: string, bad: (why: string) => AwsError): string {
  // Form encoding: `+` is a space; `%` must start a valid escape (URLSearchParams would keep
  // a stray `%` literally where a stricter reader refuses or decodes differently).
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) throw bad('a malformed percent-escape');
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw bad('percent-escapes that are not UTF-8');
  }
}
