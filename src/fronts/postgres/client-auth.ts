/**
 * The startup phase with an agent: SSLRequest / GSSENCRequest negotiation,
 * StartupMessage, and SCRAM-SHA-256 with the agent's Airlock secret as password.
 * An explicit step enum drives it; each step accepts exactly one kind of packet.
 * There is no trust mode: every connection proves its agent's secret.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 */
import { randomBytes } from 'node:crypto';
import type { Directory } from '../../access/directory.js';
import { Auth, authRequest, authSasl } from './backend-codec.js';
import {
  decodeSaslInitial,
  decodeStartup,
  type Frame,
  Frontend,
  type StartupPacket,
} from './frontend-codec.js';
import { PgError, SqlState } from './pg-error.js';
import { SCRAM_MECHANISM, ScramError, ScramServer } from './scram-sha-256.js';
import { type ClientStartup, readStartup } from './startup-options.js';

export type AuthStep = 'startup' | 'sasl-initial' | 'sasl-final' | 'done';

export type AuthEvent =
  | { readonly kind: 'reply'; readonly bytes: Buffer }
  | { readonly kind: 'tls'; readonly accept: boolean }
  | { readonly kind: 'cancel'; readonly pid: number; readonly secret: Buffer }
  | {
      readonly kind: 'authenticated';
      readonly agent: string;
      readonly startup: ClientStartup;
      readonly bytes: Buffer;
      readonly minor: number;
    };

export class ClientAuth {
  step: AuthStep = 'startup';
  private scram: ScramServer | undefined;
  private startup: ClientStartup | undefined;
  private agentOk = false;
  private minor = 0;

  constructor(
    private readonly directory: Directory,
    private readonly tlsAvailable: boolean,
    private readonly tlsRequired: boolean,
    private tlsActive: boolean,
  ) {}

  tlsStarted(): void {
    this.tlsActive = true;
  }

  /** Handles one packet of the current step. */
  async onFrame(frame: Frame): Promise<AuthEvent> {
    switch (this.step) {
      case 'startup':
        return this.onStartup(decodeStartup(frame.payload));
      case 'sasl-initial': {
        expectPassword(frame);
        const { mechanism, data } = decodeSaslInitial(frame.payload);
        if (mechanism !== SCRAM_MECHANISM)
          throw new PgError(SqlState.invalidAuthorization, `unsupported SASL mechanism ${mechanism}`, {
            severity: 'FATAL',
          });
        const serverFirst = this.scramOrThrow().first(data.toString('utf8'));
        this.step = 'sasl-final';
        return { kind: 'reply', bytes: authRequest(Auth.saslContinue, Buffer.from(serverFirst)) };
      }
      case 'sasl-final': {
        expectPassword(frame);
        const user = this.startup?.user ?? '';
        let serverFinal: string;
        try {
          serverFinal = this.scramOrThrow().final(frame.payload.toString('utf8'));
        } catch (err) {
          if (err instanceof ScramError && !/password/.test(err.message))
            throw new PgError(SqlState.protocolViolation, err.message, { severity: 'FATAL' });
          throw authFailed(user);
        }
        if (!this.agentOk || this.startup === undefined) throw authFailed(user);
        this.step = 'done';
        return {
          kind: 'authenticated',
          agent: user,
          startup: this.startup,
          minor: this.minor,
          bytes: Buffer.concat([authRequest(Auth.saslFinal, Buffer.from(serverFinal)), authRequest(Auth.ok)]),
        };
      }
      case 'done':
        throw new PgError(SqlState.protocolViolation, 'unexpected message during startup', {
          severity: 'FATAL',
        });
    }
  }

  private async onStartup(p: StartupPacket): Promise<AuthEvent> {
    switch (p.kind) {
      case 'ssl':
        return { kind: 'tls', accept: this.tlsAvailable && !this.tlsActive };
      case 'gssenc':
        return { kind: 'reply', bytes: Buffer.from('N') };
      case 'cancel':
        return { kind: 'cancel', pid: p.pid, secret: p.secret };
      case 'startup': {
        if (this.tlsRequired && !this.tlsActive)
          throw new PgError(
            SqlState.invalidAuthorization,
            'Airlock requires TLS for this database: connect with sslmode=require',
            {
              severity: 'FATAL',
            },
          );
        this.startup = readStartup(p.params);
        this.minor = p.minor;
        const agent = await this.directory.agentByName(this.startup.user);
        // An unknown or revoked agent still runs the whole exchange (against a random
        // secret) and fails at the same step: no user enumeration by timing or message.
        this.agentOk = agent !== undefined;
        const secret = agent?.secret ?? randomBytes(30).toString('base64');
        this.scram = new ScramServer(secret);
        this.step = 'sasl-initial';
        return { kind: 'reply', bytes: authSasl([SCRAM_MECHANISM]) };
      }
    }
  }

  private scramOrThrow(): ScramServer {
    if (this.scram === undefined)
      throw new PgError(SqlState.protocolViolation, 'SASL exchange not started', { severity: 'FATAL' });
    return this.scram;
  }
}

function expectPassword(frame: Frame): void {
  if (frame.type !== Frontend.password)
    throw new PgError(SqlState.protocolViolation, 'expected a SASL response message', { severity: 'FATAL' });
}

function authFailed(user: string): PgError {
  return new PgError(SqlState.invalidPassword, `password authentication failed for user "${user}"`, {
    severity: 'FATAL',
    hint: 'the user is the Airlock agent name and the password its secret access key',
  });
}
