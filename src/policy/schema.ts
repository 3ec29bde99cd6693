/**
 * The Cedar schema policies are validated against at load time, generated from
 * the actions Airlock can actually produce. Validation is what turns a typo in an
 * action name (`dynamodb:Putitem`) or a context attribute into a refusal to start:
 * without it a misspelled forbid would silently forbid nothing.
 * https://docs.cedarpolicy.com/schema/human-readable-schema.html
 */

export const NAMESPACE = 'Airlock';

/** Attributes of `context` in every request (see engine.ts for how each is filled). */
export const CONTEXT_TYPE = `{
    reason: String,
    has_reason: Bool,
    time: Long,
    hour_utc: Long,
    weekday_utc: Long,
    source_ip: ipaddr,
    service: String,
    operation: String,
    region: String,
    front: String,
    has_grant: Bool,
    grant_id: String,
    args: Args,
  }`;

export interface ActionCatalog {
  /** Concrete actions, e.g. `dynamodb:PutItem`. */
  readonly actions: readonly string[];
  /** Groups of an action, e.g. `dynamodb:write`; each group is itself an action entity. */
  readonly groupsOf: (action: string) => readonly string[];
}

export function schemaText(catalog: ActionCatalog): string {
  const groups = new Set<string>();
  for (const a of catalog.actions) for (const g of catalog.groupsOf(a)) groups.add(g);
  const lines: string[] = [
    `namespace ${NAMESPACE} {`,
    '  entity Agent = { name: String };',
    '  entity Resource = { arn: String, service: String };',
    // An MCP call's arguments as tags: `context.args.hasTag("repo") && context.args.getTag("repo") == "prod"`.
    // Tags, not a record: Cedar records are closed, and every tool has its own argument names.
    '  entity Args tags String;',
    `  type RequestContext = ${CONTEXT_TYPE};`,
  ];
  for (const g of [...groups].sort()) lines.push(`  action ${quote(g)};`);
  for (const a of [...catalog.actions].sort()) {
    const parents = catalog.groupsOf(a);
    const inClause = parents.length === 0 ? '' : ` in [${parents.map(quote).join(', ')}]`;
    lines.push(
      `  action ${quote(a)}${inClause} appliesTo { principal: Agent, resource: Resource, context: RequestContext };`,
    );
  }
  lines.push('}');
  return lines.join('\n');
}

function quote(s: string): string {
  return JSON.stringify(s);
}
