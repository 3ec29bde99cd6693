/**
 * DynamoDB request → every (IAM action, resource ARN) pair IAM would check, plus
 * a redacted summary. Follows "Actions, resources, and condition keys for Amazon
 * DynamoDB" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html)
 * and the API reference for body shapes. Anything it cannot read with certainty
 * becomes `known: false` with the broadest scope, so no narrow policy matches it.
 */
import type { ItemRef, PayloadSummary, Scope } from '../../../core/types.js';
import { AwsError } from '../aws-error.js';
import { dynamoItem } from '../item-refs.js';
import {
  DYNAMODB_OPERATIONS,
  dynamoDbActionClass,
  type OperationSpec,
  PARTIQL_ACTIONS,
  type ResourceKind,
  STREAMS_OPERATIONS,
  TRANSACT_ACTIONS,
} from './dynamodb-operations.js';
import {
  capList,
  checkItemFields,
  isObject,
  type Json,
  redactValue,
  renderItem,
  renderKey,
  summarizeItemFields,
} from './dynamodb-summary.js';
import { PartiqlParseError, parsePartiql, redactPartiql } from './partiql.js';

export { dynamoDbActionClass };

export interface ExtractContext {
  readonly region: string;
  readonly accountId: string;
}

export interface Extraction {
  readonly operation: string;
  readonly scopes: Scope[];
  readonly summary: PayloadSummary;
  readonly known: boolean;
  /** The items named by Key/Keys, when every item the request touches is (item-refs.ts). */
  readonly items?: readonly ItemRef[] | undefined;
}

/** Malformed input that AWS itself would reject; renders as the AWS error of the same code. */
export class ExtractionError extends AwsError {
  constructor(code: 'ValidationException' | 'UnknownOperationException', message: string) {
    super(code, message, 400);
  }
}

/** A body that does not have the shape the operation needs: the extraction becomes unknown. */
class ShapeError extends Error {}

const TARGET = /^(DynamoDB_20120810|DynamoDBStreams_20120810)\.([A-Za-z]+)$/;
/** https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html */
const NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const ARN_HEAD = 'arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\\d{12}:table/([A-Za-z0-9_.-]{3,255})';
const TABLE_ARN = new RegExp(`^${ARN_HEAD}$`);
const SUB_ARN = (kind: string) => new RegExp(`^${ARN_HEAD}/${kind}/([A-Za-z0-9_.:-]{1,255})$`);
const STREAM_ARN = SUB_ARN('stream');
const BACKUP_ARN = SUB_ARN('backup');
const EXPORT_ARN = SUB_ARN('export');
const IMPORT_ARN = SUB_ARN('import');

/** Partition from the region, so China and GovCloud ARNs come out right. */
function partition(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

interface Resolved {
  readonly arn: string;
  /** What approvers see: the name or ARN as the client gave it. */
  readonly shown: string;
}

/** Collects scopes and summary fields for one request. */
class Builder {
  readonly scopes: Scope[] = [];
  readonly tables: string[] = [];
  readonly fields: { [key: string]: Json } = {};
  readonly items: ItemRef[] = [];
  /** Set when the request touches an item it does not name by key: then it has no items. */
  unkeyed = false;
  private readonly seen = new Set<string>();

  constructor(private readonly ctx: ExtractContext) {}

  add(action: string, resource: string, shown?: string): void {
    const id = `${action} ${resource}`;
    if (!this.seen.has(id)) {
      this.seen.add(id);
      this.scopes.push({ action, resource });
    }
    if (shown !== undefined && !this.tables.includes(shown)) this.tables.push(shown);
  }

  /** One item named by its Key; anything that is not a key map makes the request unkeyed. */
  item(tableArn: string, key: unknown): void {
    if (!isObject(key) || Object.keys(key).length === 0) {
      this.unkeyed = true;
      return;
    }
    this.items.push(dynamoItem(tableArn, key, renderKey(key)));
  }

  /** TableName accepts a name or a table ARN (used verbatim, even for another account or region). */
  table(value: unknown, field = 'TableName', arnOnly = false): Resolved {
    if (typeof value !== 'string') throw new ShapeError(`${field} must be a string`);
    if (value.startsWith('arn:')) {
      if (!TABLE_ARN.test(value)) throw new ShapeError(`${field} is not a DynamoDB table ARN`);
      return { arn: value, shown: value };
    }
    if (arnOnly) throw new ShapeError(`${field} must be a table ARN`);
    if (!NAME.test(value)) throw new ShapeError(`${field} is not a valid table name`);
    const { region, accountId } = this.ctx;
    return { arn: `arn:${partition(region)}:dynamodb:${region}:${accountId}:table/${value}`, shown: value };
  }

  index(table: Resolved, value: unknown): string {
    if (typeof value !== 'string' || !NAME.test(value))
      throw new ShapeError('IndexName is not a valid index name');
    return `${table.arn}/index/${value}`;
  }

  /** A stream/backup/export/import ARN; `shown` is the table it belongs to. */
  sub(value: unknown, re: RegExp, field: string): Resolved {
    const m = typeof value === 'string' ? re.exec(value) : null;
    if (m === null || typeof value !== 'string') throw new ShapeError(`${field} is not a valid ARN`);
    return { arn: value, shown: m[1] ?? value };
  }

  globalTable(value: unknown): Resolved {
    if (typeof value !== 'string' || !NAME.test(value)) throw new ShapeError('GlobalTableName is not valid');
    return {
      arn: `arn:${partition(this.ctx.region)}:dynamodb::${this.ctx.accountId}:global-table/${value}`,
      shown: value,
    };
  }
}

function itemFields(body: Record<string, unknown>): { [key: string]: Json } {
  const problem = checkItemFields(body);
  if (problem !== undefined) throw new ShapeError(problem);
  return summarizeItemFields(body);
}

function nonEmptyObject(v: unknown, field: string): Record<string, unknown> {
  if (!isObject(v) || Object.keys(v).length === 0) throw new ShapeError(`${field} must be a non-empty map`);
  return v;
}

function nonEmptyList(v: unknown, field: string): Record<string, unknown>[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every(isObject)) {
    throw new ShapeError(`${field} must be a non-empty list of objects`);
  }
  return v;
}

