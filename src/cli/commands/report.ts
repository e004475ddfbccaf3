// `actlab report`: (being built)
import type { Command } from "commander";

export function registerReport(program: Command, exit: (code: number) => void): void {
  void program;
  void exit;
}
