/**
 * Amazon SQS (awsJson1_0 `AmazonSQS.<Op>`, and the older Query protocol).
 * Batch operations are authorized as their single action.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
 */
import { op, type RpcService, ref } from './rpc-table.js';

const url = [ref('QueueUrl', 'sqsQueueUrl')];

export const SQS: RpcService = {
  signingName: 'sqs',
  iamPrefix: 'sqs',
  targetPrefix: 'AmazonSQS',
  operations: new Map([
    ['SendMessage', op('write', url)],
    ['SendMessageBatch', op('write', url, 'SendMessage')],
    ['ReceiveMessage', op('read', url)],
    ['DeleteMessage', op('write', url)],
    ['DeleteMessageBatch', op('write', url, 'DeleteMessage')],
    ['ChangeMessageVisibility', op('write', url)],
    ['ChangeMessageVisibilityBatch', op('write', url, 'ChangeMessageVisibility')],
    ['GetQueueAttributes', op('read', url)],
    ['GetQueueUrl', op('read', [ref('QueueName', 'sqsQueueName')])],
    ['ListQueues', op('read')],
    ['ListQueueTags', op('read', url)],
    ['ListDeadLetterSourceQueues', op('read', url)],
    ['SetQueueAttributes', op('admin', url)],
    ['CreateQueue', op('admin', [ref('QueueName', 'sqsQueueName')])],
    ['DeleteQueue', op('admin', url)],
    ['PurgeQueue', op('admin', url)],
    ['TagQueue', op('admin', url)],
    ['UntagQueue', op('admin', url)],
    ['AddPermission', op('admin', url)],
    ['RemovePermission', op('admin', url)],
  ]),
};
