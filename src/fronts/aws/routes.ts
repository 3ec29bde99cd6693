/**
 * Which endpoint a request goes to: the first configured route whose ARN glob
 * matches every resource, else the service's public regional endpoint.
 */
import type { UpstreamRoute } from '../../config/config.js';
import type { Scope } from '../../core/types.js';
import { AwsError } from './aws-error.js';

export class RouteTable {
  private readonly compiled: { re: RegExp; service: string; endpoint: URL }[];

  constructor(routes: readonly UpstreamRoute[]) {
    this.compiled = routes.map((r) => ({
      re: new RegExp(`^${r.arn.split('*').map(escapeRe).join('.*')}$`),
      service: r.arn.split(':')[2] ?? '',
      endpoint: new URL(r.endpoint),
    }));
  }

  endpointFor(service: string, region: string, scopes: readonly Scope[]): URL {
    let chosen: URL | undefined;
    for (const s of scopes) {
      const route = this.compiled.find((c) =>
        s.resource === '*' ? c.service === service : c.re.test(s.resource),
      );
      const url = route?.endpoint ?? new URL(`https://${service}.${region}.amazonaws.com`);
      if (chosen !== undefined && chosen.href !== url.href) {
        throw new AwsError(
          'ValidationException',
          'Airlock cannot send one request to resources behind different endpoints',
        );
      }
      chosen = url;
    }
    return chosen ?? new URL(`https://${service}.${region}.amazonaws.com`);
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
