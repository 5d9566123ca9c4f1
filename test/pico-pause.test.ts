// Pause and release on the emulated Pico, the whole firmware: the hardware
// position holds while paused (issue 9: "the hardware position must not move
// while paused, on every board"), and the release does not rewrite the
// period buffer the DMA is frozen in (issue 10: the card primed a paused BE as
// if it were stopped; the DMA model counts blocks rewritten while it read
// them). Needs the bundle (npm test builds it first).

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createPicoMachine } from "../emulator/boards/pico-wm8731.ts";
import { loadBundleFile } from "../emulator/load-bundle.ts";

const skip = existsSync("dist/pico-wm8731.js") ? false : "dist/pico-wm8731.js not built";
const S4CR = 0x40026010 + 0x18 * 4;

test("pico: pause holds the DMA's position, release resumes it without rewriting the frozen block, and a second FE starting on a paused BE does not either", { skip }, () => {
  for (const how of ["release", "second FE"] as const) {
    const board = createPicoMachine();
    const m = board.machine;
    const loaded = loadBundleFile(m, "dist/pico-wm8731.js");
    assert.ok(loaded.ok);
    assert.ok(m.runUntilOutput(/^READY /m, 2));
    m.console.type('route("media", "codec", true)');
    m.console.type('play("media", 440)');
    m.runFor(0.2);
    m.console.type('pause("media", true)');
    m.runFor(0.02);
    const dma = board.models.dma;
    const frozen = [m.peekRegister(S4CR + 4), dma.ct(4), dma.blockEnds(4)];
    m.runFor(0.1);
    assert.deepEqual([m.peekRegister(S4CR + 4), dma.ct(4), dma.blockEnds(4)], frozen, `${how}: NDTR, CT and block ends hold while paused`);
    if (how === "release") {
      m.console.type('pause("media", false)');
    } else {
      m.console.type('route("alert", "codec", true)');
      m.console.type('play("alert", 660)');
    }
    m.runFor(0.1);
    assert.ok(dma.blockEnds(4) > frozen[2], `${how}: playing again`);
    assert.equal(dma.rewrittenBlocks(4), 0, `${how}: the block the DMA was frozen in was not rewritten`);
    assert.deepEqual(m.faults, [], `${how}: no model fault`);
    assert.doesNotMatch(m.consoleText(), /^(ERROR|RACE|Uncaught) /m);
  }
});
