// Listing the files of a run folder a few levels deep (event files sit in accuracy/<series>/),
// without following symlinks or entering hidden folders such as the lock.
import { readdirSync } from "node:fs";
import { join } from "node:path";

/** Paths of the files under dir (at most maxDepth folders down) whose names pass `accept`, sorted. */
export function walkFiles(dir: string, maxDepth: number, accept: (name: string) => boolean): string[] {
  const out: string[] = [];
  const visit = (folder: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return; // removed or unreadable while listing: nothing to show from it
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory() && depth < maxDepth && !entry.name.startsWith(".")) visit(path, depth + 1);
      else if (entry.isFile() && accept(entry.name)) out.push(path);
    }
  };
  visit(dir, 0);
  return out.sort();
}
