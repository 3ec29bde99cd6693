/**
 * Domain types shared by every layer. No I/O here: fronts turn wire data into
 * these at the edge, policy and approvals reason over them, the ledger records them.
 */

/** One (IAM action, resource ARN) pair a request needs. Policy is evaluated per scope. */
export interface Scope {
  /** IAM action, e.g. `dynamodb:PutItem`. */
  readonly action: string;
  /** Resource ARN, e.g. `arn:aws:dynamodb:us-east-1:123456789012:table/orders`. */
  readonly resource: string;
  /**
   * Binds a grant to one exact call (MCP: sha256 of the canonical arguments, docs/MCP.md):
   * policy never sees it; a grant covers a scope only when this matches too, and an
   * approval of such a scope grants one use unless the approver sets max uses.
   */
  readonly call?: string;
}

/** Names a front (src/fronts/NAME): not a closed union, so adding a front changes no shared type. */
export type FrontName = string;

/**
 * A request normalized at the edge. Everything downstream (policy, approvals,
 * ledger) sees only this, never the wire bytes.
 */
export interface AccessRequest {
  /** Airlock's id for this request (also returned to the client as a header). */
  readonly id: string;
  /** The authenticated agent's name. */
  readonly agent: string;
  /** Which front received it. */
  /** The front the request came through: 'aws', 'postgres', … (open: a new front is a new name). */
  readonly front: FrontName;
  /** AWS service signing name, e.g. `dynamodb`. */
  readonly service: string;
  readonly region: string;
  /** Wire operation name, e.g. `PutItem`. */
  readonly operation: string;
  /** Every scope the request touches; never empty for a known operation. */
  readonly scopes: readonly Scope[];
  /** The agent's stated reason (x-airlock-reason), if any. */
  readonly reason: string | undefined;
  readonly sourceIp: string;
  /** Readable, redacted summary of the payload for approvers. */
  readonly summary: PayloadSummary;
  readonly receivedAt: Date;
  /**
   * MCP front: the call's arguments, top-level names to text (strings as they are, other
   * values as canonical JSON), which policy sees as tags of `context.args` (docs/MCP.md).
   */
  readonly args?: Readonly<Record<string, string>>;
  /**
   * The items the request touches, named by key (DynamoDB Key/Keys, S3 object keys); absent
   * when it names none (a Scan, a PutItem's whole item, SQL): what an `items` grant binds.
   */
  readonly items?: readonly ItemRef[];
}

/** One item a request names: its table or bucket, a hash of its key, and the key as shown. */
export interface ItemRef {
  /** The table or object ARN the item belongs to (one of the request's scope resources). */
  readonly resource: string;
  /** sha256 (hex) of the canonical key (DynamoDB: the Key's AttributeValues, names sorted; S3: the object key). */
  readonly key: string;
  /** The key as the approver sees it (redacted like the summary), e.g. `pk=o-2`. */
  readonly shown: string;
}

/** A JSON-safe, redacted description of what the request would do. */
export type PayloadSummary = { readonly [key: string]: unknown };

/** What an approver group must contribute before a held request may pass. */
export interface ApprovalRequirement {
  /** Approver group whose members may decide. */
  readonly group: string;
  /** Distinct approvers of that group needed. */
  readonly quorum: number;
  /** Policy id that asked for it. */
  readonly policyId: string;
}

export interface HoldTerms {
  readonly requirements: readonly ApprovalRequirement[];
  /** Longest grant an approval may become, in seconds. */
  readonly maxGrantSeconds: number;
  /** Whether the request must carry a reason to be held at all. */
  readonly requireReason: boolean;
  /**
   * Review guards the hold policies asked for (strictest of them); absent fields
   * fall back to the config's defaults for the risk tier (approvals/guards.ts).
   */
  readonly guards?: {
    readonly risk?: 'low' | 'medium' | 'high' | 'critical';
    readonly minReviewSeconds?: number;
    /** @min_review("reading"): at least the time to read what the approver is shown. */
    readonly readingTime?: boolean;
    readonly confirmResource?: boolean;
    readonly requireComment?: boolean;
  };
  /**
   * Grant breadth the hold policies set (@grant_default, @grant_widest; narrowest of them; a
   * policy without @grant_widest allows `scope`, except on one exact MCP call, where it allows
   * `exact` only). Absent fields: approvals/breadth.ts breadthTerms (exact by default for high
   * and critical risk and for an MCP call, `scope` otherwise; widest `scope`).
   */
  readonly breadth?: { readonly default?: GrantBreadth; readonly widest?: GrantBreadth };
}

/**
 * How much an approval lets through, chosen by the approver at decision time
 * (approvals/breadth.ts, docs/POLICY.md "Grant breadth"), narrowest first in GRANT_BREADTHS:
 * - `exact`: this one request (bound to its request hash: operation, every scope, the key,
 *   statement or arguments), once. An MCP call's default (docs/MCP.md).
 * - `items`: the operation on these items only (the DynamoDB keys or S3 object keys the
 *   approver was shown: AccessRequest.items), for the grant's time and uses.
 * - `scope`: the operation on the resource (any key, any arguments) for the grant's time and uses.
 */
