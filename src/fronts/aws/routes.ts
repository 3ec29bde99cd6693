/**
 * Which endpoint a request goes to: the first configured route whose ARN glob
 * matches every resource, else the service's public regional endpoint.
 */
import type { AssumedRoleConfig, UpstreamRoute } from '../../config/config.js';
import type { Scope } from '../../core/types.js';
import { AwsError } from './aws-error.js';

export class RouteTable {
  private readonly compiled: {
    re: RegExp;
    service: string;
    endpoint: URL;
    role: AssumedRoleConfig | undefined;
  }[];

  constructor(routes: readonly UpstreamRoute[]) {
    this.compiled = routes.map((r) => ({
      re: new RegExp(`^${r.arn.split('*').map(escapeRe).join('.*')}$`),
      service: r.arn.split(':')[2] ?? '',
      endpoint: new URL(r.endpoint),
      role: r.role,
    }));
  }

  endpointFor(service: string, region: string, scopes: readonly Scope[]): URL {
    return this.routeFor(service, region, scopes).endpoint;
  }

  /** Endpoint plus the role to assume; every resource of one request must share both. */
  routeFor(
    service: string,
    region: string,
    scopes: readonly Scope[],
  ): { endpoint: URL; role: AssumedRoleConfig | undefined } {
    let chosen: URL | undefined;
    let role: AssumedRoleConfig | undefined;
    for (const s of scopes) {
      // A scope on another service's resource (the KMS key of an S3 upload, the role a
      // replication configuration passes) is a permission the call needs, not where it goes.
      if (s.resource !== '*' && s.resource.split(':')[2] !== service) continue;
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
      if (chosen !== undefined && role?.roleArn !== route?.role?.roleArn) {
        throw new AwsError(
          'ValidationException',
          'Airlock cannot send one request to resources that assume different roles',
        );
      }
      chosen = url;
      role = route?.role;
    }
    return { endpoint: chosen ?? new URL(`https://${service}.${region}.amazonaws.com`), role };
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
