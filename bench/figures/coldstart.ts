import type { Plan } from "../plan.ts";
import type { FigureResult } from "../report.ts";
export function coldStartFigure(_plan: Plan, _log: (line: string) => void): Promise<FigureResult> {
  throw new Error("not yet");
}