/** Cap a list into the summary, recording how many were left off. */
function putList(b: Builder, name: string, list: readonly Json[]): void {
  const capped = capList(list);
  b.fields[name] = capped.list;
  if (capped.truncated > 0) b.fields[`${name}Truncated`] = capped.truncated;
}

/** BatchGetItem: IAM checks dynamodb:BatchGetItem on every table in RequestItems. */
function batchGet(op: string, body: Record<string, unknown>, b: Builder): void {
  const reads: { [key: string]: Json } = {};
  for (const [name, req] of Object.entries(nonEmptyObject(body.RequestItems, 'RequestItems'))) {
    const t = b.table(name, 'RequestItems key');
    if (!isObject(req)) throw new ShapeError('RequestItems values must be objects');
    const keys = nonEmptyList(req.Keys, 'Keys');
    b.add(`dynamodb:${op}`, t.arn, t.shown);
    for (const k of keys) b.item(t.arn, k);
    const capped = capList(keys.map(renderKey));
    const entry: { [key: string]: Json } = { count: keys.length, keys: capped.list };
    if (capped.truncated > 0) entry.truncated = capped.truncated;
    if (typeof req.ProjectionExpression === 'string') entry.projectionExpression = req.ProjectionExpression;
    reads[t.shown] = entry;
  }
  b.fields.reads = reads;
}

/** BatchWriteItem: IAM checks only dynamodb:BatchWriteItem, per table; puts/deletes go to the summary. */
function batchWrite(op: string, body: Record<string, unknown>, b: Builder): void {
  const writes: { [key: string]: Json } = {};
  for (const [name, reqs] of Object.entries(nonEmptyObject(body.RequestItems, 'RequestItems'))) {
    const t = b.table(name, 'RequestItems key');
    const puts: Json[] = [];
    const deletes: Json[] = [];
    for (const req of nonEmptyList(reqs, `RequestItems.${name}`)) {
      const kinds = Object.keys(req);
      const put = req.PutRequest;
      const del = req.DeleteRequest;
      if (kinds.length !== 1)
        throw new ShapeError('each write request needs exactly one of PutRequest/DeleteRequest');
      if (isObject(put) && isObject(put.Item)) {
        puts.push(renderItem(put.Item));
        b.unkeyed = true;
      } else if (isObject(del) && isObject(del.Key)) {
        deletes.push(renderKey(del.Key));
        b.item(t.arn, del.Key);
      } else throw new ShapeError('unrecognized write request');
    }
    b.add(`dynamodb:${op}`, t.arn, t.shown);
    const p = capList(puts);
    const d = capList(deletes);
    const entry: { [key: string]: Json } = {
      puts: puts.length,
      deletes: deletes.length,
      items: p.list,
      keys: d.list,
    };
    if (p.truncated + d.truncated > 0) entry.truncated = p.truncated + d.truncated;
    writes[t.shown] = entry;
  }
  b.fields.writes = writes;
}

