/**
 * One MCP request that reaches an upstream's tool, prompt or resource, on the path every
 * front takes: AccessRequest → gate (policy / grant / hold) → intent recorded durably
 * (or refused: nothing unrecorded is forwarded) → upstream → outcome recorded. Refusals
 * are recorded once, after the answer. Protocol rendering is left to the caller.
 */
import { AccessPath, type RowFacts } from '../../access/path.js';
import type { Recorder } from '../../access/recorder.js';
import type { Gate, GateResult } from '../../approvals/gate.js';
import { newId } from '../../core/ids.js';
import type { AccessRequest, ActionRecord, McpResultDetail, Scope } from '../../core/types.js';
import type { McpTargetKind } from './actions.js';
import { argsHash, canonicalJson, policyArgs, redactArgs } from './args.js';

export interface CallIdentity {
  readonly agent: string;
  readonly server: string;
  readonly sourceIp: string;
}

export interface GatedCall {
  readonly method: 'tools/call' | 'prompts/get' | 'resources/read';
  readonly kind: McpTargetKind;
  readonly action: string;
  readonly resource: string;
  /** Tool or prompt name, or resource URI. */
  readonly target: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly reason: string | undefined;
}

export type CallResult<T> =
  | { readonly kind: 'result'; readonly result: T; readonly requestId: string }
  | {
      readonly kind: 'refused';
      readonly requestId: string;
      /**
       * The gate's refusal; 'unrecorded' when the intent could not be made durable;
       * 'definition-changed' when the tool no longer matches its pin (pins.ts).
       */
      readonly refusal: Extract<GateResult, { kind: 'deny' }>['deny'] | 'unrecorded' | 'definition-changed';
      readonly message: string;
      readonly approvalId: string | undefined;
    };

/** What the caller reports about the upstream's answer for the record. */
export type Describe<T> = (result: T) => McpResultDetail;

export class CallPath {
  private readonly path: AccessPath;

  constructor(gate: Gate, recorder: Recorder) {
    this.path = new AccessPath(gate, recorder);
  }

  /** Refuses a call before it reaches the gate (a changed tool definition), and records it. */
  refuse(
    who: CallIdentity,
    call: GatedCall,
    refusal: 'definition-changed',
    message: string,
    reasons: readonly string[],
  ): CallResult<never> {
    const requestId = newId('req');
    const hash = argsHash(call.args);
    const redacted = redactArgs(call.args) as Record<string, unknown>;
    this.path.refuse({
      requestId,
      at: new Date(),
      agent: who.agent,
      front: 'mcp',
      service: 'mcp',
      operation: call.method,
      scopes: [{ action: call.action, resource: call.resource, call: hash }],
      outcome: 'denied',
      policyReasons: reasons,
      upstreamStatus: undefined,
      latencyMs: 0,
      grantId: undefined,
      approvalId: undefined,
      error: message,
      requestHash: hash,
      reason: call.reason,
      mcp: { server: who.server, method: call.method, target: call.target, args: redacted, argsHash: hash },
    });
    return { kind: 'refused', requestId, refusal, message, approvalId: undefined };
  }

  async run<T>(
    who: CallIdentity,
    call: GatedCall,
    forward: (signal: AbortSignal) => Promise<T>,
    describe: Describe<T>,
    signal: AbortSignal,
  ): Promise<CallResult<T>> {
    const requestId = newId('req');
    const started = performance.now();
    const receivedAt = new Date();
    const hash = argsHash(call.args);
    const scopes: Scope[] = [{ action: call.action, resource: call.resource, call: hash }];
    const redacted = redactArgs(call.args) as Record<string, unknown>;
    const access: AccessRequest = {
      id: requestId,
      agent: who.agent,
      front: 'mcp',
      service: 'mcp',
      region: '',
      operation: call.method,
      scopes,
      reason: call.reason,
      sourceIp: who.sourceIp,
      summary: { server: who.server, [call.kind]: call.target, args: redacted },
      receivedAt,
      args: policyArgs(call.args),
    };
    const latency = () => Math.round((performance.now() - started) * 1000) / 1000;
    const row = ({ gate, outcome, error }: RowFacts): ActionRecord => ({
      requestId,
      at: receivedAt,
      agent: who.agent,
      front: 'mcp',
      service: 'mcp',
      operation: call.method,
      scopes,
      outcome,
      policyReasons: gate?.reasons ?? [],
      upstreamStatus: undefined,
      latencyMs: latency(),
      grantId: gate?.kind === 'allow' ? gate.grantId : undefined,
      approvalId: gate?.approvalId,
      error,
      requestHash: hash,
      reason: call.reason,
      mcp: { server: who.server, method: call.method, target: call.target, args: redacted, argsHash: hash },
    });

    // "The same call": server, method, target and the canonical arguments (the gate adds
    // agent, scopes and reason), so an identical retry waits on the approval already open.
    const fingerprint = Buffer.from(canonicalJson([who.server, call.method, call.target, call.args]));
    const entry = await this.path.enter({ access, fingerprint, signal, row, elapsedMs: latency });
    if (entry.kind === 'refused') {
      return {
        kind: 'refused',
        requestId,
        refusal: entry.gate.deny,
        message: entry.gate.message,
        approvalId: entry.gate.approvalId,
      };
    }
    if (entry.kind === 'unrecorded') {
      return {
        kind: 'refused',
        requestId,
        refusal: 'unrecorded',
        message: entry.error.message,
        approvalId: entry.gate.approvalId,
      };
    }
    let answer: T;
    try {
      answer = await forward(signal);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      entry.finish({
        outcome: 'error',
        upstreamStatus: undefined,
        error: `upstream: ${(err as Error).message}`,
        mcp: { resultBytes: 0, isError: false, ...(typeof code === 'number' ? { errorCode: code } : {}) },
      });
      throw err;
    }
    entry.finish({ outcome: undefined, upstreamStatus: undefined, error: undefined, mcp: describe(answer) });
    return { kind: 'result', result: answer, requestId };
  }
}
