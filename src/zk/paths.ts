/**
 * ZooKeeper znode path rules: a port of org.apache.zookeeper.common.PathUtils.validatePath (the check the Java
 * client makes before sending any request) and the parent/child splitting the server does with lastIndexOf('/').
 * Strings are UTF-16 like Java's, so the character ranges carry over unchanged.
 */

/** Why `path` is not a valid znode path, or null when it is (PathUtils.validatePath). */
export function invalidPathReason(path: string): string | null {
  if (path.length === 0) return "Path length must be > 0";
  if (path.charAt(0) !== "/") return "Path must start with / character";
  if (path.length === 1) return null; // the root
  if (path.charAt(path.length - 1) === "/") return "Path must not end with / character";
  let lastc = "/";
  for (let i = 1; i < path.length; lastc = path.charAt(i), i++) {
    const c = path.charAt(i);
    const code = path.charCodeAt(i);
    if (code === 0) {
      return `null character not allowed @${i}`;
    } else if (c === "/" && lastc === "/") {
      return `empty node name specified @${i}`;
    } else if (c === "." && lastc === ".") {
      if (path.charAt(i - 2) === "/" && (i + 1 === path.length || path.charAt(i + 1) === "/")) {
        return `relative paths not allowed @${i}`;
      }
    } else if (c === ".") {
      if (path.charAt(i - 1) === "/" && (i + 1 === path.length || path.charAt(i + 1) === "/")) {
        return `relative paths not allowed @${i}`;
      }
    } else if (
      (code > 0x0000 && code <= 0x001f) ||
      (code >= 0x007f && code <= 0x009f) ||
      (code >= 0xd800 && code <= 0xf8ff) ||
      (code >= 0xfff0 && code <= 0xffff)
    ) {
      return `invalid character @${i}`;
    }
  }
  return null;
}

/**
 * PathUtils.validatePath(path, isSequential): a sequential create is checked as `path + "1"`, so `/queue/`
 * (children named `/queue/0000000000`, …) is a valid sequential prefix.
 */
export function isValidPath(path: string, sequential = false): boolean {
  return invalidPathReason(sequential ? path + "1" : path) === null;
}

/** The parent of a path as the server computes it (`/a` → `/`, `/a/b` → `/a`; `/` → `/`). */
export function parentPath(path: string): string {
  const lastSlash = path.lastIndexOf("/");
  return lastSlash <= 0 ? "/" : path.substring(0, lastSlash);
}

/** The last segment (`/a/b` → `b`, `/` → ``). */
export function childName(path: string): string {
  return path.substring(path.lastIndexOf("/") + 1);
}

/** Joins a parent path and a child name. */
export function joinPath(parent: string, child: string): string {
  return parent === "/" ? `/${child}` : `${parent}/${child}`;
}

/** ZooKeeper's own znodes, which can never be deleted (DataTree.isSpecialPath). */
export const SPECIAL_PATHS: readonly string[] = ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"];

/** String.format("%010d", n) as the sequential suffix (Java pads negative numbers after the sign). */
export function sequenceSuffix(n: number): string {
  return n < 0 ? "-" + String(-n).padStart(9, "0") : String(n).padStart(10, "0");
}
