/**
 * Starts a real, standalone ZooKeeper (Debian's `zookeeper` package, 3.8) on 127.0.0.1 on a free port with its
 * data in a fresh temporary directory, waits until it answers `ruok` with `imok`, and stops it afterwards.
 * Install it with: apt-get update && apt-get install -y zookeeper
 */

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const JAVA_DIR = "/usr/share/java";
const ZK_JAR = join(JAVA_DIR, "zookeeper.jar");

export interface RealZooKeeper {
  /** "127.0.0.1:port" */
  connectString: string;
  port: number;
  stop(): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
}

/** Why a real ZooKeeper cannot be started here, or null when it can. */
export function realZooKeeperUnavailable(): string | null {
  const java = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (java.error || java.status !== 0) {
    return "no `java` on PATH (install ZooKeeper with: apt-get update && apt-get install -y zookeeper)";
  }
  if (!existsSync(ZK_JAR)) {
    return `no ${ZK_JAR} (install ZooKeeper with: apt-get update && apt-get install -y zookeeper)`;
  }
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends a four-letter word and returns the answer ("" when the connection fails). */
export function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let answer = "";
    socket.setTimeout(1000);
    socket.on("connect", () => socket.write(word));
    socket.on("data", (chunk) => (answer += chunk.toString("utf8")));
    socket.on("end", () => resolve(answer));
    socket.on("timeout", () => {
      socket.destroy();
      resolve(answer);
    });
    socket.on("error", () => resolve(""));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startRealZooKeeper(timeoutMs = 30_000): Promise<RealZooKeeper> {
  const dir = mkdtempSync(join(tmpdir(), "kafkasim-zk-"));
  const port = await freePort();
  const logFile = join(dir, "zookeeper.out");
  writeFileSync(
    join(dir, "zoo.cfg"),
    [
      "tickTime=2000",
      `dataDir=${join(dir, "data")}`,
      `clientPort=${port}`,
      "clientPortAddress=127.0.0.1",
      "admin.enableServer=false",
      "4lw.commands.whitelist=ruok,srvr",
      "maxClientCnxns=0",
      "",
    ].join("\n"),
  );
  const jars = readdirSync(JAVA_DIR)
    .filter((f) => f.endsWith(".jar"))
    .map((f) => join(JAVA_DIR, f))
    .join(":");
  const child: ChildProcess = spawn(
    "java",
    [
      "-Xmx256m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      `-Dzookeeper.log.dir=${dir}`,
      "-cp",
      jars,
      "org.apache.zookeeper.server.quorum.QuorumPeerMain",
      join(dir, "zoo.cfg"),
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );

  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      await Promise.race([exit, sleep(5000)]);
      if (!exited) {
        child.kill("SIGKILL");
        await exit;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const log = () => output + (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited) {
    if ((await fourLetterWord(port, "ruok")) === "imok") {
      return { connectString: `127.0.0.1:${port}`, port, stop, log };
    }
    await sleep(100);
  }
  const tail = log().slice(-3000);
  await stop();
  throw new Error(`real ZooKeeper did not answer ruok on port ${port} within ${timeoutMs} ms:\n${tail}`);
}
