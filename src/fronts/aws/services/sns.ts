/**
 * Amazon SNS (awsQuery). Publish names a topic, an endpoint (TargetArn) or a phone
 * number (no resource: `*`); a subscription is authorized against its topic.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html
 */
import { op, type RpcService, ref } from './rpc-table.js';

const topic = [ref('TopicArn', 'snsTopicArn')];

export const SNS: RpcService = {
  signingName: 'sns',
  iamPrefix: 'sns',
  targetPrefix: undefined,
  operations: new Map([
    [
      'Publish',
      {
        cls: 'write',
        resources: [ref('TopicArn', 'snsTopicArn'), ref('TargetArn', 'snsTargetArn')],
        oneOf: true,
      },
    ],
    ['PublishBatch', op('write', topic, 'Publish')],
    ['GetTopicAttributes', op('read', topic)],
    ['ListSubscriptionsByTopic', op('read', topic)],
    ['ListTopics', op('read')],
    ['ListSubscriptions', op('read')],
    ['ListTagsForResource', op('read', [ref('ResourceArn', 'snsTopicArn')])],
    ['CreateTopic', op('admin', [ref('Name', 'snsTopicName')])],
    ['DeleteTopic', op('admin', topic)],
    ['SetTopicAttributes', op('admin', topic)],
    ['Subscribe', op('admin', topic)],
    ['ConfirmSubscription', op('admin', topic)],
    ['Unsubscribe', op('admin', [ref('SubscriptionArn', 'snsSubscriptionArn')])],
    ['TagResource', op('admin', [ref('ResourceArn', 'snsTopicArn')])],
    ['UntagResource', op('admin', [ref('ResourceArn', 'snsTopicArn')])],
  ]),
};
