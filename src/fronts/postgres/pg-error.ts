/**
 * An error that renders itself as a PostgreSQL ErrorResponse, so every refusal a
 * Postgres client sees carries a SQLSTATE it (and its driver) can act on.
 * https://www.postgresql.org/docs/current/protocol-error-fields.html
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */

/** SQLSTATE codes Airlock itself raises. */
export const SqlState = {
  protocolViolation: '08P01',
  invalidAuthorization: '28000',
  invalidPassword: '28P01',
  insufficientPrivilege: '42501',
  featureNotSupported: '0A000',
  inFailedTransaction: '25P02',
  connectionFailure: '08006',
  cannotConnectNow: '57P03',
  syntaxError: '42601',
  internalError: 'XX000',
  /** Class 58, errors external to PostgreSQL: Airlock's own store could not record. */
  systemError: '58000',
  programLimitExceeded: '54000',
  queryCanceled: '57014',
  duplicatePreparedStatement: '42P05',
  invalidParameterValue: '22023',
  cantChangeRuntimeParam: '55P02',
} as const;

export class PgError extends Error {
  override readonly name = 'PgError';
  constructor(
    readonly code: string,
    message: string,
    readonly opts: { detail?: string; hint?: string; severity?: 'ERROR' | 'FATAL' } = {},
  ) {
    super(message);
  }

  get severity(): 'ERROR' | 'FATAL' {
    return this.opts.severity ?? 'ERROR';
  }
}
