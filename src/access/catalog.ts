/**
 * What a front contributes to policy: the actions it can produce (the Cedar schema is
 * generated from them, so a misspelled action in a policy file stops the start) and the
 * groups each action belongs to (`dynamodb:write`, `postgres:read`, …). app.ts collects
 * them from its list of fronts; nothing outside a front names its actions.
 */
export interface FrontCatalog {
  readonly front: string;
  /** Every action this front can put in an AccessRequest. */
  actions(): readonly string[];
  /** The groups of one of its actions ([] when it has none). */
  groupsOf(action: string): readonly string[];
  /** Whether an action is this front's (by its prefix). */
  owns(action: string): boolean;
}

/** The groups of `action` from the first catalog that owns it. */
export function actionGroupsFrom(catalogs: readonly FrontCatalog[]): (action: string) => string[] {
  return (action) => [...(catalogs.find((c) => c.owns(action))?.groupsOf(action) ?? [])];
}
