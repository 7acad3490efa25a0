import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveRequest, startViewServer, webRoot } from "../../src/cli/view-command.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "kafkasim-view-"));
const trace = join(dir, "run.jsonl");
writeFileSync(trace, `${JSON.stringify({ format: "kafkasim-trace", formatVersion: 1, kafkasim: "0.1.0", scenario: "x", seed: 1, nodes: [] })}\n`);

function cli(args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function get(port: number, path: string, method = "GET"): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers["content-type"] ?? "") }));
    });
    req.on("error", reject);
    req.end();
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

  it("prints the URL and serves until stopped", async function () {
    this.timeout(20000);
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), "view", trace, "--no-open"], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /http:\/\/127\.0\.0\.1:(\d+)\/\?trace=\/trace\.jsonl/.exec(out);
          if (match) resolve(match[0]);
        });
        child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const port = Number(new URL(url).port);
      expect((await get(port, "/trace.jsonl")).body).to.include("kafkasim-trace");
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
