/**
 * Deterministic fault injection for the local Participant Service: the next N calls of an
 * operation are throttled, fail, stall or lose their connection. Off until asked for.
 *
 * @module
 */

/** What happens to an affected call. */
export type FaultKind = "throttle" | "error" | "delay" | "drop";

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
    let state = (rule.seed ?? 1) >>> 0 || 1;
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 0x1_0000_0000;
    };
    this.#rules.push({ rule, left: rule.count ?? 1, next });
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
  if (!["throttle", "error", "delay", "drop"].includes(rule.kind as string)) {
    return "kind must be throttle, error, delay or drop";
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
