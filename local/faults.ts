/**
 * Deterministic fault injection for the local Participant Service: the next N calls of an
 * operation are throttled, fail, conflict, stall or lose their connection. Off until asked for;
 * armed in process ({@link FaultInjector}) or over the service's HTTP API ({@link armFault}).
 *
 * @module
 */

import { seededRandom } from "../testing/seeded_random.ts";

/**
 * What happens to an affected call: `throttle` (429), `error` (500), `conflict` (409
 * ConflictException, the answer the model gives CompleteAttachmentUpload for "an attachment
 * with that identifier is already being uploaded"), `delay` or `drop` (a broken answer).
 */
export type FaultKind = "throttle" | "error" | "conflict" | "delay" | "drop";

/** One fault rule, as sent to `POST /_local/faults`. */
export interface FaultRule {
  /** The operation it hits (`StartAttachmentUpload`, ...), or `*` for every operation. */
  operation: string;
  /** What to do to the call. */
  kind: FaultKind;
  /** How many of the next matching calls it hits. @default {1} */
  count?: number;
  /** For `delay`: how long the call stalls. @default {1000} */
  delayMs?: number;
  /**
   * `before`: the fault replaces the call, which never reaches the service. `after`: the call
   * is served (its work is done) and then its answer is replaced, lost or delayed, as when an
   * answer goes missing on its way back.
   * @default {"before"}
   */
  when?: "before" | "after";
  /**
   * Instead of the next `count` calls, hit each matching call with this probability (0–1),
   * drawn from a generator seeded with `seed`, so that a run repeats exactly.
   */
  rate?: number;
  /** The seed for `rate`. @default {1} */
  seed?: number;
}

/** The faults that are armed, and what each has done so far. */
export class FaultInjector {
  #rules: { rule: FaultRule; left: number; next: () => number }[] = [];
  /** How many calls each kind of fault has hit, by `operation:kind`. */
  readonly hits: Map<string, number> = new Map();
  /** How many calls each operation has received, faulted or not. */
  readonly calls: Map<string, number> = new Map();

  /**
   * Arms a rule.
   * @param rule The rule.
   */
  add(rule: FaultRule): void {
    this.#rules.push({ rule, left: rule.count ?? 1, next: seededRandom(rule.seed ?? 1) });
  }

  /** Disarms every rule and resets the counts. */
  clear(): void {
    this.#rules = [];
    this.hits.clear();
    this.calls.clear();
  }

  /** The armed rules with the calls each has left. */
  list(): (FaultRule & { left: number })[] {
    return this.#rules.map(({ rule, left }) => ({ ...rule, left }));
  }

  /**
   * Counts a call and returns the fault for it, if one is armed.
   * @param operation The operation being called.
   */
  take(operation: string): FaultRule | undefined {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    for (const entry of this.#rules) {
      const { rule } = entry;
      if (rule.operation !== "*" && rule.operation !== operation) continue;
      if (rule.rate !== undefined) {
        if (entry.next() >= rule.rate) continue;
      } else {
        if (entry.left <= 0) continue;
        entry.left--;
      }
      const key = `${operation}:${rule.kind}`;
      this.hits.set(key, (this.hits.get(key) ?? 0) + 1);
      return rule;
    }
    return undefined;
  }
}

/**
 * Rules that share one fault rate among several kinds: together they hit `rate` of an
 * operation's calls, each kind an equal share. Rules are tried in turn, so each one's rate is
 * conditional on those before it missing (`r/n`, then `(r/n) / (1 - r/n)`, ...); giving each
 * `r/n` would hit fewer calls than `r`.
 *
 * @param operation The operation the rules hit.
 * @param kinds The kinds of fault, in turn.
 * @param rate The share of calls hit, 0–1.
 * @param seed Seeds the rules (each gets its own seed from it).
 * @returns The rules, to {@link FaultInjector.add} in this order.
 *
 * @example
 * ```ts
 * import { FaultInjector, sharedRateRules } from "./faults.ts";
 * const faults = new FaultInjector();
 * for (const rule of sharedRateRules("StartAttachmentUpload", ["throttle", "drop"], 0.05, 1)) {
 *   faults.add(rule);
 * }
 * ```
 */
export function sharedRateRules(
  operation: string,
  kinds: readonly FaultKind[],
  rate: number,
  seed: number,
): FaultRule[] {
  const share = rate / kinds.length;
  return kinds.map((kind, i) => ({
    operation,
    kind,
    rate: share / (1 - i * share),
    seed: seed + 12 * i + 11,
  }));
}

/**
 * Checks a parsed JSON value for the shape of a {@link FaultRule}.
 *
 * @param value The parsed request body.
 * @returns The rule, or a message saying what is wrong.
 */
export function parseFaultRule(value: unknown): FaultRule | string {
  if (typeof value !== "object" || value === null) return "the body must be a JSON object";
  const rule = value as Record<string, unknown>;
  if (typeof rule.operation !== "string" || rule.operation === "") {
    return "operation must be an operation name or *";
  }
  if (!["throttle", "error", "conflict", "delay", "drop"].includes(rule.kind as string)) {
    return "kind must be throttle, error, conflict, delay or drop";
  }
  for (const key of ["count", "delayMs", "seed"]) {
    const n = rule[key];
    if (n !== undefined && !(Number.isInteger(n) && (n as number) >= 0)) {
      return `${key} must be a whole number ≥ 0`;
    }
  }
  if (rule.when !== undefined && rule.when !== "before" && rule.when !== "after") {
    return "when must be before or after";
  }
  if (
    rule.rate !== undefined && !(typeof rule.rate === "number" && rule.rate >= 0 && rule.rate <= 1)
  ) {
    return "rate must be a number from 0 to 1";
  }
  return rule as unknown as FaultRule;
}

/**
 * Arms a fault on a running local service through its HTTP API (`POST /_local/faults`).
 *
 * @param participantUrl The local service's base URL.
 * @param rule The fault.
 * @throws {Error} With the service's answer when it refuses the rule.
 *
 * @example
 * ```ts ignore
 * import { armFault } from "./faults.ts";
 * await armFault("http://127.0.0.1:8788", { operation: "StartAttachmentUpload", kind: "throttle" });
 * ```
 */
export async function armFault(participantUrl: string, rule: FaultRule): Promise<void> {
  const response = await fetch(`${participantUrl}/_local/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rule),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`arming ${JSON.stringify(rule)} failed: ${text}`);
}

/**
 * Disarms every fault of a running local service and resets its call counts
 * (`DELETE /_local/faults`).
 *
 * @param participantUrl The local service's base URL.
 *
 * @example
 * ```ts ignore
 * import { clearFaults } from "./faults.ts";
 * await clearFaults("http://127.0.0.1:8788");
 * ```
 */
export async function clearFaults(participantUrl: string): Promise<void> {
  await (await fetch(`${participantUrl}/_local/faults`, { method: "DELETE" })).body?.cancel();
}

/**
 * How many calls each operation of a running local service has received since the last
 * {@link clearFaults} (`GET /_local/faults`).
 *
 * @param participantUrl The local service's base URL.
 * @returns Calls by operation name.
 *
 * @example
 * ```ts ignore
 * import { callCounts } from "./faults.ts";
 * const { StartAttachmentUpload = 0 } = await callCounts("http://127.0.0.1:8788");
 * ```
 */
export async function callCounts(participantUrl: string): Promise<Record<string, number>> {
  const response = await fetch(`${participantUrl}/_local/faults`);
  return (await response.json()).calls;
}
