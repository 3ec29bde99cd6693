/**
 * The approver API as an OpenAPI 3.1 document, served at GET /v1/openapi.json: generated
 * by @hono/zod-openapi from the routes' own declarations (route.ts), so every operation,
 * parameter and response shape in it is the one the server validates and answers with.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from './route.js';

export function openApiDocument(app: OpenAPIHono<ApiEnv>): Record<string, unknown> {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'airlock_session',
  });
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Airlock approver API',
      version: '1',
      description:
        'Held requests, decisions, grants and the linked record. Authenticate with an approver bearer token ' +
        '(`airlock approvers create`) or a console session cookie; cookie-authenticated calls must send the ' +
        'session CSRF token in `x-airlock-csrf`. Agent credentials (SigV4) are always refused. Errors are ' +
        '`{error, message}` with a stable `error` code.',
    },
  }) as unknown as Record<string, unknown>;
}
