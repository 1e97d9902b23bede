import type {z} from 'zod';

import {
  RenderowlConnectionError,
  RenderowlError,
  RenderowlTimeoutError,
  RenderowlValidationError,
  errorFromResponse,
} from './errors.js';
import {requestJson, validateRequest, validateResponse, type ResponseValidation} from './validation.js';

export const VERSION = '0.1.0';

export interface ClientOptions {
  /** `rwl_live_…` or `rwl_test_…`. */
  apiKey: string;
  /** Where the API is served, such as `https://api.example.com` (with or without a trailing `/v1`). */
  baseUrl: string;
  /** A fetch implementation to use instead of the global one (a proxy agent, a test double, an older runtime). */
  fetch?: typeof fetch;
  /** How many times a failed request is retried (network errors, 408, 409 in-flight, 429, 5xx). Default 2. */
  maxRetries?: number;
  /** Milliseconds one attempt may take, body included. Default 60 000. */
  timeout?: number;
  /** How responses are checked against openapi.json: `lenient` (default), `strict` or `off`. */
  responseValidation?: ResponseValidation;
  /** Told about a response that does not match its schema in `lenient` mode (the call still succeeds). */
  onResponseMismatch?: (error: RenderowlValidationError) => void;
  /** The first retry waits about this long (ms), doubling per retry up to `maxRetryDelay`. Default 500. */
  initialRetryDelay?: number;
  /** The longest wait between retries (ms), Retry-After excepted. Default 8 000. */
  maxRetryDelay?: number;
}

export interface RequestOptions {
  /** Cancels the request (and its retries) when aborted. */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout (ms). */
  timeout?: number;
  /** Overrides the client's maxRetries. */
  maxRetries?: number;
  /** The Idempotency-Key of a POST; one is generated when absent. Reused by every retry of the request. */
  idempotencyKey?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
}

type Schema = z.ZodType;

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, unknown> | undefined;
  querySchema?: Schema;
  body?: unknown;
  bodySchema?: Schema;
  responseSchema?: Schema;
  /** What the call is, for error messages: `project`, `render page`, … */
  what: string;
  options?: RequestOptions | undefined;
}

const RETRY_AFTER_LIMIT_SECONDS = 60;
const ID_PATTERN = /^[A-Za-z0-9_]{1,64}$/;

function randomKey(): string {
  return globalThis.crypto.randomUUID();
}

/** Checks an id before it goes into a path, so a hostile or mistyped value never changes the URL. */
export function pathId(name: string, value: unknown): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    const message = 'Must be a Renderowl id such as prj_… (letters, digits and underscores).';
    throw new RenderowlValidationError(`Invalid ${name}: ${message}`, {
      code: 'validation_error',
      detail: `${name}: ${message}`,
      errors: [{field: name, message}],
    });
  }
  return value;
}

function isRetryableStatus(status: number, code: string): boolean {
  return (
    status === 408 ||
    status === 429 ||
    status >= 500 ||
    (status === 409 && code === 'idempotency_request_in_progress')
  );
}

/** Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(headers: Headers | null, now = Date.now()): number | null {
  const value = headers?.get('retry-after');
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - now) / 1000);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, {once: true});
  });
}

interface Attempt {
  signal: AbortSignal;
  timedOut: () => boolean;
  done: () => void;
}

/** One attempt's signal: aborted by the caller's signal or by the timeout, whichever comes first. */
function attemptSignal(timeout: number, outer?: AbortSignal): Attempt {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new RenderowlTimeoutError(`No response within ${timeout} ms.`, {code: 'timeout'}));
  }, timeout);
  const onAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, {once: true});
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    done: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

/** The most of an error body that is read: a problem document is small, a proxy's page may not be. */
const ERROR_BODY_LIMIT = 64 * 1024;