export type GrantBreadth = 'exact' | 'items' | 'scope';
export const GRANT_BREADTHS: readonly GrantBreadth[] = ['exact', 'items', 'scope'];

/** The decision-quality guards that applied to one decision (recorded with it). */
export interface AppliedGuards {
  readonly risk: 'low' | 'medium' | 'high' | 'critical';
  /** Seconds the detail must have been open to this approver before approving. */
  readonly minReviewSeconds: number;
  /**
   * Present when the hold asked for reading time (@min_review("reading")): the seconds reading
   * what the approver is shown takes (core/reading-time.ts), included in minReviewSeconds.
   */
  readonly readingSeconds?: number;
  /** Approvals need a comment (denials always do). */
  readonly requireComment: boolean;
  /** The text the approver must type back to approve, or undefined when not required. */
  readonly confirmText: string | undefined;
}

/** What policy sees of a request: pure data, no I/O behind it. */
export interface PolicyInput {
  readonly agent: string;
  readonly scopes: readonly Scope[];
  readonly context: {
    readonly reason: string | undefined;
    readonly time: Date;
    readonly sourceIp: string;
    readonly front: AccessRequest['front'];
    readonly service: string;
    readonly operation: string;
    readonly region: string;
    /** A live grant that covers every scope, if the agent holds one. */
    readonly grantId: string | undefined;
    /** MCP front: the call's arguments (AccessRequest.args); absent: none. */
    readonly args?: Readonly<Record<string, string>>;
  };
}

/** Outcome of policy for the whole request (all scopes combined). */
export type PolicyDecision =
  | { readonly effect: 'allow'; readonly reasons: readonly string[] }
  | { readonly effect: 'deny'; readonly reasons: readonly string[]; readonly message: string }
  | { readonly effect: 'hold'; readonly reasons: readonly string[]; readonly terms: HoldTerms };

