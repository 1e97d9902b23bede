/** One field at fault, as the API's problem documents list them (`field` is a dotted camelCase path or null). */
export interface FieldError {
  field: string | null;
  message: string;
}

export interface RenderowlErrorInit {
  status?: number | null;
  code?: string;
  detail?: string;
  errors?: FieldError[];
  requestId?: string | null;
  headers?: Headers;
  cause?: unknown;
}

/** The base of every error the SDK throws: API problems, invalid input, and network failures alike. */
export class RenderowlError extends Error {
  /** The HTTP status, or null when no response arrived (connection, timeout, client-side validation). */
  readonly status: number | null;
  /** The API's stable machine-readable code (`slug_taken`, `rate_limited`, …); branch on this. */
  readonly code: string;
  /** What went wrong and how to fix it, for humans. */
  readonly detail: string;
  /** One entry per field at fault; often empty. */
  readonly errors: FieldError[];
  /** The response's X-Request-Id: quote it when reporting a problem. */
  readonly requestId: string | null;
  readonly headers: Headers | null;

  constructor(message: string, init: RenderowlErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : {cause: init.cause});
    this.name = new.target.name;
    this.status = init.status ?? null;
    this.code = init.code ?? 'error';
    this.detail = init.detail ?? message;
    this.errors = init.errors ?? [];
    this.requestId = init.requestId ?? null;
    this.headers = init.headers ?? null;
  }
}

/** 401: no API key, or an unknown or revoked one. */
export class RenderowlAuthenticationError extends RenderowlError {}
/** 404: no such resource, or another organization's. */
export class RenderowlNotFoundError extends RenderowlError {}
/** 409: a slug taken, a resource in the wrong state, an idempotent request still in flight, … */
export class RenderowlConflictError extends RenderowlError {}
/** 400 or 422 from the API, or a request the SDK refused before sending it (then `status` is null). */
export class RenderowlValidationError extends RenderowlError {}
/** 429: the organization's budget is spent; `retryAfter` says for how many seconds. */
export class RenderowlRateLimitError extends RenderowlError {
  get retryAfter(): number | null {
    const value = this.headers?.get('retry-after');
    return value != null && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : null;
  }
}
/** 5xx: a server fault. */
export class RenderowlServerError extends RenderowlError {}
/** No response: the connection failed or was reset. */
export class RenderowlConnectionError extends RenderowlError {}
/** No response within the client's `timeout`. */
export class RenderowlTimeoutError extends RenderowlError {}

interface ProblemBody {
  code?: unknown;
  detail?: unknown;
  title?: unknown;
  errors?: unknown;
  requestId?: unknown;
}

/** The typed error for an API response that is not 2xx, read from its problem+json body when it has one. */
export function errorFromResponse(status: number, headers: Headers, body: unknown): RenderowlError {
  const problem: ProblemBody = body !== null && typeof body === 'object' ? (body as ProblemBody) : {};
  const code = typeof problem.code === 'string' ? problem.code : `http_${status}`;
  const detail = typeof problem.detail === 'string' ? problem.detail : textDetail(status, headers, body);
  const errors = Array.isArray(problem.errors)
    ? problem.errors.filter(
        (entry): entry is FieldError => entry !== null && typeof entry === 'object' && 'message' in entry,
      )
    : [];
  const requestId =
    typeof problem.requestId === 'string' ? problem.requestId : headers.get('x-request-id');
  const init: RenderowlErrorInit = {status, code, detail, errors, requestId, headers};
  const message = `${status} ${code}: ${detail}${requestId ? ` (request ${requestId})` : ''}`;
  const Kind = errorClassFor(status);
  return new Kind(message, init);
}

/** A short detail for an answer that is not a problem document: an HTML page says where it came from, text its first line. */
function textDetail(status: number, headers: Headers, body: unknown): string {
  if (typeof body !== 'string' || !body.trim()) return `HTTP ${status}`;
  const type = headers.get('content-type') ?? '';
  if (type.includes('html') || /^<(!doctype html|html)/i.test(body.trimStart())) {
    return `HTTP ${status}: an HTML page instead of the API's problem document (from a proxy or load balancer?).`;
  }
  // Storage answers in XML (<Error><Code>AccessDenied</Code>…), often on several lines: keep all of its start.
  const xml = type.includes('xml') || body.trimStart().startsWith('<?xml');
  const line = xml ? body.trim().replace(/\s+/g, ' ') : body.trim().split(/\r?\n/, 1)[0]!;
  return `HTTP ${status}: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`;
}

function errorClassFor(status: number): typeof RenderowlError {
  if (status === 401) return RenderowlAuthenticationError;
  if (status === 404) return RenderowlNotFoundError;
  if (status === 409) return RenderowlConflictError;
  if (status === 400 || status === 422) return RenderowlValidationError;
  if (status === 429) return RenderowlRateLimitError;
  if (status === 408) return RenderowlTimeoutError;
  if (status >= 500) return RenderowlServerError;
  return RenderowlError;
}

/** A webhook delivery that is not proven to come from Renderowl: headers missing, stale timestamp, bad signature. */
export class RenderowlWebhookVerificationError extends RenderowlError {}
