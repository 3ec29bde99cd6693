/**
 * `resources:` — per-resource upstream endpoints, and the role a resource's requests are
 * signed with (scoped STS sessions, docs/AWS.md "Scoped sessions").
 */
import { z } from 'zod';
import type { UpstreamRoute } from './config.js';
import { int, isHttpUrl, obj, text } from './schema-fields.js';

/** https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (RoleArn, ExternalId) */
const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const EXTERNAL_ID_RE = /^[\w+=,.@:/-]{2,1224}$/;
const ROLE_KEYS = ['external_id', 'sts_endpoint', 'sts_region', 'max_session_seconds'] as const;

const RESOURCE_SCHEMA = obj(
  {
    arn: text('arn must be an ARN glob such as arn:aws:dynamodb:*:*:table/orders', (s) =>
      s.startsWith('arn:'),
    ).describe('ARN glob (* matches any run of characters) of the resources this entry routes'),
    endpoint: text('endpoint must be an http(s) URL', isHttpUrl).describe(
      'where requests for matching resources are sent',
    ),
    role_arn: text(
      'role_arn must be an IAM role ARN such as arn:aws:iam::123456789012:role/airlock-orders',
      (s) => s === '' || ROLE_ARN_RE.test(s),
    )
      .optional()
      .describe('assumed per grant / per agent: requests are signed with a scoped STS session'),
    external_id: text('external_id must be 2-1224 characters of [A-Za-z0-9+=,.@:/_-]', EXTERNAL_ID_RE)
      .optional()
      .describe("the role's sts:ExternalId condition"),
    sts_endpoint: text('sts_endpoint must be an http(s) URL', isHttpUrl)
      .optional()
      .describe('default: STS in sts_region'),
    // No zod defaults for these two: they would hide whether the file sets them (see below).
    sts_region: z
      .string({ error: 'sts_region must be an AWS region' })
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'sts_region must be an AWS region' })
      .optional()
      .meta({ default: 'us-east-1' })
      .describe('region of the STS endpoint'),
    max_session_seconds: int(900, 43200)
      .optional()
      .meta({ default: 3600 })
      .describe("the role's MaxSessionDuration"),
  },
  'each resources entry must be a mapping {arn, endpoint}',
).superRefine(
  (r, ctx) => {
    // The STS keys mean nothing without the role they assume; said even when other keys have problems.
    if (typeof r !== 'object' || r === null || (r.role_arn !== undefined && r.role_arn !== '')) return;
    for (const k of ROLE_KEYS)
      if (r[k] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: `${k} needs role_arn in the same resources entry`,
        });
  },
  { when: () => true },
);

export const RESOURCES_SCHEMA = z
  .array(RESOURCE_SCHEMA, { error: 'resources must be a list of {arn, endpoint}' })
  .describe('per-resource endpoints (default: the public AWS endpoint)');

export function buildResources(rs: z.output<typeof RESOURCES_SCHEMA> | undefined): UpstreamRoute[] {
  return (rs ?? []).map((r) => {
    if ((r.role_arn ?? '') === '') return { arn: r.arn, endpoint: r.endpoint };
    const role = {
      roleArn: r.role_arn ?? '',
      externalId: r.external_id,
      stsEndpoint: r.sts_endpoint,
      stsRegion: r.sts_region ?? 'us-east-1',
      maxSessionSeconds: r.max_session_seconds ?? 3600,
    };
    return { arn: r.arn, endpoint: r.endpoint, role };
  });
}
