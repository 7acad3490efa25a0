import { expect } from "chai";
import { cli, ROOT } from "./run-cli.ts";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveRequest, startViewServer, stripSourceMappingUrl, webRoot } from "../../src/cli/view-command.ts";

const dir = mkdtempSync(join(tmpdir(), "kafkasim-view-"));
const trace = join(dir, "run.jsonl");
writeFileSync(trace, `${JSON.stringify({ format: "kafkasim-trace", formatVersion: 1, kafkasim: "0.1.0", scenario: "x", seed: 1, nodes: [] })}\n`);


/** A request to the server on 127.0.0.1:port; `host` overrides the Host header, null sends none (setHost: false). */
function get(port: number, path: string, method = "GET", host?: string | null): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const options = host === undefined ? {} : host === null ? { setHost: false } : { headers: { Host: host } };
    const req = request({ host: "127.0.0.1", port, path, method, ...options }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers["content-type"] ?? "") }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Writes a raw request on a socket and returns the status line's code and the body (HTTP/1.0 needs no Host). */
function raw(port: number, text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text)); // HTTP/1.0: the server closes after answering
    let out = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (out += chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(out);
      resolve({ status: status === null ? 0 : Number(status[1]), body: out.slice(out.indexOf("\r\n\r\n") + 4) });
    });
  });
}

