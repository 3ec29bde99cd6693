import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  dynamoDbActionClass,
  ExtractionError,
  extractDynamoDb,
} from '../../src/fronts/aws/services/dynamodb.js';

const ctx = { region: 'us-east-1', accountId: '123456789012' };
const T = (name: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${name}`;
const x = (op: string, body: unknown) => extractDynamoDb(`DynamoDB_20120810.${op}`, body, ctx);
const UNKNOWN = [{ action: 'dynamodb:*', resource: 'arn:aws:dynamodb:us-east-1:123456789012:*' }];

describe('extractDynamoDb: single-table operations', () => {
  it('GetItem → one scope on the table, key shown', () => {
    const e = x('GetItem', { TableName: 'orders', Key: { pk: { S: 'o-1' }, sk: { N: '7' } } });
    assert.equal(e.known, true);
    assert.equal(e.operation, 'GetItem');
    assert.deepEqual(e.scopes, [{ action: 'dynamodb:GetItem', resource: T('orders') }]);
    assert.deepEqual(e.summary.tables, ['orders']);
    assert.deepEqual(e.summary.key, { pk: 'o-1', sk: 7 });
  });

  it('accepts a table ARN in TableName verbatim, even for another account/region', () => {
    const arn = 'arn:aws:dynamodb:eu-west-1:999999999999:table/other';
    const e = x('DeleteItem', { TableName: arn, Key: { pk: { S: 'a' } } });
    assert.deepEqual(e.scopes, [{ action: 'dynamodb:DeleteItem', resource: arn }]);
  });

  it('Query on an index → the index ARN only, index noted', () => {
    const e = x('Query', {
      TableName: 'orders',
      IndexName: 'byCustomer',
      KeyConditionExpression: 'c = :c',
      ExpressionAttributeValues: { ':c': { S: 'cust-1' } },
    });
    assert.deepEqual(e.scopes, [{ action: 'dynamodb:Query', resource: `${T('orders')}/index/byCustomer` }]);
    assert.equal(e.summary.index, 'byCustomer');
    assert.equal(e.summary.keyConditionExpression, 'c = :c');
    assert.deepEqual(e.summary.expressionAttributeValues, { ':c': 'cust-1' });
  });

  it('admin and table ops map one-to-one', () => {
    for (const op of [
      'DescribeTable',
      'CreateTable',
      'DeleteTable',
      'UpdateTable',
      'UpdateTimeToLive',
      'CreateBackup',
    ]) {
      assert.deepEqual(x(op, { TableName: 'orders' }).scopes, [
        { action: `dynamodb:${op}`, resource: T('orders') },
      ]);
    }
    assert.deepEqual(x('TagResource', { ResourceArn: T('orders'), Tags: [] }).scopes, [
      { action: 'dynamodb:TagResource', resource: T('orders') },
    ]);
  });

  it('list operations → resource *', () => {
    for (const op of [
      'ListTables',
      'ListBackups',
      'ListExports',
      'ListGlobalTables',
      'DescribeLimits',
      'DescribeEndpoints',
    ]) {
      assert.deepEqual(x(op, {}).scopes, [{ action: `dynamodb:${op}`, resource: '*' }]);
    }
  });

  it('backups, exports, global tables, streams', () => {
    const backup = `${T('orders')}/backup/01489173575360-b308cd7d`;
    assert.deepEqual(x('DescribeBackup', { BackupArn: backup }).scopes, [
      { action: 'dynamodb:DescribeBackup', resource: backup },
    ]);
    assert.deepEqual(x('RestoreTableFromBackup', { BackupArn: backup, TargetTableName: 'orders2' }).scopes, [
      { action: 'dynamodb:RestoreTableFromBackup', resource: backup },
      { action: 'dynamodb:RestoreTableFromBackup', resource: T('orders2') },
    ]);
    assert.deepEqual(x('ExportTableToPointInTime', { TableArn: T('orders'), S3Bucket: 'b' }).scopes, [
      { action: 'dynamodb:ExportTableToPointInTime', resource: T('orders') },
    ]);
    const exp = `${T('orders')}/export/01234567890123-abcdef`;
    assert.deepEqual(x('DescribeExport', { ExportArn: exp }).scopes, [
      { action: 'dynamodb:DescribeExport', resource: exp },
    ]);
    assert.deepEqual(x('DescribeGlobalTable', { GlobalTableName: 'orders' }).scopes, [
      {
        action: 'dynamodb:DescribeGlobalTable',
        resource: 'arn:aws:dynamodb::123456789012:global-table/orders',
      },
    ]);
    const stream = `${T('orders')}/stream/2015-05-20T20:51:10.252`;
    const s = (op: string, body: unknown) => extractDynamoDb(`DynamoDBStreams_20120810.${op}`, body, ctx);
    assert.deepEqual(s('DescribeStream', { StreamArn: stream }).scopes, [
      { action: 'dynamodb:DescribeStream', resource: stream },
    ]);
    assert.deepEqual(s('GetRecords', { ShardIterator: `${stream}|1|AAAA` }).scopes, [
      { action: 'dynamodb:GetRecords', resource: stream },
    ]);
    assert.deepEqual(s('ListStreams', {}).scopes, [{ action: 'dynamodb:ListStreams', resource: '*' }]);
    assert.equal(s('PutItem', { TableName: 'orders' }).known, false);
  });
});

describe('extractDynamoDb: batch and transactions', () => {
  it('BatchGetItem → BatchGetItem on every table, ARN keys too', () => {
    const arn = T('customers');
    const e = x('BatchGetItem', {
      RequestItems: {
        orders: { Keys: [{ pk: { S: 'a' } }, { pk: { S: 'b' } }] },
        [arn]: { Keys: [{ id: { N: '1' } }] },
      },
    });
    assert.deepEqual(e.scopes, [
      { action: 'dynamodb:BatchGetItem', resource: T('orders') },
      { action: 'dynamodb:BatchGetItem', resource: arn },
    ]);
    assert.deepEqual(e.summary.tables, ['orders', arn]);
  });

  it('BatchWriteItem → only BatchWriteItem, puts/deletes counted per table', () => {
    const e = x('BatchWriteItem', {
      RequestItems: {
        orders: [
          { PutRequest: { Item: { pk: { S: 'a' } } } },
          { DeleteRequest: { Key: { pk: { S: 'b' } } } },
        ],
        audit: [{ PutRequest: { Item: { id: { S: 'x' } } } }],
      },
    });
    assert.deepEqual(e.scopes, [
      { action: 'dynamodb:BatchWriteItem', resource: T('orders') },
      { action: 'dynamodb:BatchWriteItem', resource: T('audit') },
    ]);
    const writes = e.summary.writes as Record<string, { puts: number; deletes: number; keys: unknown[] }>;
    assert.equal(writes.orders?.puts, 1);
    assert.equal(writes.orders?.deletes, 1);
    assert.deepEqual(writes.orders?.keys, [{ pk: 'b' }]);
    assert.equal(writes.audit?.puts, 1);
  });

  it('caps long lists with a truncated count', () => {
    const Keys = Array.from({ length: 30 }, (_, i) => ({ pk: { S: `k${i}` } }));
    const e = x('BatchGetItem', { RequestItems: { orders: { Keys } } });
    const reads = e.summary.reads as Record<string, { count: number; keys: unknown[]; truncated: number }>;
    assert.equal(reads.orders?.count, 30);
    assert.equal(reads.orders?.keys.length, 25);
    assert.equal(reads.orders?.truncated, 5);
  });

  it('TransactWriteItems → per-entry item actions on each table', () => {
    const e = x('TransactWriteItems', {
      TransactItems: [
        { Put: { TableName: 'orders', Item: { pk: { S: 'a' } } } },
        { Update: { TableName: 'stock', Key: { sku: { S: 's1' } }, UpdateExpression: 'SET q = q - :one' } },
        { Delete: { TableName: 'carts', Key: { id: { S: 'c1' } } } },
        {
          ConditionCheck: {
            TableName: 'users',
            Key: { id: { S: 'u1' } },
            ConditionExpression: 'attribute_exists(id)',
          },
        },
        { Put: { TableName: 'orders', Item: { pk: { S: 'b' } } } },
      ],
    });
    assert.deepEqual(e.scopes, [
      { action: 'dynamodb:PutItem', resource: T('orders') },
      { action: 'dynamodb:UpdateItem', resource: T('stock') },
      { action: 'dynamodb:DeleteItem', resource: T('carts') },
      { action: 'dynamodb:ConditionCheckItem', resource: T('users') },
    ]);
    assert.deepEqual(e.summary.tables, ['orders', 'stock', 'carts', 'users']);
    assert.deepEqual((e.summary.perTable as Record<string, unknown>).orders, { Put: 2 });
  });

  it('TransactGetItems → GetItem per table', () => {
    const e = x('TransactGetItems', {
      TransactItems: [
        { Get: { TableName: 'a_t', Key: { k: { S: '1' } } } },
        { Get: { TableName: 'b_t', Key: { k: { S: '2' } } } },
      ],
    });
    assert.deepEqual(e.scopes, [
      { action: 'dynamodb:GetItem', resource: T('a_t') },
      { action: 'dynamodb:GetItem', resource: T('b_t') },
    ]);
  });

  it('a transact entry with zero or two kinds is an unknown shape', () => {
    for (const entry of [
      {},
      { Put: { TableName: 'aaa', Item: {} }, Delete: { TableName: 'aaa', Key: {} } },
      { Get: { TableName: 'aaa' } },
    ]) {
      const e = x('TransactWriteItems', { TransactItems: [entry] });
      assert.equal(e.known, false);
      assert.deepEqual(e.scopes, UNKNOWN);
    }
  });
});

describe('extractDynamoDb: PartiQL', () => {
  it('ExecuteStatement → PartiQL action on the table, index for index selects', () => {
    assert.deepEqual(x('ExecuteStatement', { Statement: `DELETE FROM "orders" WHERE pk = 'a'` }).scopes, [
      { action: 'dynamodb:PartiQLDelete', resource: T('orders') },
    ]);
    assert.deepEqual(x('ExecuteStatement', { Statement: 'SELECT * FROM "orders"."byCustomer"' }).scopes, [
      { action: 'dynamodb:PartiQLSelect', resource: `${T('orders')}/index/byCustomer` },
    ]);
  });

  it('BatchExecuteStatement covers every table', () => {
    const b = x('BatchExecuteStatement', {
      Statements: [
        { Statement: `INSERT INTO "orders" VALUE {'pk': ?}`, Parameters: [{ S: 'a' }] },
        { Statement: `update "stock-v2" set x = 1 where pk = 'b'` },
        { Statement: `select * from Orders.gsi_1 where c = 'FROM "x"'` },
      ],
    });
    assert.equal(b.known, true);
    assert.deepEqual(b.scopes, [
      { action: 'dynamodb:PartiQLInsert', resource: T('orders') },
      { action: 'dynamodb:PartiQLUpdate', resource: T('stock-v2') },
      { action: 'dynamodb:PartiQLSelect', resource: `${T('Orders')}/index/gsi_1` },
    ]);
    assert.deepEqual(b.summary.tables, ['orders', 'stock-v2', 'Orders']);
    // An escaped quote parses, but `my"table` is not a valid DynamoDB table name.
    assert.equal(x('ExecuteStatement', { Statement: 'SELECT * FROM "my""table"' }).known, false);
  });

  it('ExecuteTransaction with several tables', () => {
    const e = x('ExecuteTransaction', {
      TransactStatements: [
        { Statement: `UPDATE stock SET q = q - 1 WHERE sku = 'it''s FROM x'` },
        { Statement: `/* c */ insert into "orders" value {'pk': 'a'}` },
        { Statement: `EXISTS(SELECT * FROM users WHERE id = 'u1')` },
      ],
    });
    assert.equal(e.known, true);
    assert.deepEqual(e.scopes, [
      { action: 'dynamodb:PartiQLUpdate', resource: T('stock') },
      { action: 'dynamodb:PartiQLInsert', resource: T('orders') },
      { action: 'dynamodb:PartiQLSelect', resource: T('users') },
    ]);
    assert.equal((e.summary.statements as unknown[]).length, 3);
  });

  it('an unparseable or multi-statement PartiQL makes the whole request unknown', () => {
    for (const Statement of ['SELECT * FROM a; DELETE FROM b', 'DROP TABLE x']) {
      const e = x('BatchExecuteStatement', {
        Statements: [{ Statement: 'SELECT * FROM okay' }, { Statement }],
      });
      assert.equal(e.known, false);
      assert.deepEqual(e.scopes, UNKNOWN);
    }
  });
});