/** The body as text, reading at most `limit` bytes and dropping the rest. */
async function readText(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  try {
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      size += value.byteLength;
      text += decoder.decode(size > limit ? value.subarray(0, value.byteLength - (size - limit)) : value, {stream: true});
      if (size >= limit) break;
    }
    return text + decoder.decode();
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** The parsed JSON body, or its text when it is not JSON (a proxy's page, a cut body). */
async function readBody(response: Response, limit = Infinity): Promise<unknown> {
  const text = Number.isFinite(limit) ? await readText(response, limit) : await response.text();
  if (!text) return undefined;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function isJsonObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The HTTP layer every resource shares: auth, validation, retries, idempotency keys, timeouts, errors. */
export class HttpClient {
  readonly baseUrl: string;
  readonly maxRetries: number;
  readonly timeout: number;
  readonly responseValidation: ResponseValidation;
  private readonly apiKey: string;
  private readonly fetchImpl: typeof fetch;
  private readonly onResponseMismatch: ((error: RenderowlValidationError) => void) | undefined;
  private readonly initialRetryDelay: number;
  private readonly maxRetryDelay: number;

  constructor(options: ClientOptions) {
    if (!options || typeof options.apiKey !== 'string' || !options.apiKey) {
      throw new RenderowlError('Pass apiKey: new RenderowlClient({apiKey: "rwl_live_…", baseUrl}).', {
        code: 'missing_api_key',
      });
    }
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\//i.test(options.baseUrl)) {
      throw new RenderowlError('Pass baseUrl, the http(s) URL the API is served at.', {code: 'missing_base_url'});
    }
    this.apiKey = options.apiKey;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') {
      throw new RenderowlError('No fetch available: pass one as the fetch option.', {code: 'missing_fetch'});
    }
    this.fetchImpl = fetchImpl;
    this.maxRetries = options.maxRetries ?? 2;
    this.timeout = options.timeout ?? 60_000;
    this.responseValidation = options.responseValidation ?? 'lenient';
    this.onResponseMismatch = options.onResponseMismatch;
    this.initialRetryDelay = options.initialRetryDelay ?? 500;
    this.maxRetryDelay = options.maxRetryDelay ?? 8_000;
  }

  url(path: string, query?: Record<string, unknown>): string {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** Sends an API request and returns its validated JSON body (undefined for 204). */
  async request<T>(req: ApiRequest): Promise<T> {
    if (req.querySchema && req.query) validateRequest(req.querySchema, stripUndefined(req.query), `${req.what} query`);
    if (req.bodySchema) validateRequest(req.bodySchema, req.body ?? {}, `${req.what} request`);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...req.options?.headers,
    };
    let body: string | undefined;
    if (req.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = requestJson(req.body, `${req.what} request`);
    }
    if (req.method === 'POST') headers['Idempotency-Key'] = req.options?.idempotencyKey ?? randomKey();
    const response = await this.send(this.url(req.path, req.query), {method: req.method, headers, body}, req.options, true);
    try {
      const parsed = response.status === 204 ? undefined : await readBody(response);
      if (!req.responseSchema || response.status === 204) return parsed as T;
      if (!isJsonObject(parsed)) {
        // Not a newer server's answer but no API answer at all (a captive portal, a proxy, a cut body): no
        // leniency makes it a result.
        const type = response.headers.get('content-type') ?? 'no content type';
        throw new RenderowlError(
          `Expected a JSON object from the API for the ${req.what}, got ${typeof parsed === 'string' ? type : 'JSON ' + (Array.isArray(parsed) ? 'array' : String(parsed))}.`,
          {status: response.status, code: 'invalid_response', requestId: response.headers.get('x-request-id'), headers: response.headers},
        );
      }
      return validateResponse<T>(req.responseSchema, parsed, this.responseValidation, `${req.what} response`, this.onResponseMismatch);
    } finally {
      response.body?.cancel().catch(() => undefined);
    }
  }

  /**
   * Fetches with retries and returns the first successful Response, its body unread.
   *
   * `authorized` sends the API key (never to storage URLs, which are signed themselves). A body that is a
   * one-shot stream cannot be sent twice, so such requests are attempted once.
   */
  async send(
    url: string,
    init: RequestInit & {headers: Record<string, string>},
    options: RequestOptions | undefined,
    authorized: boolean,
    {streaming = false}: {streaming?: boolean} = {},
  ): Promise<Response> {
    const maxRetries = isOneShot(init.body) ? 0 : (options?.maxRetries ?? this.maxRetries);
    const timeout = options?.timeout ?? this.timeout;
    if (authorized) init.headers.Authorization = `Bearer ${this.apiKey}`;
    else delete init.headers.Authorization;
    for (let attempt = 0; ; attempt++) {
      const attemptState = attemptSignal(timeout, options?.signal);
      let response: Response;
      try {
        response = await this.fetchImpl(url, {...init, signal: attemptState.signal});
      } catch (cause) {
        attemptState.done();
        const error = this.networkError(cause, attemptState, options?.signal, timeout);
        if (attempt < maxRetries) {
          await sleep(this.backoff(attempt), options?.signal);
          continue;
        }
        throw error;
      }
      if (response.ok) {
        if (streaming) {
          attemptState.done(); // a stream lives past the timeout; the caller's signal still ends it
          const outer = options?.signal;
          if (outer && !outer.aborted) {
            outer.addEventListener('abort', () => response.body?.cancel(outer.reason).catch(() => undefined), {once: true});
          }
          return response;
        }
        return withCleanup(response, attemptState.done);
      }
      let problem: unknown;
      try {
        problem = await readBody(response, ERROR_BODY_LIMIT);
      } catch (cause) {
        problem = undefined;
        if (attemptState.timedOut()) {
          attemptState.done();
          throw this.networkError(cause, attemptState, options?.signal, timeout);
        }
      }
      attemptState.done();
      const error = errorFromResponse(response.status, response.headers, problem);
      if (attempt < maxRetries && isRetryableStatus(response.status, error.code)) {
        const wait = retryAfterSeconds(response.headers);
        if (wait === null || wait <= RETRY_AFTER_LIMIT_SECONDS) {
          await sleep(wait === null ? this.backoff(attempt) : wait * 1000, options?.signal);
          continue;
        }
      }
      throw error;
    }
  }

  private networkError(cause: unknown, attempt: Attempt, outer: AbortSignal | undefined, timeout: number): unknown {
    if (outer?.aborted) return outer.reason ?? cause; // the caller cancelled: not retried, not wrapped
    if (attempt.timedOut()) {
      return new RenderowlTimeoutError(`No response within ${timeout} ms.`, {code: 'timeout', cause});
    }
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new RenderowlConnectionError(`Could not reach the API: ${reason}`, {code: 'connection_error', cause});
  }

  /** Exponential backoff with jitter: about initial × 2^attempt, capped, each wait 75–100 % of that. */
  backoff(attempt: number): number {
    const base = Math.min(this.initialRetryDelay * 2 ** attempt, this.maxRetryDelay);
    return base * (0.75 + Math.random() * 0.25);
  }
}

function stripUndefined(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined));
}

function isOneShot(body: unknown): boolean {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;
}

/** Clears the attempt's timer once the body has been read (or the response dropped). */
function withCleanup(response: Response, done: () => void): Response {
  const body = response.body;
  if (!body || [204, 205, 304].includes(response.status)) {
    done();
    return response;
  }
  const reader = body.getReader();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const {done: finished, value} = await reader.read();
        if (finished) {
          done();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        done();
        controller.error(error);
      }
    },
    cancel(reason) {
      done();
      return reader.cancel(reason);
    },
  });
  return new Response(stream, {status: response.status, statusText: response.statusText, headers: response.headers});
}
