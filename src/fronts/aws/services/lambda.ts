/**
 * AWS Lambda (restJson1): the function is in the path. Invoke is authorized as
 * lambda:InvokeFunction on the function ARN (qualified when a Qualifier is given).
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
 */
import { op, type RpcOperation, type RpcService, ref } from './rpc-table.js';

export interface LambdaRoute {
  readonly method: string;
  /** Path pattern; group 1 is the (URL-encoded) function name when the route has one. */
  readonly path: RegExp;
  readonly name: string;
}

export const LAMBDA_ROUTES: readonly LambdaRoute[] = [
  { method: 'POST', path: /^\/2015-03-31\/functions\/([^/]+)\/invocations$/, name: 'Invoke' },
  { method: 'GET', path: /^\/2015-03-31\/functions\/([^/]+)$/, name: 'GetFunction' },
  {
    method: 'GET',
    path: /^\/2015-03-31\/functions\/([^/]+)\/configuration$/,
    name: 'GetFunctionConfiguration',
  },
  { method: 'GET', path: /^\/2015-03-31\/functions\/?$/, name: 'ListFunctions' },
];

const fn = [ref('FunctionName', 'lambdaFunction')];

export const LAMBDA: RpcService = {
  signingName: 'lambda',
  iamPrefix: 'lambda',
  targetPrefix: undefined,
  operations: new Map<string, RpcOperation>([
    ['Invoke', op('write', fn, 'InvokeFunction')],
    ['GetFunction', op('read', fn)],
    ['GetFunctionConfiguration', op('read', fn)],
    ['ListFunctions', op('read')],
  ]),
};
