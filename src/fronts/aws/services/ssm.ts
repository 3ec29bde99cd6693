/**
 * AWS Systems Manager Parameter Store (awsJson1_1 `AmazonSSM.<Op>`); other SSM
 * operations are unknown to Airlock and refused.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
 */
import { op, type RpcService, ref } from './rpc-table.js';

const name = [ref('Name', 'ssmParameter')];
const names = [ref('Names', 'ssmParameter', { list: true })];

export const SSM: RpcService = {
  signingName: 'ssm',
  iamPrefix: 'ssm',
  targetPrefix: 'AmazonSSM',
  operations: new Map([
    ['GetParameter', op('read', name)],
    ['GetParameters', op('read', names)],
    ['GetParametersByPath', op('read', [ref('Path', 'ssmParameter')])],
    ['GetParameterHistory', op('read', name)],
    ['DescribeParameters', op('read')],
    ['PutParameter', op('write', name)],
    ['LabelParameterVersion', op('write', name)],
    ['UnlabelParameterVersion', op('write', name)],
    ['DeleteParameter', op('write', name)],
    ['DeleteParameters', op('write', names)],
  ]),
};
