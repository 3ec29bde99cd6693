/**
 * An error that renders itself the way AWS JSON-protocol services do
 * (`__type` + `message`, `x-amzn-ErrorType`), so unmodified SDKs surface it
 * as a typed exception with our message.
 * See https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html#operation-error-serialization
 */
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

  render(requestId: string): { status: number; headers: Record<string, string>; body: string } {
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
}
