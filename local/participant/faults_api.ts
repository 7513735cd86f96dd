/**
 * Fault injection and the request log of the local service: a middleware that counts each
 * operation's calls, applies an armed fault before or after the handler, and logs one line
 * per request (never tokens); `/_local/faults` to arm, list and clear faults; and
 * `/_local/behaviour` to switch between behaviours the real service does not pin down.
 *
 * @module
 */

import type { Context, Hono, MiddlewareHandler } from "hono";
import { type FaultInjector, type FaultRule, parseFaultRule } from "../faults.ts";
import type { ServiceBehaviour } from "./context.ts";
import { fail, ServiceFault } from "./errors.ts";
import { internalShape, operationOf, throttleShape } from "./operations.ts";

/**
 * The middleware: request id, faults, log line.
 *
 * @param faults The armed faults.
 * @param log Told one line per request (method, path, operation, status, fault, time).
 * @returns The middleware.
 *
 * @example
 * ```ts ignore
 * app.use("*", faultsAndLog(faults, console.log));
 * ```
 */
export function faultsAndLog(
  faults: FaultInjector,
  log?: (line: string) => void,
): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const operation = operationOf(c.req.method, c.req.path);
    c.header("X-Amzn-RequestId", crypto.randomUUID());
    const fault = operation ? faults.take(operation) : undefined;
    const injure = async (rule: FaultRule) => {
      if (rule.kind === "delay") {
        await new Promise((r) => setTimeout(r, rule.delayMs ?? 1000));
        return;
      }
      // After the handler ran, its answer is replaced (the work it did stays done).
      c.res.headers.delete("X-Amzn-ErrorType");
      if (rule.kind === "throttle") {
        c.res = fail(c, throttleShape(operation), "Rate exceeded (injected fault)");
      } else if (rule.kind === "error") {
        c.res = fail(c, internalShape(operation), "Internal failure (injected fault)");
      } else if (rule.kind === "conflict") {
        c.res = fail(
          c,
          "ConflictException",
          "An attachment with that identifier is already being uploaded (injected fault)",
        );
      } else {
        c.res = droppedConnection();
      }
    };
    if (fault?.when === "after") {
      await next();
      await injure(fault);
    } else if (fault) {
      await injure(fault);
      if (fault.kind === "delay") await next();
    } else {
      await next();
    }
    log?.(
      `${c.req.method} ${c.req.path}${operation ? ` ${operation}` : ""} ${c.res.status}${
        fault ? ` fault=${fault.kind}` : ""
      } ${Math.round(performance.now() - started)}ms`,
    );
  };
}

/**
 * Adds `GET`, `POST` and `DELETE /_local/faults` to the app.
 *
 * @param app The service's app.
 * @param faults The armed faults.
 *
 * @example
 * ```ts ignore
 * faultRoutes(app, new FaultInjector());
 * ```
 */
export function faultRoutes(app: Hono, faults: FaultInjector): void {
  app.get("/_local/faults", (c: Context) =>
    c.json({
      rules: faults.list(),
      hits: Object.fromEntries(faults.hits),
      calls: Object.fromEntries(faults.calls),
    }));
  app.post("/_local/faults", async (c) => {
    const rule = parseFaultRule(await c.req.json().catch(() => undefined));
    if (typeof rule === "string") throw new ServiceFault("ValidationException", rule);
    faults.add(rule);
    return c.json({ rules: faults.list() });
  });
  app.delete("/_local/faults", (c) => {
    faults.clear();
    return c.json({ rules: [] });
  });
}

/**
 * Adds `GET` and `POST /_local/behaviour`: how the service answers where its documentation
 * leaves the choice open. `repeatedClientToken`: `same-attachment` (a StartAttachmentUpload
 * that repeats a ClientToken gets the attachment it made before) or `new-attachment` (it gets
 * a new attachment, as nothing documented rules out).
 *
 * @param app The service's app.
 * @param behaviour The behaviour, changed in place.
 *
 * @example
 * ```ts ignore
 * behaviourRoutes(app, { repeatedClientToken: "same-attachment" });
 * // curl -X POST .../_local/behaviour -d '{"repeatedClientToken":"new-attachment"}'
 * ```
 */
export function behaviourRoutes(app: Hono, behaviour: ServiceBehaviour): void {
  app.get("/_local/behaviour", (c) => c.json(behaviour));
  app.post("/_local/behaviour", async (c) => {
    const asked = await c.req.json().catch(() => undefined);
    const reuse = asked?.repeatedClientToken;
    if (reuse !== "same-attachment" && reuse !== "new-attachment") {
      throw new ServiceFault(
        "ValidationException",
        "repeatedClientToken must be same-attachment or new-attachment",
      );
    }
    behaviour.repeatedClientToken = reuse;
    return c.json(behaviour);
  });
}

/**
 * An answer whose connection breaks before the body is complete: it declares a JSON body and
 * ends after none of it, so the server cuts the connection and the client's read of the body
 * fails. (A body stream that errors would do the same, but Deno.serve prints the stack of
 * every such error: an expected fault is counted, not traced.)
 */
function droppedConnection(): Response {
  return new Response(new ReadableStream({ start: (controller) => controller.close() }), {
    status: 200,
    headers: { "content-type": "application/json", "content-length": "64" },
  });
}