describe('extractDynamoDb: unknown and malformed', () => {
  it('unknown operation with a valid prefix → known:false, broadest scope', () => {
    const e = x('FrobnicateTable', { TableName: 'orders' });
    assert.equal(e.known, false);
    assert.equal(e.operation, 'FrobnicateTable');
    assert.deepEqual(e.scopes, UNKNOWN);
  });

  it('unknown shapes → known:false', () => {
    for (const [op, body] of [
      ['GetItem', {}],
      ['GetItem', { TableName: 42 }],
      ['PutItem', { TableName: 'orders', Item: 'x' }],
      ['Query', { TableName: 'orders', KeyConditionExpression: 1 }],
      ['BatchWriteItem', { RequestItems: {} }],
      ['BatchWriteItem', { RequestItems: { orders: [{ PutRequest: {} }] } }],
      ['TagResource', { ResourceArn: 'orders' }],
      ['ExecuteStatement', {}],
    ] as const) {
      assert.equal(x(op, body).known, false, `${op} ${JSON.stringify(body)}`);
    }
  });

  it('invalid table names → known:false', () => {
    for (const TableName of [
      'ab',
      'a'.repeat(256),
      'bad name',
      'semi;colon',
      'arn:aws:s3:::bucket',
      'my"table',
    ]) {
      assert.deepEqual(x('GetItem', { TableName, Key: {} }).scopes, UNKNOWN, TableName);
    }
  });

  it('malformed target or body throws ExtractionError with the AWS code', () => {
    for (const target of [
      undefined,
      '',
      'PutItem',
      'DynamoDB_20120810.',
      'Other_1.PutItem',
      'DynamoDB_20120810.Put-Item',
    ]) {
      assert.throws(
        () => extractDynamoDb(target, {}, ctx),
        (err: unknown) => err instanceof ExtractionError && err.code === 'UnknownOperationException',
      );
    }
    for (const body of [null, [], 'str', 3]) {
      assert.throws(
        () => x('GetItem', body),
        (err: unknown) => err instanceof ExtractionError && err.code === 'ValidationException',
      );
    }
  });
});