/** What the gate asks: pure, synchronous policy evaluation (implemented by src/policy/). */
export interface Evaluator {
  evaluate(input: PolicyInput): PolicyDecision;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface Approval {
  readonly id: string;
  readonly requestId: string;
  readonly agent: string;
  readonly service: string;
  readonly operation: string;
  readonly scopes: readonly Scope[];
  readonly reason: string | undefined;
  readonly summary: PayloadSummary;
  readonly policyReasons: readonly string[];
  readonly terms: HoldTerms;
  readonly status: ApprovalStatus;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly decidedAt: Date | undefined;
  readonly grantId: string | undefined;
  /** sha256 (hex) of the held request without its reason (gate.ts requestHash): what an `exact` grant binds. */
  readonly requestHash?: string | undefined;
  /** The items the held request names (AccessRequest.items): what an `items` grant binds. */
  readonly items?: readonly ItemRef[] | undefined;
}

export type Verdict = 'approve' | 'deny';

export interface DecisionRecord {
  readonly approvalId: string;
  readonly approver: string;
  readonly verdict: Verdict;
  readonly comment: string;
  /** Where the decision was made: `cli`, `api`, `console`, `slack`. */
  readonly channel: string;
  /** When this approver was first shown the request's detail (undefined: never shown). */
  readonly shownAt: Date | undefined;
  readonly decidedAt: Date;
  /** Seconds from first shown to decided (undefined when never shown). */
  readonly reviewSeconds?: number | undefined;
  /** Whether the approver had the detail shown before deciding. */
  readonly viewedDetail?: boolean;
  /** The guards that applied to this decision. */
  readonly guards?: AppliedGuards;
  /** Channel `slack`: who clicked, in which workspace, on which message (src/channels/slack/). */
  readonly slack?: SlackDecisionRef;
  /** Approvals: the grant breadth this approver chose (absent: a denial, or recorded before breadth existed). */
  readonly breadth?: GrantBreadth;
}

/** Where in Slack a decision was made: the linked user, the workspace and the message. */
export interface SlackDecisionRef {
  readonly user: string;
  readonly team: string;
  readonly permalink: string | undefined;
}

export interface Grant {
  readonly id: string;
  readonly approvalId: string;
  readonly agent: string;
  readonly scopes: readonly Scope[];
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly maxUses: number | undefined;
  readonly uses: number;
  readonly revokedAt: Date | undefined;
  readonly revokedBy: string | undefined;
  /** Chosen at decision time; absent on grants issued before breadth existed (then: scope). */
  readonly breadth?: GrantBreadth | undefined;
  /** `exact`: the only request (its hash) this grant covers. */
  readonly requestHash?: string | undefined;
  /** `items`: the only items (AccessRequest.items) this grant covers. */
  readonly items?: readonly ItemRef[] | undefined;
  /** What the approver was shown before deciding, e.g. "This approval lets billing-bot run PutItem on orders once, for this exact item". */
  readonly description?: string | undefined;
}

export type ActionOutcome = 'allowed' | 'denied' | 'held' | 'approved' | 'lapsed' | 'error';

/** One request through the gateway, as recorded in the ledger. */
export interface ActionRecord {
  readonly requestId: string;
  /** When Airlock received the request. */
  readonly at: Date;
  /**
   * When it was released upstream: its intent was recorded (Recorder.intent), right before it
   * was forwarded. Absent on refusals, which are never forwarded. The approval's decision time
   * and the outcome's time (`completedAt` once joined) are the other two times of a row
   * (ledger/audit.ts).
   */
  readonly forwardedAt?: Date | undefined;
  readonly agent: string;
  readonly front: FrontName;
  readonly service: string;
  readonly operation: string;
  readonly scopes: readonly Scope[];
  /** The request's own stated reason (also when it ran under an earlier grant); absent: none given. */
  readonly reason?: string | undefined;
  readonly outcome: ActionOutcome;
  readonly policyReasons: readonly string[];
  readonly upstreamStatus: number | undefined;
  readonly latencyMs: number;
  readonly grantId: string | undefined;
  readonly approvalId: string | undefined;
  readonly error: string | undefined;
  /** The scoped STS session the request was signed with, when its resource names a role. */
  readonly awsSession?: AwsSessionRef | undefined;
  /** AWS front: sha256 (hex) of what identifies the request (the body; for S3 the signed request line). */
  readonly requestHash?: string | undefined;
  /** Postgres front only: the statement as executed (see docs/POSTGRES.md, "Recording"). */
  readonly postgres?: PostgresStatementDetail;
  /** MCP front only: the server, method and (redacted) arguments of the call. */
  readonly mcp?: McpCallDetail;
  /**
   * 'intent': written durably before the request was forwarded; what happened upstream
   * follows in its own `action.outcome` entry (ActionResult). Absent: the row is complete
   * (a refusal, which never reaches a resource).
   */
  readonly phase?: 'intent';
}

/**
 * What happened to a forwarded request whose intent is already in the ledger: the
 * upstream's answer, appended after it came (docs/ARCHITECTURE.md, "Store").
 */
export interface ActionResult {
  readonly requestId: string;
  /** When the outcome was known. */
  readonly at: Date;
  readonly agent: string;
  readonly grantId: string | undefined;
  readonly approvalId: string | undefined;
  /** Set when the request failed after it was forwarded ('error'); otherwise the intent's. */
  readonly outcome: ActionOutcome | undefined;
  readonly upstreamStatus: number | undefined;
  /** From receipt to the end of the upstream's answer. */
  readonly latencyMs: number;
  readonly error: string | undefined;
  /** Postgres front only: what the statement did. */
  readonly postgres?: Pick<PostgresStatementDetail, 'commandTags' | 'rows' | 'sqlstate'>;
  /** MCP front only: what the upstream answered. */
  readonly mcp?: McpResultDetail;
}

export interface McpCallDetail {
  /** Upstream server name from the config. */
  readonly server: string;
  /** JSON-RPC method, e.g. `tools/call`. */
  readonly method: string;
  /** Tool or prompt name, or resource URI. */
  readonly target: string;
  /** Arguments with secret-looking values redacted (docs/MCP.md, "Recording"). */
  readonly args: PayloadSummary;
  /** sha256 (hex) of the canonical JSON of the unredacted arguments. */
  readonly argsHash: string;
}

export interface McpResultDetail {
  /** Bytes of the result's JSON. */
  readonly resultBytes: number;
  /** The tool result's isError (false for other methods). */
  readonly isError: boolean;
  /** JSON-RPC error code when the upstream answered with an error. */
  readonly errorCode?: number;
}

export interface PostgresStatementDetail {
  /** Airlock's id for the client connection (`ses_...`). */
  readonly session: string;
  /** Database resource name from the config. */
  readonly database: string;
  readonly sql: string;
  /** Bound parameters as text, redacted, or undefined when not recorded. */
  readonly params: readonly string[] | undefined;
  readonly commandTags: readonly string[] | undefined;
  readonly rows: number | undefined;
  readonly sqlstate: string | undefined;
}

/** Where to find a scoped session in CloudTrail (userIdentity.arn / Username = sessionName). */
export interface AwsSessionRef {
  readonly roleArn: string;
  /** AssumedRoleUser.Arn: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION. */
  readonly sessionArn: string;
  readonly sessionName: string;
  readonly sourceIdentity: string;
  readonly expiresAt: Date;
}

export interface Agent {
  readonly name: string;
  readonly accessKeyId: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | undefined;
}

export interface Approver {
  readonly name: string;
  readonly groups: readonly string[];
  readonly createdAt: Date;
  readonly revokedAt: Date | undefined;
}
