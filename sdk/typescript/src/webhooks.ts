import {RenderowlWebhookVerificationError} from './errors.js';
import type {WebhookEvent} from './generated/types.gen.js';
import {zWebhookEvent} from './generated/zod.gen.js';
import {validateResponse} from './validation.js';

export type WebhookHeaders =
  | Headers
  | Record<string, string | string[] | undefined>
  | Iterable<[string, string]>;

export interface VerifyWebhookOptions {
  /** The request body exactly as received: a string or the raw bytes. Never re-serialized JSON. */
  payload: string | Uint8Array | ArrayBuffer;
  /** The request's headers: the Standard Webhooks `webhook-*` names or Renderowl's `X-Renderowl-*`, any case. */
  headers: WebhookHeaders;
  /** The project's `webhookSecret` (64 hex characters), or the same key as `whsec_<base64>`. */
  secret: string;
  /** How far the timestamp may be from now, in seconds. Default 300 (5 minutes). */
  tolerance?: number;
  /** The clock to judge the timestamp by (ms since the epoch); for tests. Default Date.now(). */
  now?: number;
}

const encoder = new TextEncoder();

function fail(message: string, code: string): never {
  throw new RenderowlWebhookVerificationError(message, {code});
}

function header(headers: WebhookHeaders, ...names: string[]): string | undefined {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) {
    for (const name of names) {
      const value = headers.get(name);
      if (value) return value;
    }
    return undefined;
  }
  const entries: Array<[string, unknown]> =
    Symbol.iterator in headers
      ? Array.from(headers as Iterable<[string, string]>)
      : Object.entries(headers as Record<string, unknown>);
  for (const name of names) {
    const found = entries.find(([key]) => key.toLowerCase() === name);
    const value = Array.isArray(found?.[1]) ? found[1].join(' ') : found?.[1];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
}

function keyBytes(secret: unknown): Uint8Array<ArrayBuffer> {
  // A receiver that looks the secret up by X-Renderowl-Project gets nothing for an unknown project: refuse
  // that delivery like any other unproven one, not with a TypeError.
  if (typeof secret !== 'string' || !secret) {
    return fail("No secret to verify with: pass the project's webhookSecret.", 'invalid_secret');
  }
  if (/^[0-9a-fA-F]{64}$/.test(secret)) {
    return Uint8Array.from(secret.match(/../g)!, (pair) => parseInt(pair, 16));
  }
  if (secret.startsWith('whsec_')) {
    try {
      return Uint8Array.from(atob(secret.slice(6)), (c) => c.charCodeAt(0));
    } catch {
      // fall through to the message below
    }
  }
  return fail(
    "secret must be the project's webhookSecret (64 hex characters) or whsec_<base64 of its bytes>.",
    'invalid_secret',
  );
}

function base64Bytes(value: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

function toBytes(payload: string | Uint8Array | ArrayBuffer): Uint8Array<ArrayBuffer> {
  if (typeof payload === 'string') return encoder.encode(payload);
  if (payload instanceof Uint8Array) return new Uint8Array(payload);
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  return fail('payload must be the raw body: a string, a Uint8Array (Buffer) or an ArrayBuffer.', 'invalid_payload');
}

/**
 * Proves a delivery came from Renderowl and returns its event, typed by `type`.
 *
 * HMAC-SHA256 over `{id}.{timestamp}.{body}` with Web Crypto, accepting any of the space-separated `v1,`
 * signatures (two during a secret rotation), comparing in constant time (`crypto.subtle.verify`), and
 * refusing a timestamp more than `tolerance` seconds from now, which stops replays.
 */
export async function verifyWebhook(options: VerifyWebhookOptions): Promise<WebhookEvent> {
  const {headers, secret, tolerance = 300, now = Date.now()} = options;
  const id = header(headers, 'webhook-id', 'x-renderowl-id');
  const timestamp = header(headers, 'webhook-timestamp', 'x-renderowl-timestamp');
  const signatures = header(headers, 'webhook-signature', 'x-renderowl-signature');
  if (!id || !timestamp || !signatures) {
    fail('Missing webhook-id, webhook-timestamp or webhook-signature header.', 'missing_headers');
  }
  if (!/^\d+$/.test(timestamp)) fail('webhook-timestamp must be Unix seconds.', 'invalid_timestamp');
  if (Math.abs(now / 1000 - Number(timestamp)) > tolerance) {
    fail(`webhook-timestamp is more than ${tolerance} s from now: a stale or replayed delivery.`, 'timestamp_out_of_tolerance');
  }
  const body = toBytes(options.payload);
  const key = await globalThis.crypto.subtle.importKey('raw', keyBytes(secret), {name: 'HMAC', hash: 'SHA-256'}, false, ['verify']);
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  let matched = false;
  for (const candidate of signatures.split(' ')) {
    const [version, encoded] = candidate.split(',', 2);
    const signature = version === 'v1' && encoded ? base64Bytes(encoded) : null;
    if (signature && (await globalThis.crypto.subtle.verify('HMAC', key, signature, signed))) matched = true;
  }
  if (!matched) fail('No signature matches: check the secret is this project\'s (X-Renderowl-Project).', 'invalid_signature');
  let event: unknown;
  try {
    event = JSON.parse(new TextDecoder().decode(body));
  } catch {
    fail('The signed body is not JSON.', 'invalid_payload');
  }
  return validateResponse<WebhookEvent>(zWebhookEvent, event, 'lenient', 'webhook event');
}
