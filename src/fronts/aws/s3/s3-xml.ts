/**
 * The one reader of S3 request bodies in XML (DeleteObjects today). The upstream
 * acts on what a real XML parser reads, so Airlock reads the body with one too
 * (fast-xml-parser), and refuses everything whose meaning could differ between
 * parsers instead of guessing at it:
 *  - DTDs, comments, CDATA and processing instructions (`<!`, `<?` after the
 *    declaration): entity definitions and markup that one parser expands and
 *    another drops; XML 1.0 §2.8, §2.5, §2.7, §2.6;
 *  - an XML declaration naming an encoding other than UTF-8 (§4.3.3);
 *  - attributes, except the S3 namespace on the root, and prefixed names: S3's
 *    schema has neither, and a namespace-aware parser would rename `<x:Key>`;
 *  - entity references other than the five predefined ones and numeric character
 *    references (§4.6, §4.1); references are decoded here, not by the parser;
 *  - a raw carriage return (§2.11 turns CRLF into LF in the parser, so the text
 *    differs from the bytes), characters outside XML's Char production (§2.2);
 *  - text beside child elements (mixed content), depth and size beyond the bounds.
 * https://www.w3.org/TR/xml/
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AwsError } from '../aws-error.js';

export interface XmlElement {
  readonly name: string;
  readonly children: readonly XmlElement[];
  /** Decoded text of an element without child elements ('' otherwise). */
  readonly text: string;
}

export interface XmlLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  /** Tags (`<`) and references (`&`) a body of this kind can need: counted before parsing, which costs far more per item. */
  readonly maxTags: number;
  readonly maxRefs: number;
}

/** The namespace S3 documents for its request bodies. */
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const DECLARATION =
  /^<\?xml\s+version\s*=\s*(["'])1\.[01]\1(?:\s+encoding\s*=\s*(["'])utf-8\2)?(?:\s+standalone\s*=\s*(["'])(?:yes|no)\3)?\s*\?>/i;
const NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
/** XML 1.0 §2.3 S. */
const WHITESPACE = /^[ \t\r\n]*$/;
const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

type Ordered = Record<string, unknown>;

/** Parses `body` as one S3 XML document, or throws MalformedXML saying why. */
export function readS3Xml(body: Buffer, limits: XmlLimits, what: string): XmlElement {
  const malformed = (why: string) => new AwsError('MalformedXML', `${what} body refused: ${why}`);
  if (body.length > limits.maxBytes) throw malformed(`larger than ${limits.maxBytes} bytes`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw malformed('not valid UTF-8');
  }
  let rest = text.trimStart();
  if (rest.startsWith('<?xml')) {
    const decl = DECLARATION.exec(rest);
    if (decl === null) throw malformed('only an XML 1.0 declaration in UTF-8 is accepted');
    rest = rest.slice(decl[0].length);
  }
  if (rest.includes('<!') || rest.includes('<?'))
    throw malformed('DTDs, CDATA, comments and processing instructions are not accepted');
  if (hasNonXmlChar(rest)) throw malformed('a character XML does not allow');
  // Parsing costs ~10 µs per tag or reference: a 2 MiB body of nothing but `<Object>` or
  // `&amp;` held the event loop for over a second. Bound both by what the body type needs.
  if (count(rest, 0x3c) > limits.maxTags) throw malformed(`more than ${limits.maxTags} tags`);
  if (count(rest, 0x26) > limits.maxRefs) throw malformed(`more than ${limits.maxRefs} entity references`);
  // §2.11: parsers turn a raw CR (or CRLF) into LF before anything else (fast-xml-parser
  // too), so "a\r\nb" would be read as another key than its bytes say; `&#13;` sends a CR.
  if (rest.includes('\r')) throw malformed('a raw carriage return (send &#13;)');
  if (XMLValidator.validate(rest, { allowBooleanAttributes: false }) !== true)
    throw malformed('not well-formed XML');
  let doc: Ordered[];
  try {
    doc = new XMLParser({
      preserveOrder: true,
      ignoreAttributes: false,
      attributeNamePrefix: '',
      allowBooleanAttributes: false,
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: false,
      processEntities: false,
      htmlEntities: false,
      ignoreDeclaration: true,
      ignorePiTags: false,
      removeNSPrefix: false,
      maxNestedTags: limits.maxDepth,
    }).parse(rest) as Ordered[];
  } catch (err) {
    throw malformed(`not well-formed XML (${(err as Error).message.slice(0, 80)})`);
  }
  const roots = doc.filter((n) => !isText(n) || !WHITESPACE.test(textOf(n)));
  const root = roots[0];
  if (roots.length !== 1 || root === undefined || isText(root)) throw malformed('expected one root element');
  return toElement(root, 1, true);

  function toElement(node: Ordered, depth: number, isRoot: boolean): XmlElement {
    if (depth > limits.maxDepth) throw malformed(`nested deeper than ${limits.maxDepth}`);
    const name = Object.keys(node).find((k) => k !== ':@');
    if (name === undefined || !NAME.test(name))
      throw malformed(`unexpected element name ${String(name).slice(0, 64)}`);
    const attrs = (node[':@'] ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(attrs)) {
      if (!(isRoot && k === 'xmlns' && v === S3_XMLNS))
        throw malformed(`attribute ${k.slice(0, 64)} on <${name}> (S3 request bodies carry none)`);
    }
    const content = node[name];
    if (!Array.isArray(content)) throw malformed(`unexpected content in <${name}>`);
    const children: XmlElement[] = [];
    const texts: string[] = [];
    for (const c of content as Ordered[]) {
      if (isText(c)) texts.push(textOf(c));
      else children.push(toElement(c, depth + 1, false));
    }
    if (children.length > 0) {
      if (!texts.every((t) => WHITESPACE.test(t))) throw malformed(`text beside elements in <${name}>`);
      return { name, children, text: '' };
    }
    return { name, children, text: decodeText(texts.join(''), name) };
  }

  function decodeText(raw: string, name: string): string {
    if (raw.includes('<') || raw.includes(']]>')) throw malformed(`markup inside <${name}>`);
    const out = raw.replace(/&([^;&]{0,12});|&/g, (whole, ref: string | undefined) => {
      if (ref === undefined) throw malformed(`a bare & in <${name}>`);
      const num = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
      if (num !== null) {
        const code = num[1] !== undefined ? Number.parseInt(num[1], 16) : Number(num[2]);
        const ch = code <= 0x10ffff ? String.fromCodePoint(code) : '';
        if (ch === '' || hasNonXmlChar(ch) || (code >= 0xd800 && code <= 0xdfff))
          throw malformed(`character reference ${whole.slice(0, 16)} is not an XML character`);
        return ch;
      }
      const v = PREDEFINED[ref];
      if (v === undefined)
        throw malformed(`entity ${whole.slice(0, 16)} (only the five XML ones are accepted)`);
      return v;
    });
    return out;
  }
}

function isText(n: Ordered): boolean {
  return Object.hasOwn(n, '#text');
}

function textOf(n: Ordered): string {
  return String(n['#text']);
}

/** XML 1.0 §2.2 Char excludes C0 controls but tab, LF and CR, and U+FFFE, U+FFFF (UTF-8 input has no lone surrogates). */
function hasNonXmlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0xfffe || c === 0xffff) return true;
  }
  return false;
}

function count(s: string, code: number): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === code) n++;
  return n;
}
