/**
 * The approvers' HTTP API and console on a socket: the hono app of api-app.ts served
 * through @hono/node-server on one http or https listener (config `listen.api`,
 * `listen.api_tls`). The routes, their schemas and the OpenAPI document are in the app;
 * `ApiServer.app` is the same app for in-process calls (`app.request()`), no socket needed.
 * An answer whose body is in memory (JSON, the console's files) is written with one
 * writeHead + end as soon as it is made (http-util.ts writeNow); streams go through node-server.
 */
import http, { type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { type ApiDeps, createApiApp } from './api-app.js';
import { jsonResponse, writeNow } from './http-util.js';
import type { ApiEnv } from './route.js';

export type { ApiDeps } from './api-app.js';

export class ApiServer {
  /** The app itself: `await server.app.request('/v1/approvals', {headers})` answers in process. */
  readonly app: OpenAPIHono<ApiEnv>;
  private readonly server: http.Server | https.Server;
  private readonly closeApp: () => void;

  constructor(deps: ApiDeps) {
    const { app, close } = createApiApp(deps);
    this.app = app;
    this.closeApp = close;
    const onRequest = getRequestListener(
      // Answers made outside the routes (the auth middleware's refusals, no-route) are written now too.
      async (req, env) => writeNow(env.outgoing as ServerResponse, await app.fetch(req, env)),
      {
        // Leave the process's global Request/Response alone: other parts of Airlock (and tests) fetch too.
        overrideGlobalObjects: false,
        // A request line or Host header that does not make a URL: answered like every API error.
        errorHandler: (err) =>
          jsonResponse(400, {
            error: 'bad-request',
            message: `malformed request: ${(err as Error).message}`,
          }),
      },
    );
    this.server =
      deps.tls === undefined
        ? http.createServer(onRequest)
        : https.createServer({ ...deps.tls, minVersion: 'TLSv1.2' }, onRequest);
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    this.closeApp();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
