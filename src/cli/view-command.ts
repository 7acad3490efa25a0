/**
 * `kafkasim view [TRACE] [--port N] [--no-open] [--source-maps]`: serves the built web viewer (web/index.html,
 * web/style.css, web/dist/*) and, when given, the trace (as /trace.jsonl) on 127.0.0.1 only — never on every
 * interface — and prints the URL. Only those files are served: any other path, an encoded `..`, or a method
 * other than GET and HEAD is refused. A request whose Host header is not exactly `127.0.0.1:PORT` or
 * `localhost:PORT` (PORT: the port listened on), or that has none, is refused with 421 Misdirected Request:
 * a page on another site that rebinds its own name to 127.0.0.1 (DNS rebinding) cannot read the trace.
 * Source maps (web/dist/*.map) are served, and advertised by the bundle's `//# sourceMappingURL=` comment,
 * only with --source-maps; without it they are 404 and the comment is cut from the JavaScript served.
 * A missing trace, a file that is not a kafkasim trace, a bad port or a viewer that is not built is one line
 * and exit 2.
 */

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, createReadStream } from "node:fs";
import { createServer, type Server } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { TRACE_FORMAT } from "../sim/trace.ts";
import { UsageError } from "./errors.ts";

export interface ViewOptions {
  port?: string;
  /** commander's --no-open: false when given. */
  open?: boolean;
  /** --source-maps: serve web/dist/*.map and leave the bundle's sourceMappingURL comment in. */
  sourceMaps?: boolean;
}

export interface ViewServerOptions {
  /** Serve web/dist/*.map and the bundle's sourceMappingURL comment (default: neither). */
  sourceMaps?: boolean;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".png": "image/png",
  ".jsonl": "application/x-ndjson; charset=utf-8",
};

/** The package's web/ directory: found by walking up from this module (src/cli/ under tsx, dist/ when bundled). */
export function webRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "web", "index.html")) && existsSync(join(dir, "package.json"))) return join(dir, "web");
    dir = dirname(dir);
  }
  throw new UsageError("cannot find the viewer's web/ directory next to the kafkasim package");
}

