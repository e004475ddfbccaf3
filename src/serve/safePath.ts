// Every path the dashboard serves is built here: from a request's raw, still-encoded path (or a run
// name), one segment at a time, refusing anything that could climb out (`..`, `.`, encoded slashes
// or backslashes, empty segments as in `//etc`, NUL), then resolved with symlinks followed and
// checked to lie inside the root. Refusals are 403; what is inside but absent is 404.
import { realpathSync, statSync } from "node:fs";
import { join, relative, isAbsolute, sep } from "node:path";

export class HttpError extends Error {
  /** `details` go into the JSON error beside the message (e.g. the parameter and the cap it broke). */
  constructor(readonly status: number, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = "HttpError";
  }
}

/** Refuses a decoded path segment that could climb out of, or jump outside, the folder it is joined to. */
export function checkSegment(segment: string, shown = segment): string {
  if (segment === "" || segment === "." || segment === "..") {
    throw new HttpError(403, `path segment ${JSON.stringify(shown)} is refused (empty, "." or "..")`);
  }
  if (/[/\\\0]/.test(segment)) {
    throw new HttpError(403, `path segment ${JSON.stringify(shown)} is refused (it holds a slash, backslash or NUL)`);
  }
  return segment;
}

/** Splits a "/"-separated, percent-encoded path into decoded segments, refusing every traversal form. */
export function decodeSegments(encoded: string): string[] {
  if (encoded === "") return [];
  return encoded.split("/").map((raw) => {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, `malformed percent-encoding in path segment ${JSON.stringify(raw)}`);
    }
    return checkSegment(segment, raw);
  });
}

/** A run name ("a" or "a/b", already decoded) as checked segments. */
export function nameSegments(name: string): string[] {
  return name.split("/").map((segment) => checkSegment(segment, name));
}

/** Whether `child` (an absolute, resolved path) is `root` itself or lies below it. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/**
 * The real path of `segments` under `root` (itself a real path), which must exist and, symlinks
 * followed, still lie inside `root`.
 * @throws HttpError 404 when absent, 403 when it resolves outside `root`.
 */
export function resolveInside(root: string, segments: string[]): string {
  const joined = join(root, ...segments);
  if (!isInside(root, joined)) throw new HttpError(403, "path leaves the served folder");
  let real: string;
  try {
    real = realpathSync(joined);
  } catch {
    throw new HttpError(404, "not found");
  }
  if (!isInside(root, real)) throw new HttpError(403, "path leads outside the served folder (symbolic link)");
  return real;
}

/** {@link resolveInside}, then requires a regular file. */
export function resolveFileInside(root: string, segments: string[]): string {
  const path = resolveInside(root, segments);
  if (!statSync(path).isFile()) throw new HttpError(404, "not a file");
  return path;
}
