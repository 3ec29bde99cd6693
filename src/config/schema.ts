/**
 * The schema of airlock.yaml, defined once: it validates the file (load.ts, with
 * file:line:col positions from positions.ts), types what the loader builds from it, and
 * is published as JSON Schema (`airlock config schema`, schema/airlock.schema.json) so an
 * editor with yaml-language-server validates and completes the file (docs/CONFIG.md).
 *
 * zod rather than JSON Schema + ajv: the type of the checked file (ConfigInput) is
 * inferred from the same definition, so the build step that turns it into AirlockConfig
 * (config.ts, camelCase with absolute paths) is type-checked against the schema; every
 * key carries the message Airlock prints for it (ajv would need ajv-errors and a message
 * table keyed by JSON pointer); and zod's toJSONSchema emits the draft 2020-12 document
 * editors read. What JSON Schema cannot express (cross-key rules, "outside data_dir")
 * stays in refinements next to the keys, or in the build step.
 */
import { z } from 'zod';
import { AUDIT_CHECK_SCHEMA } from './audit-check-config.js';
import { DATABASES_SCHEMA } from './databases.js';
import { ADMINS_SCHEMA, AUDIT_SCHEMA } from './load-audit.js';
import { SLACK_SCHEMA, WEBHOOKS_SCHEMA } from './load-channels.js';
import { CONSOLE_SCHEMA, GUARDS_SCHEMA, OIDC_SCHEMA } from './load-console.js';
import { LIMITS_SCHEMA } from './load-limits.js';
import { listenerTlsSchema } from './load-listen-tls.js';
import { MCP_SCHEMA } from './load-mcp.js';
import { RESOURCES_SCHEMA } from './load-resources.js';
import { STORE_SCHEMA } from './load-store.js';
import { hostPort, int, jsonOf, obj, text } from './schema-fields.js';

const ACCOUNT = 'aws.account_id must be the 12-digit AWS account id whose resources Airlock fronts';
const POLICIES = 'policies must be a non-empty list of Cedar policy files';

export const CONFIG_SCHEMA = obj(
  {
    data_dir: text()
      .prefault('.airlock')
      .describe('SQLite file, master.key and checkpoint.key (created 0600 in a 0700 directory)'),
    listen: obj({
      aws: hostPort('127.0.0.1:4566').describe('the AWS front agents point at'),
      api: hostPort('127.0.0.1:4567').describe('the approver API and console'),
      aws_tls: listenerTlsSchema('aws_tls'),
      api_tls: listenerTlsSchema('api_tls'),
    })
      .optional()
      .describe('where Airlock listens'),
    aws: obj(
      {
        account_id: text(ACCOUNT, /^\d{12}$/).describe('account whose ARNs policies name (quote it)'),
        clock_skew_seconds: int(1, 900)
          .default(300)
          .describe("allowed difference between a request's x-amz-date and Airlock's clock"),
      },
      (_, input) => (input === undefined ? ACCOUNT : 'aws must be a mapping'),
    ),
    policies: z
      .array(
        z
          .string({ error: 'each policies entry must be a file path' })
          .min(1, { error: 'each policies entry must be a file path' }),
        { error: POLICIES },
      )
      .min(1, { error: POLICIES })
      .describe('Cedar policy files, relative to this file (docs/POLICY.md)'),
    holds: obj({
      window_seconds: int(1, 3600).default(50).describe('how long a held HTTP request stays open'),
      approval_ttl_seconds: int(1, 7 * 86400)
        .default(900)
        .describe('how long a pending approval stays decidable'),
      default_max_grant_seconds: int(60, 30 * 86400)
        .default(3600)
        .describe('grant lifetime when a hold policy sets no @max_grant'),
    })
      .optional()
      .describe('held requests and the grants approving them issues'),
    resources: RESOURCES_SCHEMA.optional(),
    audit_check: AUDIT_CHECK_SCHEMA.optional(),
    guards: GUARDS_SCHEMA.optional(),
    console: CONSOLE_SCHEMA.optional(),
    oidc: OIDC_SCHEMA.optional(),
    databases: DATABASES_SCHEMA.optional(),
    limits: LIMITS_SCHEMA.optional(),
    audit: AUDIT_SCHEMA.optional(),
    admins: ADMINS_SCHEMA.optional().describe('approver groups that may revoke other approvers over the API'),
    mcp: MCP_SCHEMA.optional(),
    slack: SLACK_SCHEMA.optional(),
    webhooks: WEBHOOKS_SCHEMA.optional(),
    store: STORE_SCHEMA.optional(),
  },
  'the config must be a YAML mapping',
);

export type ConfigInput = z.output<typeof CONFIG_SCHEMA>;

/** The published JSON Schema (draft 2020-12) of airlock.yaml. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'airlock.yaml',
    description: 'Airlock gateway configuration (README "Config", docs/CONFIG.md)',
    ...jsonOf(CONFIG_SCHEMA),
  };
}