/**
 * TransactGetItems / TransactWriteItems are not IAM actions: each entry is
 * authorized as its own item action (ConditionCheck → ConditionCheckItem).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
 */
function transact(allowed: readonly string[], body: Record<string, unknown>, b: Builder): void {
  const entries = nonEmptyList(body.TransactItems, 'TransactItems');
  const perTable: { [key: string]: { [key: string]: Json } } = {};
  const items: Json[] = [];
  for (const entry of entries) {
    const kinds = Object.keys(entry);
    const kind = kinds[0];
    const action = kind === undefined ? undefined : TRANSACT_ACTIONS[kind];
    const inner = kind === undefined ? undefined : entry[kind];
    if (kinds.length !== 1 || kind === undefined || action === undefined || !allowed.includes(kind)) {
      throw new ShapeError(`each entry needs exactly one of ${allowed.join('/')}`);
    }
    if (!isObject(inner)) throw new ShapeError(`${kind} must be an object`);
    const t = b.table(inner.TableName);
    b.add(action, t.arn, t.shown);
    b.item(t.arn, kind === 'Put' ? undefined : inner.Key);
    const counts = perTable[t.shown] ?? {};
    counts[kind] = (typeof counts[kind] === 'number' ? counts[kind] : 0) + 1;
    perTable[t.shown] = counts;
    items.push({ op: kind, table: t.shown, ...itemFields(inner) });
  }
  b.fields.perTable = perTable;
  putList(b, 'items', items);
}

/** PartiQL: the verb decides the action, on the table or (for a SELECT from an index) the index. */
function partiql(statements: readonly Record<string, unknown>[], b: Builder): void {
  b.unkeyed = true;
  const shown: Json[] = [];
  for (const s of statements) {
    if (typeof s.Statement !== 'string') throw new ShapeError('Statement must be a string');
    const target = parsePartiql(s.Statement);
    const t = b.table(target.table, 'PartiQL table');
    const resource = target.index === undefined ? t.arn : b.index(t, target.index);
    b.add(PARTIQL_ACTIONS[target.verb], resource, t.shown);
    const entry: { [key: string]: Json } = { statement: redactPartiql(s.Statement) };
    if (target.index !== undefined) entry.index = target.index;
    if (Array.isArray(s.Parameters)) {
      // Positional parameters have no names to judge, so only the size rule applies.
      entry.parameters = capList(s.Parameters).list.map((p) => redactValue([], p));
    }
    shown.push(entry);
  }
  putList(b, 'statements', shown);
}

/** GetRecords carries only a ShardIterator, which starts with the stream ARN followed by `|`. */
function streamArn(body: Record<string, unknown>): unknown {
  if (body.StreamArn !== undefined) return body.StreamArn;
  return typeof body.ShardIterator === 'string' ? body.ShardIterator.split('|')[0] : undefined;
}

const KEYED: ReadonlySet<string> = new Set(['GetItem', 'UpdateItem', 'DeleteItem']);

type Handler = (op: string, body: Record<string, unknown>, b: Builder) => void;

const single =
  (resolve: (body: Record<string, unknown>, b: Builder) => Resolved): Handler =>
  (op, body, b) => {
    const r = resolve(body, b);
    b.add(`dynamodb:${op}`, r.arn, r.shown);
  };

