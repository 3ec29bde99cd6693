/**
 * DynamoDB operations as data: which body field names the resource, what kind
 * of ARN that is, and how sensitive the action is. Follows "Actions, resources,
 * and condition keys for Amazon DynamoDB":
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
 * Operations whose IAM action differs from the wire name, or that touch several
 * resources (batch, transactions, PartiQL), get a special kind handled in dynamodb.ts.
 */

import type { PartiqlVerb } from './partiql.js';

export type ActionClass = 'read' | 'write' | 'admin';

export type ResourceKind =
  /** No resource-level permissions: IAM evaluates the action against `*`. */
  | 'none'
  /** `TableName` (name or table ARN). */
  | 'table'
  /** `TableName`, or its index when `IndexName` is given (IAM checks the index ARN). */
  | 'tableOrIndex'
  /** `TableArn` (exports). */
  | 'tableArn'
  /** `ResourceArn`: a table or stream ARN (tags, resource policies). */
  | 'resourceArn'
  | 'backupArn'
  | 'exportArn'
  | 'importArn'
  | 'streamArn'
  /** `GlobalTableName` → `arn:aws:dynamodb::ACCOUNT:global-table/NAME`. */
  | 'globalTable'
  | 'restoreFromBackup'
  | 'restoreToPointInTime'
  | 'importTable'
  | 'batchGet'
  | 'batchWrite'
  | 'transactGet'
  | 'transactWrite'
  | 'partiqlOne'
  | 'partiqlBatch'
  | 'partiqlTransaction';

export interface OperationSpec {
  readonly kind: ResourceKind;
  readonly cls: ActionClass;
}

const spec = (kind: ResourceKind, cls: ActionClass): OperationSpec => ({ kind, cls });

/** `DynamoDB_20120810.<Op>`; the IAM action is `dynamodb:<Op>` unless the kind says otherwise. */
export const DYNAMODB_OPERATIONS: ReadonlyMap<string, OperationSpec> = new Map([
  // Items
  ['GetItem', spec('table', 'read')],
  ['PutItem', spec('table', 'write')],
  ['UpdateItem', spec('table', 'write')],
  ['DeleteItem', spec('table', 'write')],
  ['Query', spec('tableOrIndex', 'read')],
  ['Scan', spec('tableOrIndex', 'read')],
  ['BatchGetItem', spec('batchGet', 'read')],
  ['BatchWriteItem', spec('batchWrite', 'write')],
  ['TransactGetItems', spec('transactGet', 'read')],
  ['TransactWriteItems', spec('transactWrite', 'write')],
  ['ExecuteStatement', spec('partiqlOne', 'write')],
  ['BatchExecuteStatement', spec('partiqlBatch', 'write')],
  ['ExecuteTransaction', spec('partiqlTransaction', 'write')],
  // Tables
  ['CreateTable', spec('table', 'admin')],
  ['DeleteTable', spec('table', 'admin')],
  ['UpdateTable', spec('table', 'admin')],
  ['DescribeTable', spec('table', 'read')],
  ['ListTables', spec('none', 'read')],
  ['DescribeLimits', spec('none', 'read')],
  ['DescribeEndpoints', spec('none', 'read')],
  ['UpdateTimeToLive', spec('table', 'admin')],
  ['DescribeTimeToLive', spec('table', 'read')],
  ['DescribeTableReplicaAutoScaling', spec('table', 'read')],
  ['UpdateTableReplicaAutoScaling', spec('table', 'admin')],
  ['DescribeContributorInsights', spec('tableOrIndex', 'read')],
  ['UpdateContributorInsights', spec('tableOrIndex', 'admin')],
  ['ListContributorInsights', spec('none', 'read')],
  ['DescribeKinesisStreamingDestination', spec('table', 'read')],
  ['EnableKinesisStreamingDestination', spec('table', 'admin')],
  ['DisableKinesisStreamingDestination', spec('table', 'admin')],
  ['UpdateKinesisStreamingDestination', spec('table', 'admin')],
  // Tags and resource-based policies
  ['TagResource', spec('resourceArn', 'admin')],
  ['UntagResource', spec('resourceArn', 'admin')],
  ['ListTagsOfResource', spec('resourceArn', 'read')],
  ['GetResourcePolicy', spec('resourceArn', 'read')],
  ['PutResourcePolicy', spec('resourceArn', 'admin')],
  ['DeleteResourcePolicy', spec('resourceArn', 'admin')],
  // Backups and restores
  ['CreateBackup', spec('table', 'admin')],
  ['DescribeBackup', spec('backupArn', 'read')],
  ['DeleteBackup', spec('backupArn', 'admin')],
  ['ListBackups', spec('none', 'read')],
  ['RestoreTableFromBackup', spec('restoreFromBackup', 'admin')],
  ['RestoreTableToPointInTime', spec('restoreToPointInTime', 'admin')],
  ['DescribeContinuousBackups', spec('table', 'read')],
  ['UpdateContinuousBackups', spec('table', 'admin')],
  // Exports and imports
  ['ExportTableToPointInTime', spec('tableArn', 'admin')],
  ['DescribeExport', spec('exportArn', 'read')],
  ['ListExports', spec('none', 'read')],
  ['ImportTable', spec('importTable', 'admin')],
  ['DescribeImport', spec('importArn', 'read')],
  ['ListImports', spec('none', 'read')],
  // Global tables (version 2017.11.29)
  ['CreateGlobalTable', spec('globalTable', 'admin')],
  ['UpdateGlobalTable', spec('globalTable', 'admin')],
  ['DescribeGlobalTable', spec('globalTable', 'read')],
  ['DescribeGlobalTableSettings', spec('globalTable', 'read')],
  ['UpdateGlobalTableSettings', spec('globalTable', 'admin')],
  ['ListGlobalTables', spec('none', 'read')],
]);

