/**
 * Request bodies checked against the models' member constraints (required members, lengths,
 * ranges, enums), with the model's error shape for a violation.
 *
 * @module
 */

import type { Context } from "hono";
import { type ErrorShape, ServiceFault } from "./errors.ts";

/**
 * Reads a JSON object body; an empty body is `{}`.
 *
 * @param c The request's context.
 * @param shape The error shape for a body that is not a JSON object.
 * @returns The object.
 *
 * @example
 * ```ts ignore
 * const body = await readJson(c);
 * ```
 */
export async function readJson(
  c: Context,
  shape: ErrorShape = "ValidationException",
): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ServiceFault(shape, "The request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ServiceFault(shape, "The request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Checks of one object's members; each throws a {@link ServiceFault} on a violation. */
export interface Validator {
  /** A string of `min`–`max` characters (code points). */
  string(key: string, min: number, max: number, required?: boolean): string | undefined;
  /** A whole number from `min` to `max`. */
  integer(key: string, min: number, max?: number, required?: boolean): number | undefined;
  /** One of `values`, or absent. */
  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined;
}

/**
 * Checks the members of an object.
 *
 * @param body The object.
 * @param shape The error shape for a violation.
 * @returns The checks.
 *
 * @example
 * ```ts ignore
 * const name = validator(body).string("AttachmentName", 1, 256)!;
 * ```
 */
export function validator(
  body: Record<string, unknown>,
  shape: ErrorShape = "ValidationException",
): Validator {
  const bad = (message: string) => new ServiceFault(shape, message);
  return {
    string(key, min, max, required = true) {
      const value = body[key];
      if (value === undefined || value === null) {
        if (required) throw bad(`${key} is required`);
        return undefined;
      }
      if (typeof value !== "string") throw bad(`${key} must be a string`);
      const length = [...value].length;
      if (length < min || length > max) {
        throw bad(`${key} must be ${min} to ${max} characters long`);
      }
      return value;
    },
    integer(key, min, max = Number.MAX_SAFE_INTEGER, required = true) {
      const value = body[key];
      if (value === undefined || value === null) {
        if (required) throw bad(`${key} is required`);
        return undefined;
      }
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
        throw bad(`${key} must be a whole number from ${min} to ${max}`);
      }
      return value;
    },
    oneOf(key, values) {
      const value = body[key];
      if (value === undefined || value === null) return undefined;
      if (!values.includes(value as never)) {
        throw bad(`${key} must be one of ${values.join(", ")}`);
      }
      return value as (typeof values)[number];
    },
  };
}
