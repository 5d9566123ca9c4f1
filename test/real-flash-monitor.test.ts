// npm run flash and npm run monitor against the real Espruino 2v29
// interpreter's telnet console (issue 8, part 4): `espruino --telnet` (the
// stock Linux build) listens on the fixed port 2323, so it runs in a
// network namespace of its own (ip netns, as root), and so do the two
// commands. Flashed with the official upload tool, the bundle must be in
// Storage and answer; the interpreter started again in the same directory
// (its Storage is espruino.flash there) must boot it; the monitor's script
// must get the console's answers into its log. Skipped, saying why, where
// the interpreter is absent or no namespace can be made.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EspruinoSession, findEspruino, networkNamespace } from "../scripts/lib/real-espruino.ts";

const ROOT = resolve(import.meta.dirname, "..");
const stock = findEspruino("stock");
if (stock.misconfigured) throw new Error(stock.reason!);
const FIRMWARE_VERSION = /READY dpcm-espruino (\S+) /.exec(readFileSync(join(ROOT, "dist/generic.js"), "utf8"))![1]!;

/** Run a command, its output collected; SIGKILL after `timeoutMs`. */
function run(argv: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((done) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, out });
    }),
  );
}

/** `espruino --telnet` in `dir`, in the namespace, up to its idle prompt. */
async function telnetConsole(bin: string, exec: string[], dir: string): Promise<EspruinoSession> {
  const session = new EspruinoSession({ path: bin, args: ["--telnet"], wrapper: exec, cwd: dir, timeoutMs: 120_000 });
  await session.idle(5000);
  return session;
}

test("npm run flash and npm run monitor over the real interpreter's telnet console", async (t) => {
  if (!stock.path) {
    t.skip(stock.reason!);
    return;
  }
  const ns = networkNamespace("dpcm-flash");
  if ("reason" in ns) {
    t.skip(`no network namespace for the fixed telnet port 2323 (${ns.reason})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "real-flash-"));
  let session: EspruinoSession | null = null;
  try {
    session = await telnetConsole(stock.path, ns.exec, dir);
    // 1. Flash: build skipped (npm test built it), no pause after each Storage chunk (a throttled
    // upload of the same bundle took 11 s here), selftest() after.
    const flash = await run([...ns.exec, "npm", "run", "--silent", "flash", "--", "--board", "generic", "--port", "tcp://127.0.0.1:2323", "--no-build", "--no-throttle", "--selftest"]);
    assert.equal(flash.code, 0, flash.out);
    assert.match(flash.out, /^board: LINUX, Espruino 2v29 \(needs 2v29 or later\): ok$/m);
    assert.match(flash.out, /^verify: Storage \.bootcde = dist\/generic\.js \(\d+ bytes, CRC32 0x[0-9a-f]{8}\)$/m);
    assert.match(flash.out, new RegExp(`^OK flashed dpcm-espruino ${FIRMWARE_VERSION.replace(/\./g, "\\.")} to LINUX on tcp://127\\.0\\.0\\.1:2323 `, "m"));
    assert.match(flash.out, /SELFTEST done pass=\d+ fail=0/);
    t.diagnostic(flash.out.split("\n").filter((l) => /^OK flashed/.test(l))[0] ?? "");

    // 2. It runs at every boot: a new interpreter in the same directory starts it from Storage.
    await session.kill();
    session = await telnetConsole(stock.path, ns.exec, dir);
    await session.waitFor(/^READY .*\n/m, 5000);
    assert.match(session.text(), new RegExp(`^READY dpcm-espruino ${FIRMWARE_VERSION.replace(/\./g, "\\.")} board=generic espruino=2v29 `, "m"));

    // 3. Monitor with a script: the answers are in its log, the summary on stderr.
    const script = join(dir, "script.txt");
    writeFileSync(script, '0 route("media", "line", true)\n0 play("media", 440)\n0.4 stats()\n0.5 races()\n');
    const log = join(dir, "monitor.log");
    const monitor = await run([...ns.exec, "npm", "run", "--silent", "monitor", "--", "--port", "tcp://127.0.0.1:2323", "--script", script, "--log", log, "--no-wait", "--color", "never"]);
    assert.equal(monitor.code, 0, monitor.out);
    const lines = readFileSync(log, "utf8").split("\n");
    for (const want of [/^--- \S+ connected to tcp:\/\/127\.0\.0\.1:2323$/, /^OK route media line true$/, /^OK play media 440 Hz$/, /^STATS be=line state=START users=1 start_count=1 /, /^RACES total=0 /]) {
      assert.ok(
        lines.some((l) => want.test(l)),
        `${want} not in the monitor's log:\n${lines.join("\n")}`,
      );
    }
    assert.match(monitor.out, /races logged: 0/);
  } finally {
    if (session) await session.kill();
    ns.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
