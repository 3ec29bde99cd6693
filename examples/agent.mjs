#!/usr/bin/env node
// A stand-in AI agent: the unmodified AWS SDK v3 pointed at Airlock.
// Usage: node examples/agent.mjs get ID | put ID [REASON] | delete-table
// Reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the Airlock-issued pair), AWS_ENDPOINT_URL.
import { DeleteTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';

const [op, id, reason] = process.argv.slice(2);
const client = new DynamoDBClient({
  region: process.env.AWS_REGION ?? 'us-east-1',
  endpoint: process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566',
  maxAttempts: 1,
  // Held requests wait at the gateway: give the socket longer than the hold window.
  requestHandler: { requestTimeout: 120_000 },
});
// The agent states why: a build-step middleware adds the x-airlock-reason header before signing.
client.middlewareStack.add(
  (next) => async (args) => {
    if (reason) args.request.headers['x-airlock-reason'] = encodeURIComponent(reason);
    return next(args);
  },
  { step: 'build', name: 'airlockReason' },
);
try {
  let out;
  if (op === 'get') out = await client.send(new GetItemCommand({ TableName: 'orders', Key: { id: { S: id } } }));
  else if (op === 'put') {
    console.error('sent; if policy holds it, this waits for an approver…');
    out = await client.send(
      new PutItemCommand({ TableName: 'orders', Item: { id: { S: id }, status: { S: 'restocked' } } }),
    );
  } else if (op === 'delete-table') out = await client.send(new DeleteTableCommand({ TableName: 'orders' }));
  else throw new Error('usage: node examples/agent.mjs get ID | put ID [REASON] | delete-table');
  console.log(JSON.stringify({ ok: true, item: out.Item ?? null, requestId: out.$metadata.requestId }, null, 2));
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: err.name, message: err.message }, null, 2));
  process.exitCode = 1;
}
