/**
 * The AWS front without a socket: requests go straight into `RunningAirlock.awsDispatch`
 * (AwsFront.dispatch) through light-my-request, the injector fastify tests with. Two uses:
 * `injectAws` for a hand-made request, and `InProcessHandler`, a smithy request handler,
 * so an unmodified AWS SDK v3 client (which still signs every request with SigV4) runs
 * the whole path in process. The socket tests with the real SDKs stay as they are.
 */
import { Readable } from 'node:stream';
import { type HttpRequest, HttpResponse } from '@smithy/protocol-http';
import inject, { type InjectOptions, type Response } from 'light-my-request';
import type { RunningAirlock } from '../../src/app.js';

export function injectAws(airlock: RunningAirlock, opts: InjectOptions): Promise<Response> {
  return inject(airlock.awsDispatch, { remoteAddress: '127.0.0.1', ...opts });
}

/** RFC 3986 escaping, as the SDK's query string builder does. */
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function queryString(query: HttpRequest['query']): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const v = query[key];
    if (v === null || v === undefined) parts.push(rfc3986(key));
    else for (const one of Array.isArray(v) ? v : [v]) parts.push(`${rfc3986(key)}=${rfc3986(one)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

async function bodyOf(body: unknown): Promise<Buffer | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** A smithy HttpHandler that hands each signed request to the AWS front in process. */
export class InProcessHandler {
  /** How many requests went through it (a test can check that no socket was needed). */
  handled = 0;
  readonly metadata = { handlerProtocol: 'http/1.1' };

  constructor(private readonly airlock: RunningAirlock) {}

  async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    this.handled++;
    const payload = await bodyOf(request.body);
    const r = await injectAws(this.airlock, {
      method: request.method as InjectOptions['method'],
      url: `${request.path}${queryString(request.query)}`,
      headers: request.headers,
      ...(payload === undefined ? {} : { payload }),
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = String(v);
    return {
      response: new HttpResponse({
        statusCode: r.statusCode,
        headers,
        body: Readable.from([r.rawPayload]),
      }),
    };
  }

  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
  destroy(): void {}
}