describe('extractDynamoDb: redaction', () => {
  it('hides secret-named and large values, shows short ones', () => {
    const e = x('PutItem', {
      TableName: 'users',
      Item: {
        id: { S: 'u1' },
        password: { S: 'hunter2' },
        apiKey: { S: 'k' },
        bio: { S: 'b'.repeat(200) },
        blob: { B: Buffer.from('hello').toString('base64') },
        prefs: { M: { theme: { S: 'dark' }, secretQ: { S: 'x' } } },
      },
    });
    const item = e.summary.item as Record<string, unknown>;
    assert.equal(item.id, 'u1');
    assert.equal(item.password, '[redacted]');
    assert.equal(item.apiKey, '[redacted]');
    assert.match(String(item.bio), /^\[\d+ bytes\]$/);
    assert.equal(item.blob, '[5 bytes]');
    assert.deepEqual(item.prefs, { theme: 'dark', secretQ: '[redacted]' });
    assert.ok(!JSON.stringify(e.summary).includes('hunter2'));
  });

  it('redacts placeholders by their name and by the attribute they are assigned to', () => {
    const e = x('UpdateItem', {
      TableName: 'users',
      Key: { id: { S: 'x'.repeat(100) }, card_number: { S: '4111' } },
      UpdateExpression: 'SET #p = :v, nick = :n, :t2 = :tok',
      ExpressionAttributeNames: { '#p': 'Password' },
      ExpressionAttributeValues: { ':v': { S: 'hunter2' }, ':n': { S: 'bob' }, ':token': { S: 'abc' } },
    });
    const vals = e.summary.expressionAttributeValues as Record<string, unknown>;
    assert.equal(vals[':v'], '[redacted]');
    assert.equal(vals[':n'], 'bob');
    assert.equal(vals[':token'], '[redacted]');
    const key = e.summary.key as Record<string, unknown>;
    assert.equal(key.id, `${'x'.repeat(64)}…`);
    assert.equal(key.card_number, '[redacted]');
    assert.deepEqual(e.summary.expressionAttributeNames, { '#p': 'Password' });
  });

  it('redacts legacy AttributeUpdates values and PartiQL literals', () => {
    const e = x('UpdateItem', {
      TableName: 'users',
      Key: { id: { S: 'u' } },
      AttributeUpdates: { secret: { Value: { S: 'zzz' }, Action: 'PUT' } },
    });
    assert.deepEqual(e.summary.attributeUpdates, { secret: { value: '[redacted]', Action: 'PUT' } });
    const p = x('ExecuteStatement', { Statement: `UPDATE users SET password = 'hunter2' WHERE id = 'u'` });
    assert.ok(!JSON.stringify(p.summary).includes('hunter2'));
  });

  it('summary is JSON-safe', () => {
    const e = x('Scan', {
      TableName: 'orders',
      FilterExpression: 'a > :a',
      ExpressionAttributeValues: { ':a': { N: '1' } },
    });
    assert.deepEqual(JSON.parse(JSON.stringify(e.summary)), e.summary);
  });
});

