/** The AWS front's actions for policy: DynamoDB's and every other service's IAM actions. */
import type { FrontCatalog } from '../../access/catalog.js';
import { serviceActionGroups, serviceIamActions } from './service-actions.js';
import { dynamoDbActionClass } from './services/dynamodb.js';
import { dynamoDbIamActions } from './services/dynamodb-operations.js';

export const awsCatalog: FrontCatalog = {
  front: 'aws',
  actions: () => [...dynamoDbIamActions(), ...serviceIamActions()],
  groupsOf(action) {
    const cls = dynamoDbActionClass(action);
    return cls !== 'unknown' ? [`dynamodb:${cls}`] : serviceActionGroups(action);
  },
  // IAM actions are `service:Action`; the other fronts' prefixes are not AWS services.
  owns: (action) => /^[a-z0-9-]+:/.test(action) && !action.startsWith('postgres:'),
};
