// `actlab plot`: (being built)
import type { Command } from "commander";

export function registerPlot(program: Command, exit: (code: number) => void): void {
  void program;
  void exit;
}
