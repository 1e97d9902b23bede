import type {z} from 'zod';

import {RenderowlValidationError, type FieldError} from './errors.js';

type Schema = z.ZodType;

function dottedPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Keys present in `raw` but dropped by the schema's parse: fields the schema does not declare.
 *
 * zod objects strip unknown keys, so comparing the input with the parsed output finds them at any depth
 * without rewriting the generated schemas; free-form maps (metadata, inputProps) keep every key and are
 * never reported.
 */
function unknownFields(raw: unknown, parsed: unknown, path: PropertyKey[] = []): string[] {
  if (raw === parsed) return []; // passed through as it is (a free-form value): nothing was stripped, and it may be cyclic
  if (Array.isArray(raw) && Array.isArray(parsed)) {
    return raw.flatMap((item, index) => unknownFields(item, parsed[index], [...path, index]));
  }
  if (!isPlainObject(raw) || !isPlainObject(parsed)) return [];
  return Object.keys(raw).flatMap((key) =>
    key in parsed ? unknownFields(raw[key], parsed[key], [...path, key]) : [dottedPath([...path, key])],
  );
}

function issuesToFieldErrors(issues: ReadonlyArray<z.core.$ZodIssue>, prefix: string): FieldError[] {
  return issues.map((issue) => {
    const path = dottedPath(issue.path);
    return {field: prefix && path ? `${prefix}.${path}` : path || prefix || null, message: issue.message};
  });
}

function validationError(what: string, errors: FieldError[], status: number | null = null): RenderowlValidationError {
  const detail = errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ');
  return new RenderowlValidationError(`${what}: ${detail}`, {status, code: 'validation_error', detail, errors});
}

/**
 * Checks a request part (body, query, path parameters) before it is sent: any type, limit or pattern
 * failure, and any field the API does not declare, is a RenderowlValidationError naming the field.
 */
export function validateRequest(schema: Schema, value: unknown, what: string, prefix = ''): void {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(`Invalid ${what}`, issuesToFieldErrors(result.error.issues, prefix));
  const unknown = unknownFields(value, result.data);
  if (unknown.length) {
    throw validationError(
      `Invalid ${what}`,
      unknown.map((field) => ({field: prefix ? `${prefix}.${field}` : field, message: 'Unknown field.'})),
    );
  }
}

export type ResponseValidation = 'lenient' | 'strict' | 'off';

/**
 * Checks a response against its schema and returns it as received.
 *
 * `lenient` (the default) never fails a call: a newer server may add fields or values this client does not
 * know, so unknown fields are kept and a mismatch is only reported to `onMismatch`. `strict` throws on any
 * mismatch, undeclared fields included: what the SDK's own tests use to hold openapi.json to the server.
 */
export function validateResponse<T>(
  schema: Schema,
  value: unknown,
  mode: ResponseValidation,
  what: string,
  onMismatch?: (error: RenderowlValidationError) => void,
): T {
  if (mode === 'off') return value as T;
  const result = schema.safeParse(value);
  let error: RenderowlValidationError | null = null;
  if (!result.success) {
    error = validationError(`Unexpected ${what}`, issuesToFieldErrors(result.error.issues, ''));
  } else if (mode === 'strict') {
    const unknown = unknownFields(value, result.data);
    if (unknown.length) {
      error = validationError(
        `Unexpected ${what}`,
        unknown.map((field) => ({field, message: 'Not declared in openapi.json.'})),
      );
    }
  }
  if (error) {
    if (mode === 'strict') throw error;
    onMismatch?.(error);
  }
  return value as T;
}

/**
 * The request body as JSON, refusing what JSON cannot carry instead of letting JSON.stringify alter it
 * (NaN and Infinity become null) or throw a bare TypeError (a BigInt, a cycle): free-form maps such as
 * inputProps and metadata take any value the schema cannot check.
 */
export function requestJson(value: unknown, what: string): string {
  const refuse = (path: PropertyKey[], message: string): never => {
    throw validationError(`Invalid ${what}`, [{field: dottedPath(path) || null, message}]);
  };
  const ancestors = new Set<object>();
  const walk = (item: unknown, path: PropertyKey[]): void => {
    if (typeof item === 'number' && !Number.isFinite(item)) refuse(path, `${item} is not a JSON number.`);
    if (typeof item === 'bigint') refuse(path, 'A BigInt is not a JSON number: pass a number or a string.');
    if (item === null || typeof item !== 'object') return;
    if (ancestors.has(item)) refuse(path, 'The value contains itself: JSON cannot represent a cycle.');
    if (typeof (item as {toJSON?: unknown}).toJSON === 'function') return; // a Date and the like serialize themselves
    ancestors.add(item);
    if (Array.isArray(item)) item.forEach((entry, index) => walk(entry, [...path, index]));
    else for (const [key, entry] of Object.entries(item)) walk(entry, [...path, key]);
    ancestors.delete(item);
  };
  walk(value, []);
  return JSON.stringify(value);
}