const HANDLERS: Readonly<Record<ResourceKind, Handler>> = {
  none: (op, _body, b) => b.add(`dynamodb:${op}`, '*'),
  table: (op, body, b) => {
    const t = b.table(body.TableName);
    b.add(`dynamodb:${op}`, t.arn, t.shown);
    Object.assign(b.fields, itemFields(body));
    // GetItem, UpdateItem, DeleteItem name their item by Key; PutItem sends a whole item.
    b.item(t.arn, KEYED.has(op) ? body.Key : undefined);
  },
  tableOrIndex: (op, body, b) => {
    b.unkeyed = true;
    const t = b.table(body.TableName);
    // IAM authorizes a Query/Scan on an index against the index ARN only.
    if (body.IndexName !== undefined) {
      b.add(`dynamodb:${op}`, b.index(t, body.IndexName), t.shown);
      b.fields.index = String(body.IndexName);
    } else b.add(`dynamodb:${op}`, t.arn, t.shown);
    Object.assign(b.fields, itemFields(body));
  },
  tableArn: single((body, b) => b.table(body.TableArn, 'TableArn', true)),
  resourceArn: single((body, b) =>
    typeof body.ResourceArn === 'string' && STREAM_ARN.test(body.ResourceArn)
      ? b.sub(body.ResourceArn, STREAM_ARN, 'ResourceArn')
      : b.table(body.ResourceArn, 'ResourceArn', true),
  ),
  backupArn: single((body, b) => b.sub(body.BackupArn, BACKUP_ARN, 'BackupArn')),
  exportArn: single((body, b) => b.sub(body.ExportArn, EXPORT_ARN, 'ExportArn')),
  importArn: single((body, b) => b.sub(body.ImportArn, IMPORT_ARN, 'ImportArn')),
  streamArn: single((body, b) => b.sub(streamArn(body), STREAM_ARN, 'StreamArn')),
  globalTable: single((body, b) => b.globalTable(body.GlobalTableName)),
  importTable: single((body, b) =>
    b.table(isObject(body.TableCreationParameters) ? body.TableCreationParameters.TableName : undefined),
  ),
  // Restores are authorized on the source (backup or table) and on the target table.
  restoreFromBackup: (op, body, b) => {
    single((bd, bb) => bb.sub(bd.BackupArn, BACKUP_ARN, 'BackupArn'))(op, body, b);
    single((bd, bb) => bb.table(bd.TargetTableName, 'TargetTableName'))(op, body, b);
  },
  restoreToPointInTime: (op, body, b) => {
    single((bd, bb) =>
      bd.SourceTableArn !== undefined
        ? bb.table(bd.SourceTableArn, 'SourceTableArn', true)
        : bb.table(bd.SourceTableName, 'SourceTableName'),
    )(op, body, b);
    single((bd, bb) => bb.table(bd.TargetTableName, 'TargetTableName'))(op, body, b);
  },
  batchGet,
  batchWrite,
  transactGet: (_op, body, b) => transact(['Get'], body, b),
  transactWrite: (_op, body, b) => transact(['Put', 'Update', 'Delete', 'ConditionCheck'], body, b),
  partiqlOne: (_op, body, b) => partiql([body], b),
  partiqlBatch: (_op, body, b) => partiql(nonEmptyList(body.Statements, 'Statements'), b),
  partiqlTransaction: (_op, body, b) =>
    partiql(nonEmptyList(body.TransactStatements, 'TransactStatements'), b),
};

/** The broadest scope: only a policy that names `dynamodb:*` on everything can match it. */
function unknown(operation: string, ctx: ExtractContext, why: string): Extraction {
  const resource = `arn:${partition(ctx.region)}:dynamodb:${ctx.region}:${ctx.accountId}:*`;
  return {
    operation,
    scopes: [{ action: 'dynamodb:*', resource }],
    summary: { operation, tables: [], unknown: why },
    known: false,
  };
}

/**
 * @param target the X-Amz-Target header, e.g. `DynamoDB_20120810.PutItem`
 * @param body the parsed JSON body
 * @throws ExtractionError when the target or body is malformed (AWS rejects those too)
 */
export function extractDynamoDb(target: string | undefined, body: unknown, ctx: ExtractContext): Extraction {
  if (target === undefined || target === '') {
    throw new ExtractionError('UnknownOperationException', 'Missing X-Amz-Target header');
  }
  const m = TARGET.exec(target);
  const prefix = m?.[1];
  const operation = m?.[2];
  if (prefix === undefined || operation === undefined) {
    throw new ExtractionError(
      'UnknownOperationException',
      `Unrecognized X-Amz-Target: ${target.slice(0, 100)}`,
    );
  }
  if (!isObject(body)) throw new ExtractionError('ValidationException', 'Request body must be a JSON object');
  const ops = prefix === 'DynamoDB_20120810' ? DYNAMODB_OPERATIONS : STREAMS_OPERATIONS;
  const spec: OperationSpec | undefined = ops.get(operation);
  if (spec === undefined) return unknown(operation, ctx, `operation ${operation} is not known to Airlock`);
  const b = new Builder(ctx);
  try {
    HANDLERS[spec.kind](operation, body, b);
  } catch (err) {
    if (err instanceof ShapeError || err instanceof PartiqlParseError)
      return unknown(operation, ctx, err.message);
    throw err;
  }
  const tables = capList(b.tables);
  const summary: { [key: string]: Json } = { operation, tables: tables.list, ...b.fields };
  if (tables.truncated > 0) summary.tablesTruncated = tables.truncated;
  const items = b.unkeyed || b.items.length === 0 ? undefined : b.items;
  return { operation, scopes: b.scopes, summary, known: true, ...(items === undefined ? {} : { items }) };
}