/** Checks the first line of a trace file without reading the whole of it. */
export function checkTraceFile(file: string): void {
  let fd: number;
  try {
    if (!statSync(file).isFile()) throw new UsageError(`${file}: cannot read the trace (is a directory)`);
    fd = openSync(file, "r");
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: cannot read the trace (${code === "ENOENT" ? "no such file" : (code ?? "unreadable")})`);
  }
  const buffer = Buffer.alloc(64 * 1024);
  const n = readSync(fd, buffer, 0, buffer.length, 0);
  closeSync(fd);
  const text = buffer.subarray(0, n).toString("utf8");
  const end = text.indexOf("\n");
  const first = end < 0 ? text : text.slice(0, end);
  let header: unknown;
  try {
    header = JSON.parse(first);
  } catch {
    throw new UsageError(`${file}: line 1: expected a kafkasim trace header (JSON), found ${first.length === 0 ? "an empty file" : "invalid JSON"}`);
  }
  if (typeof header !== "object" || header === null || (header as { format?: unknown }).format !== TRACE_FORMAT) {
    throw new UsageError(`${file}: line 1: expected a trace header with "format": "${TRACE_FORMAT}"`);
  }
}

export function parsePort(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError(`--port: expected a port number 0–65535, found "${text}"`);
  return Number(text);
}

/**
 * Resolves a request path to a file the viewer may serve, or null. `/` is index.html; `/trace.jsonl` the
 * trace; everything else must resolve inside web/ to index.html, style.css or a file of web/dist/ — a source
 * map (`.map`) only when `sourceMaps` is set.
 */
export function resolveRequest(root: string, trace: string | null, rawPath: string, sourceMaps = false): string | null {
  let path: string;
  try {
    path = decodeURIComponent(rawPath.split("?")[0].split("#")[0]);
  } catch {
    return null;
  }
  if (path.includes("\0") || path.split("/").includes("..")) return null;
  if (path === "/" || path === "/index.html") return join(root, "index.html");
  if (path === "/trace.jsonl") return trace;
  const file = resolve(root, "." + path);
  const allowed = file === join(root, "style.css") || (file.startsWith(join(root, "dist") + sep) && (sourceMaps || extname(file) !== ".map"));
  return allowed ? file : null;
}

/**
 * Whether a request's Host header names this server: exactly `127.0.0.1:PORT` or `localhost:PORT`. Anything
 * else — another name (a DNS-rebinding page's own domain), another port, no Host at all — is refused.
 */
export function hostAllowed(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** Cuts the `//# sourceMappingURL=…` comment lines (esbuild writes one, last) out of a JavaScript bundle. */
export function stripSourceMappingUrl(source: string): string {
  return source.replace(/^\/\/[#@] sourceMappingURL=[^\n]*\n?/gm, "");
}

export function startViewServer(root: string, trace: string | null, port: number, options: ViewServerOptions = {}): Promise<Server> {
  const sourceMaps = options.sourceMaps === true;
  // requireHostHeader: false lets a request without Host reach the check below (and its 421), like any other
  // misdirected one, instead of Node's bare 400 for HTTP/1.1 only (an HTTP/1.0 one would pass).
  const server = createServer({ requireHostHeader: false }, (request, response) => {
    const headers = { "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store" };
    const address = server.address();
    const listening = typeof address === "object" && address !== null ? address.port : port;
    if (!hostAllowed(request.headers.host, listening)) {
      const body = `misdirected request: Host must be 127.0.0.1:${listening} or localhost:${listening}\n`;
      response.writeHead(421, { ...headers, "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(body), Connection: "close" });
      response.end(request.method === "HEAD" ? undefined : body);
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { ...headers, Allow: "GET, HEAD" }).end();
      return;
    }
    const file = resolveRequest(root, trace, request.url ?? "/", sourceMaps);
    if (file === null) {
      response.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new Error("not a file");
      size = stat.size;
    } catch {
      response.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    const type = TYPES[extname(file)] ?? (file === trace ? TYPES[".jsonl"] : "application/octet-stream");
    if (!sourceMaps && file !== trace && extname(file) === ".js") {
      // The bundle is small (~160 kB): read it whole to cut the comment that would point at a 404.
      let body: Buffer;
      try {
        body = Buffer.from(stripSourceMappingUrl(readFileSync(file, "utf8")), "utf8");
      } catch {
        response.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("not found\n");
        return;
      }
      response.writeHead(200, { ...headers, "Content-Type": type, "Content-Length": body.length });
      response.end(request.method === "HEAD" ? undefined : body);
      return;
    }
    response.writeHead(200, { ...headers, "Content-Type": type, "Content-Length": size });
    if (request.method === "HEAD") response.end();
    else createReadStream(file).pipe(response);
  });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolvePromise(server);
    });
  });
}

export async function viewCommand(trace: string | undefined, options: ViewOptions): Promise<number> {
  const port = parsePort(options.port);
  const root = webRoot();
  if (!existsSync(join(root, "dist", "viewer.js"))) throw new UsageError("the viewer is not built (web/dist/viewer.js is missing): run npm run build");
  const traceFile = trace === undefined ? null : resolve(trace);
  if (traceFile !== null) checkTraceFile(traceFile);
  let server: Server;
  try {
    server = await startViewServer(root, traceFile, port, { sourceMaps: options.sourceMaps === true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`--port ${port}: cannot listen on 127.0.0.1 (${code === "EADDRINUSE" ? "the port is in use" : (code ?? "error")})`);
  }
  const address = server.address();
  const actual = typeof address === "object" && address !== null ? address.port : port;
  // The plain URL: the viewer opens the served trace itself (it asks for /trace.jsonl when no other is named).
  const url = `http://127.0.0.1:${actual}/`;
  process.stdout.write(`kafkasim viewer: ${url}\n${traceFile !== null ? `serving ${traceFile}\n` : ""}Ctrl-C stops it.\n`);
  if (options.open !== false) openBrowser(url);
  return new Promise((resolvePromise) => {
    let stopped = false;
    const parentWatch = watchParent(() => stop());
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      clearInterval(parentWatch);
      server.close(() => resolvePromise(0));
      // A browser's keep-alive connections would hold the server open.
      server.closeAllConnections();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    process.once("SIGHUP", stop);
  });
}

/** How often the server checks that the process that started it is still there. */
const PARENT_CHECK_MS = 1000;

/**
 * Calls `gone` once the parent process has exited: started through npx (or a script), the viewer is a child of that
 * process, and when it is killed the child would otherwise live on, serving. An exited parent shows as a changed
 * parent pid (the child is re-parented to init or a subreaper). The timer does not keep the process alive.
 */
export function watchParent(gone: () => void, interval = PARENT_CHECK_MS): NodeJS.Timeout {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) gone();
  }, interval);
  timer.unref();
  return timer;
}

function openBrowser(url: string): void {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const child = spawn(command, [url], { stdio: "ignore", detached: true });
    child.on("error", () => process.stdout.write("(could not open a browser: open the URL above)\n"));
    child.unref();
  } catch {
    process.stdout.write("(could not open a browser: open the URL above)\n");
  }
}