/**
 * `DynamoDBStreams_20120810.<Op>`; IAM still uses the `dynamodb:` prefix.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Operations_Amazon_DynamoDB_Streams.html
 */
export const STREAMS_OPERATIONS: ReadonlyMap<string, OperationSpec> = new Map([
  ['DescribeStream', spec('streamArn', 'read')],
  ['GetShardIterator', spec('streamArn', 'read')],
  ['GetRecords', spec('streamArn', 'read')],
  ['ListStreams', spec('none', 'read')],
]);

/** IAM actions that no wire operation is named after, but that the special kinds produce. */
const DERIVED_ACTIONS: ReadonlyMap<string, ActionClass> = new Map([
  ['ConditionCheckItem', 'read'],
  ['PartiQLSelect', 'read'],
  ['PartiQLInsert', 'write'],
  ['PartiQLUpdate', 'write'],
  ['PartiQLDelete', 'write'],
  // Checked by AWS on behalf of global-table and AWS Backup calls.
  ['CreateTableReplica', 'admin'],
  ['DeleteTableReplica', 'admin'],
  ['UpdateGlobalTableVersion', 'admin'],
  ['StartAwsBackupJob', 'admin'],
  ['RestoreTableFromAwsBackup', 'admin'],
]);

/** Classifies an IAM action (`dynamodb:GetItem`); anything not listed, incl. wildcards, is unknown. */
export function dynamoDbActionClass(action: string): ActionClass | 'unknown' {
  if (!action.startsWith('dynamodb:')) return 'unknown';
  const name = action.slice('dynamodb:'.length);
  if (!/^[A-Za-z]+$/.test(name)) return 'unknown';
  const derived = DERIVED_ACTIONS.get(name);
  if (derived !== undefined) return derived;
  // Reads by naming convention first: Describe*/List*/Get* never change anything.
  if (/^(Describe|List|Get)[A-Z]/.test(name)) return 'read';
  const op = DYNAMODB_OPERATIONS.get(name) ?? STREAMS_OPERATIONS.get(name);
  // The PartiQL and transaction wrappers are not IAM actions; only their derived actions are.
  if (op === undefined || op.kind.startsWith('partiql') || op.kind.startsWith('transact')) return 'unknown';
  return op.cls;
}

/** Every IAM action Airlock can produce for DynamoDB (what a policy may name). */
export function dynamoDbIamActions(): string[] {
  const names = [...DYNAMODB_OPERATIONS.keys(), ...STREAMS_OPERATIONS.keys(), ...DERIVED_ACTIONS.keys()];
  return [...new Set(names.map((n) => `dynamodb:${n}`))].filter((a) => dynamoDbActionClass(a) !== 'unknown');
}

/** PartiQL: the statement's verb decides the IAM action. */
export const PARTIQL_ACTIONS: Readonly<Record<PartiqlVerb, string>> = {
  select: 'dynamodb:PartiQLSelect',
  insert: 'dynamodb:PartiQLInsert',
  update: 'dynamodb:PartiQLUpdate',
  delete: 'dynamodb:PartiQLDelete',
};

/** Each TransactItems entry kind and the item action IAM checks for it. */
export const TRANSACT_ACTIONS: Readonly<Record<string, string>> = {
  Get: 'dynamodb:GetItem',
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};
