/**
 * An error that renders itself for the client's protocol, so unmodified SDKs
 * surface it as a typed exception with our message:
 *  - `json` (awsJson1_0/1_1, restJson1): `__type` + `message`, `x-amzn-ErrorType`
 *    https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html#operation-error-serialization
 *  - `rest-xml` (S3): `<Error><Code/><Message/></Error>`
 *    https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 *  - `query` (awsQuery: SQS legacy, SNS, STS): `<ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>`
 *    https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#operation-error-serialization
 */
import type { UpstreamError } from '../../upstream/upstream-error.js';

export type ErrorProtocol = 'json' | 'rest-xml' | 'query';

export class AwsError extends Error {
  override readonly name = 'AwsError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** Extra machine-readable fields (approvalId, ...) for Airlock-aware clients. */
    readonly extra: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  render(
    requestId: string,
    protocol: ErrorProtocol = 'json',
  ): { status: number; headers: Record<string, string>; body: string } {
    if (protocol === 'json') {
      const body = JSON.stringify({
        __type: `com.amazon.coral.service#${this.code}`,
        message: this.message,
        ...this.extra,
      });
      return {
        status: this.status,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': this.code,
          'content-length': String(Buffer.byteLength(body)),
        },
        body,
      };
    }
    const code = protocol === 'rest-xml' ? (S3_CODES[this.code] ?? this.code) : this.code;
    const extra = Object.entries(this.extra)
      .map(([k, v]) => `<${capitalize(k)}>${escapeXml(v)}</${capitalize(k)}>`)
      .join('');
    const inner = `<Code>${escapeXml(code)}</Code><Message>${escapeXml(this.message)}</Message>${extra}`;
    const body =
      protocol === 'rest-xml'
        ? `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${inner}<RequestId>${requestId}</RequestId></Error>`
        : `<?xml version="1.0"?>\n<ErrorResponse><Error><Type>${this.status >= 500 ? 'Receiver' : 'Sender'}</Type>${inner}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
    return {
      status: protocol === 'rest-xml' && S3_FORBIDDEN.has(code) ? 403 : this.status,
      headers: {
        'content-type': 'application/xml',
        'x-amzn-requestid': requestId,
        ...(protocol === 'rest-xml' ? { 'x-amz-request-id': requestId } : {}),
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    };
  }
}

/** S3 names the common errors differently from the JSON services. */
const S3_CODES: Readonly<Record<string, string>> = {
  AccessDeniedException: 'AccessDenied',
  InvalidSignatureException: 'SignatureDoesNotMatch',
  IncompleteSignatureException: 'AuthorizationHeaderMalformed',
  UnrecognizedClientException: 'InvalidAccessKeyId',
  MissingAuthenticationTokenException: 'AccessDenied',
  ValidationException: 'InvalidRequest',
  InternalFailure: 'InternalError',
};

/** S3 answers these with 403 Forbidden. */
const S3_FORBIDDEN = new Set([
  'AccessDenied',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'RequestTimeTooSkewed',
]);

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Airlock's own upstream failures as the AWS SDKs expect them (both fail closed). */
export function upstreamAwsError(e: UpstreamError): AwsError {
  return e.kind === 'refused'
    ? new AwsError('AccessDeniedException', e.message, 403)
    : new AwsError('ServiceUnavailable', e.message, 503);
}