describe("kafkasim view", () => {
  const root = webRoot();

  it("maps request paths to the viewer's files and the trace only", () => {
    expect(resolveRequest(root, trace, "/")).to.equal(join(root, "index.html"));
    expect(resolveRequest(root, trace, "/trace.jsonl")).to.equal(trace);
    expect(resolveRequest(root, null, "/trace.jsonl")).to.equal(null);
    expect(resolveRequest(root, trace, "/style.css")).to.equal(join(root, "style.css"));
    expect(resolveRequest(root, trace, "/dist/viewer.js?x=1")).to.equal(join(root, "dist", "viewer.js"));
    for (const bad of ["/../package.json", "/dist/../../package.json", "/%2e%2e/package.json", "/dist/%2e%2e/%2e%2e/README.md", "/src/ui/app.ts", "/package.json", "/%00", "/%E0%A4%A"]) {
      expect(resolveRequest(root, trace, bad), bad).to.equal(null);
    }
  });

  it("serves on 127.0.0.1 and refuses other paths and methods", async () => {
    const server = await startViewServer(root, trace, 0);
    try {
      const address = server.address() as AddressInfo;
      expect(address.address).to.equal("127.0.0.1");
      const port = address.port;
      const index = await get(port, "/");
      expect(index.status).to.equal(200);
      expect(index.type).to.include("text/html");
      expect(index.body).to.include("dist/viewer.js");
      const served = await get(port, "/trace.jsonl");
      expect(served.status).to.equal(200);
      expect(served.body).to.include("kafkasim-trace");
      expect((await get(port, "/../package.json")).status).to.equal(404);
      expect((await get(port, "/%2e%2e/%2e%2e/etc/passwd")).status).to.equal(404);
      expect((await get(port, "/", "POST")).status).to.equal(405);
    } finally {
      server.close();
    }
  });

  it("refuses a request whose Host is not 127.0.0.1:PORT or localhost:PORT (DNS rebinding)", async () => {
    const server = await startViewServer(root, trace, 0);
    const other = await startViewServer(root, trace, 0);
    try {
      const port = (server.address() as AddressInfo).port;
      const otherPort = (other.address() as AddressInfo).port;
      for (const host of [`evil.example:${port}`, `127.0.0.1:${otherPort}`, "127.0.0.1", `localhost.evil.example:${port}`]) {
        const refused = await get(port, "/trace.jsonl", "GET", host);
        expect(refused.status, host).to.equal(421);
        expect(refused.type, host).to.include("text/plain");
        expect(refused.body, host).to.match(/^misdirected request/);
        expect(refused.body, host).not.to.include("kafkasim-trace");
      }
      expect((await get(port, "/", "HEAD", `evil.example:${port}`)).status).to.equal(421);
      expect((await get(port, "/", "POST", `evil.example:${port}`)).status).to.equal(421);
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
        const accepted = await get(port, "/trace.jsonl", "GET", host);
        expect(accepted.status, host).to.equal(200);
        expect(accepted.body, host).to.include("kafkasim-trace");
      }
    } finally {
      server.close();
      other.close();
    }
  });

  it("refuses a request without a Host header", async () => {
    const server = await startViewServer(root, trace, 0);
    try {
      const port = (server.address() as AddressInfo).port;
      const http11 = await get(port, "/trace.jsonl", "GET", null);
      expect(http11.status).to.equal(421);
      expect(http11.body).not.to.include("kafkasim-trace");
      // HTTP/1.0 does not require Host, so Node's own check lets it through: the server must refuse it itself.
      const http10 = await raw(port, "GET /trace.jsonl HTTP/1.0\r\n\r\n");
      expect(http10.status).to.equal(421);
      expect(http10.body).not.to.include("kafkasim-trace");
      expect((await raw(port, `GET /trace.jsonl HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\n\r\n`)).status).to.equal(200);
    } finally {
      server.close();
    }
  });

  it("serves source maps, and points the bundle at them, only with --source-maps", async () => {
    expect(resolveRequest(root, trace, "/dist/viewer.js.map")).to.equal(null);
    expect(resolveRequest(root, trace, "/dist/viewer.js.map", true)).to.equal(join(root, "dist", "viewer.js.map"));
    expect(stripSourceMappingUrl('a();\n//# sourceMappingURL=viewer.js.map\n')).to.equal("a();\n");
    const onDisk = readFileSync(join(root, "dist", "viewer.js"), "utf8");
    expect(onDisk, "the build writes the comment; the server decides").to.match(/^\/\/# sourceMappingURL=viewer\.js\.map$/m);
    const plain = await startViewServer(root, trace, 0);
    const withMaps = await startViewServer(root, trace, 0, { sourceMaps: true });
    try {
      const port = (plain.address() as AddressInfo).port;
      const map = await get(port, "/dist/viewer.js.map");
      expect(map.status).to.equal(404);
      expect(map.body).not.to.include("sources");
      const js = await get(port, "/dist/viewer.js");
      expect(js.status).to.equal(200);
      expect(js.type).to.include("text/javascript");
      expect(js.body).not.to.include("sourceMappingURL");
      expect(js.body).to.equal(stripSourceMappingUrl(onDisk));
      expect((await get(port, "/dist/viewer.js", "HEAD")).status).to.equal(200);
      const mapsPort = (withMaps.address() as AddressInfo).port;
      const served = await get(mapsPort, "/dist/viewer.js.map");
      expect(served.status).to.equal(200);
      expect(served.type).to.include("application/json");
      expect(JSON.parse(served.body)).to.have.property("mappings");
      const jsWithMaps = await get(mapsPort, "/dist/viewer.js");
      expect(jsWithMaps.body).to.equal(onDisk);
    } finally {
      plain.close();
      withMaps.close();
    }
  });

  /** Starts `kafkasim view TRACE --no-open ...extra` and returns the child and the port it prints. */
  async function serve(extra: string[]): Promise<{ child: ReturnType<typeof spawn>; port: number }> {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "view", trace, "--no-open", ...extra], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout?.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /http:\/\/127\.0\.0\.1:(\d+)\/\n/.exec(out);
          if (match) resolve(match[0]);
        });
        child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      return { child, port: Number(new URL(url).port) };
    } catch (error) {
      child.kill("SIGTERM");
      throw error;
    }
  }

  it("prints the URL and serves until stopped", async function () {
    this.timeout(20000);
    const { child, port } = await serve([]);
    try {
      expect((await get(port, "/trace.jsonl")).body).to.include("kafkasim-trace");
      expect((await get(port, "/trace.jsonl", "GET", `evil.example:${port}`)).status).to.equal(421);
      expect((await get(port, "/dist/viewer.js.map")).status).to.equal(404);
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("stops when the process that started it dies (as under npx)", async function () {
    this.timeout(30000);
    // An intermediate process (npx's role) starts the viewer, prints its pid, and is then killed outright.
    const launcher = `const c = require("node:child_process").spawn(process.execPath, ${JSON.stringify(["--import", "tsx", join(ROOT, "src/cli/main.ts"), "view", trace, "--no-open"])}, { stdio: ["ignore", "pipe", "inherit"] });
      c.stdout.on("data", (d) => { if (/kafkasim viewer/.test(String(d))) console.log("viewer pid " + c.pid); });
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ["-e", launcher], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "inherit"] });
    const viewerPid = await new Promise<number>((resolve, reject) => {
      let out = "";
      parent.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /viewer pid (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      parent.on("exit", (code) => reject(new Error(`launcher exited ${code}: ${out}`)));
      setTimeout(() => {
        parent.kill("SIGKILL");
        reject(new Error(`the viewer did not start: ${out}`));
      }, 15_000).unref();
    });
    // Alive: running or sleeping; a zombie (state Z: exited, not yet reaped by init) counts as stopped.
    const alive = (): boolean => {
      try {
        return readFileSync(`/proc/${viewerPid}/stat`, "utf8").split(" ")[2] !== "Z";
      } catch {
        return false;
      }
    };
    expect(alive()).to.equal(true);
    parent.kill("SIGKILL");
    const deadline = Date.now() + 10_000;
    while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const stillAlive = alive();
    if (stillAlive) process.kill(viewerPid, "SIGKILL");
    expect(stillAlive, "the viewer outlived its parent").to.equal(false);
  });

  it("serves the source maps with --source-maps", async function () {
    this.timeout(20000);
    const { child, port } = await serve(["--source-maps"]);
    try {
      expect((await get(port, "/dist/viewer.js.map")).status).to.equal(200);
      expect((await get(port, "/dist/viewer.js")).body).to.include("//# sourceMappingURL=viewer.js.map");
    } finally {
      child.kill("SIGTERM");
    }
  });

  it("refuses a missing trace, a file that is not a trace and a bad port with one line and exit 2", () => {
    const missing = cli(["view", join(dir, "nope.jsonl"), "--no-open"]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr.trim().split("\n")).to.have.length(1);
    expect(missing.stderr).to.include("no such file");
    const notTrace = join(dir, "scenario.json");
    writeFileSync(notTrace, '{"name": "x"}\n');
    const wrong = cli(["view", notTrace, "--no-open"]);
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.include('line 1: expected a trace header with "format": "kafkasim-trace"');
    const port = cli(["view", trace, "--port", "http", "--no-open"]);
    expect(port.code).to.equal(2);
    expect(port.stderr).to.include("--port: expected a port number");
  });
});
