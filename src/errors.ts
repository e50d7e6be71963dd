/**
 * One catalogue of errors for the API, the CLI and the quarantine alike: a stable code,
 * an HTTP status and a message. Clients branch on `code`, never on the message.
 */
export const ERRORS = {
  PULSE_ERR_MALFORMED_BODY: { status: 400, message: 'The request body is not valid JSON' },
  PULSE_ERR_EMPTY_BODY: { status: 400, message: 'The request body is empty' },
  PULSE_ERR_BATCH_NOT_ARRAY: { status: 400, message: 'A CloudEvents batch must be a JSON array' },
  PULSE_ERR_BATCH_TOO_LARGE: { status: 413, message: 'The batch has too many events' },
  PULSE_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  PULSE_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type' },
  PULSE_ERR_CONTRACT_VIOLATION: {
    status: 422,
    message: 'Every event failed its contract and was quarantined',
  },
  PULSE_ERR_UNAUTHENTICATED: { status: 401, message: 'An API key is required: Authorization: Bearer <key>' },
  PULSE_ERR_FORBIDDEN: { status: 403, message: 'This key may not do that' },
  PULSE_ERR_TOKEN_EXPIRED: { status: 401, message: 'The token has expired' },
  PULSE_ERR_TOKEN_INVALID: {
    status: 401,
    message: 'The token is malformed or its signature does not verify',
  },
  PULSE_ERR_TOKEN_CLAIM_INVALID: {
    status: 401,
    message: 'A claim of the token (iss, aud, nbf) is not accepted',
  },
  PULSE_ERR_TOKEN_UNKNOWN_KEY: { status: 401, message: 'The token is signed by a key Pulse does not know' },
  PULSE_ERR_JWKS_UNAVAILABLE: { status: 503, message: 'The signing keys could not be fetched' },
  PULSE_ERR_PRIVACY_BUDGET_EXHAUSTED: {
    status: 429,
    message: 'The privacy budget of this key is spent for today (UTC): retry tomorrow',
  },
  PULSE_ERR_INVALID_PARAMETER: { status: 400, message: 'A query parameter is invalid' },
  PULSE_ERR_INVALID_QUERY: { status: 400, message: 'The GraphQL query is invalid' },
  PULSE_ERR_QUERY_TOO_COMPLEX: { status: 400, message: 'The GraphQL query asks for too much at once' },
  PULSE_ERR_UNKNOWN_KPI: { status: 404, message: 'No such KPI' },
  PULSE_ERR_NOT_FOUND: { status: 404, message: 'Not found' },
  PULSE_ERR_UNAVAILABLE: { status: 503, message: 'The warehouse is not available' },
  PULSE_ERR_OVERLOADED: {
    status: 503,
    message: 'Ingest is at capacity: retry after the time given in Retry-After',
  },
  PULSE_ERR_STREAM_UNAVAILABLE: {
    status: 503,
    message: 'The event stream cannot take the events now: retry after the time given in Retry-After',
  },
  PULSE_ERR_RATE_LIMITED: {
    status: 429,
    message: 'Too many requests for this API key: retry after the time given in Retry-After',
  },
  PULSE_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  PULSE_ERR_FILE_FORMAT: {
    status: 415,
    message: 'The file is not of a format Pulse reads (CSV, JSONL, Parquet)',
  },
  PULSE_ERR_FILE_EMPTY: { status: 422, message: 'The file is empty' },
  PULSE_ERR_FILE_UNREADABLE: { status: 422, message: 'The file could not be read' },
  PULSE_ERR_FILE_COLUMNS: { status: 422, message: 'The file lacks columns its mapping needs' },
  PULSE_ERR_FILE_LINE_TOO_LONG: { status: 413, message: 'A line of the file is too long' },
  PULSE_ERR_FILE_NO_MAPPING: { status: 422, message: 'No mapping applies to this file' },
  PULSE_ERR_CONFIG: { status: 0, message: 'The configuration is invalid' },
  PULSE_ERR_USAGE: { status: 0, message: 'The command line is invalid' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class PulseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** The field (parameter, path, flag) the error is about, when there is one. */
  readonly field: string | undefined;
  readonly details: unknown;

  constructor(
    code: ErrorCode,
    message?: string,
    options: { field?: string; details?: unknown; cause?: unknown } = {},
  ) {
    // `cause` is logged on the server, never sent to the client.
    super(
      message ?? ERRORS[code].message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'PulseError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.field = options.field;
    this.details = options.details;
  }

  toJSON(): { error: { code: ErrorCode; message: string; field?: string; details?: unknown } } {
    const error: { code: ErrorCode; message: string; field?: string; details?: unknown } = {
      code: this.code,
      message: this.message,
    };
    if (this.field !== undefined) error.field = this.field;
    if (this.details !== undefined) error.details = this.details;
    return { error };
  }
}
