// `actlab serve`: (being built)
import type { Command } from "commander";

export function registerServe(program: Command, exit: (code: number) => void): void {
  void program;
  void exit;
}