describe('dynamoDbActionClass', () => {
  it('classifies actions', () => {
    const cases: [string, string][] = [
      ['dynamodb:GetItem', 'read'],
      ['dynamodb:BatchGetItem', 'read'],
      ['dynamodb:Query', 'read'],
      ['dynamodb:Scan', 'read'],
      ['dynamodb:DescribeTable', 'read'],
      ['dynamodb:ListTables', 'read'],
      ['dynamodb:PartiQLSelect', 'read'],
      ['dynamodb:ConditionCheckItem', 'read'],
      ['dynamodb:GetRecords', 'read'],
      ['dynamodb:GetShardIterator', 'read'],
      ['dynamodb:PutItem', 'write'],
      ['dynamodb:UpdateItem', 'write'],
      ['dynamodb:DeleteItem', 'write'],
      ['dynamodb:BatchWriteItem', 'write'],
      ['dynamodb:PartiQLInsert', 'write'],
      ['dynamodb:PartiQLUpdate', 'write'],
      ['dynamodb:PartiQLDelete', 'write'],
      ['dynamodb:CreateTable', 'admin'],
      ['dynamodb:DeleteTable', 'admin'],
      ['dynamodb:UpdateTable', 'admin'],
      ['dynamodb:CreateBackup', 'admin'],
      ['dynamodb:RestoreTableFromBackup', 'admin'],
      ['dynamodb:ExportTableToPointInTime', 'admin'],
      ['dynamodb:UpdateTimeToLive', 'admin'],
      ['dynamodb:TagResource', 'admin'],
      ['dynamodb:CreateGlobalTable', 'admin'],
      ['dynamodb:*', 'unknown'],
      ['dynamodb:Frobnicate', 'unknown'],
      ['dynamodb:TransactWriteItems', 'unknown'],
      ['s3:GetObject', 'unknown'],
    ];
    for (const [action, cls] of cases) assert.equal(dynamoDbActionClass(action), cls, action);
  });
});
