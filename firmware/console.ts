// The commands a user types at the Espruino prompt. Every command checks its
// arguments first and prints "ERROR <command>: <reason>" without changing
// anything when they are wrong, or "OK <command> ..." when done. Context: main.

import type { Card } from "./dpcm/card";
import { BE_STATE_NAMES, BackEnd, FE_STATE_NAMES, FrontEnd, LinkState } from "./dpcm/dpcm";
import { feDrain, feInjectXrun, feOpen, feTrigger, MAX_PERIOD_FRAMES, MIN_PERIOD_FRAMES } from "./dpcm/fe";
import { findLink, route } from "./dpcm/graph";
import { Player } from "./player";
import { CpuLoad } from "./load";
import { irq } from "./irq";
import { ring, KIND_NAMES, RACE_KINDS, raceTotal, CAPACITY_RECORDS } from "./log";
import { Cmd, CMD_NAMES, HW_TRIGGERS } from "./pcm";
import { selftest } from "./selftest";
import { nativeSampleOps } from "./native/mix";
import { decimal } from "./format";

/** What the boot code knows about the interrupt, for stats(). */
export interface ConsoleInfo {
  version: string;
  /** How the interrupt handler runs (the board's description). */
  interrupt: string;
  /** Which mixer adds a second FE into a BE: native or JavaScript, and why. */
  mixer: string;
  /** The CPU load meter, once boot has made it. */
  load: CpuLoad | null;
}

/** "12.3%" from a share 0..1. Context: main. */
function pct(share: number): string {
  return (share * 100).toFixed(1) + "%";
}

/** Context: main. */
function fail(command: string, message: string): void {
  print("ERROR " + command + ": " + message);
}

/** Context: main. */
function us(seconds: number): string {
  return Math.round(seconds * 1e6) + " us";
}

const ORDINALS = ["first", "second", "third"];

/** Install the commands on `global`. Context: main. */
export function installConsole(card: Card, player: Player, info: ConsoleInfo): void {
  /** Context: main. */
  function frontEnd(command: string, name: unknown): FrontEnd | null {
    if (typeof name !== "string") {
      fail(command, "the front end must be a name in quotes, one of " + card.feNames.join(", "));
      return null;
    }
    const fe = card.feByName(name);
    if (!fe) fail(command, "unknown front end \"" + name + "\" (known: " + card.feNames.join(", ") + ")");
    return fe;
  }

  /** Context: main. */
  function backEnd(command: string, name: unknown): BackEnd | null {
    if (typeof name !== "string") {
      fail(command, "the back end must be a name in quotes, one of " + card.beNames.join(", "));
      return null;
    }
    const be = card.beByName(name);
    if (!be) fail(command, "unknown back end \"" + name + "\" (known: " + card.beNames.join(", ") + ")");
    return be;
  }

  /** Context: main. */
  function flag(command: string, position: number, value: unknown, meaning: string): boolean {
    if (typeof value === "boolean") return true;
    fail(command, "the " + ORDINALS[position] + " argument must be " + meaning);
    return false;
  }

  /** A command on one FE that ends in a trigger or an FE operation: prints OK or the refusal. Context: main. */
  function feCommand(command: string, feName: unknown, action: (fe: FrontEnd) => string, done: string): void {
    const fe = frontEnd(command, feName);
    if (!fe) return;
    const err = action(fe);
    if (err) fail(command, err);
    else print("OK " + command + " " + fe.name + done + " (state " + FE_STATE_NAMES[fe.state] + ")");
  }

  global.play = function (feName: unknown, frequency: unknown, seconds: unknown): void {
    const fe = frontEnd("play", feName);
    if (!fe) return;
    if (typeof frequency !== "number" || !(frequency > 0)) {
      fail("play", "frequency must be a number of Hz above 0, e.g. play(\"" + fe.name + "\", 440)");
      return;
    }
    if (seconds !== undefined && (typeof seconds !== "number" || !(seconds > 0))) {
      fail("play", "seconds must be a number above 0, or left out to play until stop()");
      return;
    }
    const err = player.play(fe, frequency, seconds === undefined ? -1 : (seconds as number));
    if (err) fail("play", err);
    else print("OK play " + fe.name + " " + decimal(frequency, 3) + " Hz" + (seconds === undefined ? "" : " for " + decimal(seconds as number, 3) + " s"));
  };

  global.open = function (feName: unknown, rate: unknown, periodFrames: unknown): void {
    const fe = frontEnd("open", feName);
    if (!fe) return;
    if (typeof rate !== "number" || !(rate > 0) || Math.floor(rate) !== rate) {
      fail("open", "the rate must be a whole number of Hz, e.g. open(\"" + fe.name + "\", 48000)");
      return;
    }
    if (periodFrames !== undefined && (typeof periodFrames !== "number" || Math.floor(periodFrames) !== periodFrames || periodFrames <= 0)) {
      fail("open", "the period must be a whole number of frames (" + MIN_PERIOD_FRAMES + " to " + MAX_PERIOD_FRAMES + "), or left out");
      return;
    }
    const err = feOpen(card, fe, rate, periodFrames === undefined ? 0 : (periodFrames as number));
    if (err) fail("open", err);
    else print("OK open " + fe.name + " " + fe.params.rate + " Hz, " + fe.params.periodFrames + "-frame periods");
  };

  global.stop = function (feName: unknown): void {
    const fe = frontEnd("stop", feName);
    if (!fe) return;
    player.stop(fe);
    print("OK stop " + fe.name);
  };

  global.pause = function (feName: unknown, on: unknown): void {
    const fe = frontEnd("pause", feName);
    if (!fe || !flag("pause", 1, on, "true (pause) or false (release)")) return;
    feCommand("pause", fe.name, function (f: FrontEnd): string {
      return feTrigger(card, f, on ? Cmd.PausePush : Cmd.PauseRelease);
    }, " " + on);
  };

  global.suspend = function (feName: unknown): void {
    feCommand("suspend", feName, function (fe: FrontEnd): string {
      return feTrigger(card, fe, Cmd.Suspend);
    }, "");
  };

  global.resume = function (feName: unknown): void {
    feCommand("resume", feName, function (fe: FrontEnd): string {
      return feTrigger(card, fe, Cmd.Resume);
    }, "");
  };

  global.drain = function (feName: unknown): void {
    feCommand("drain", feName, function (fe: FrontEnd): string {
      return feDrain(card, fe);
    }, "");
  };

  global.xrun = function (feName: unknown): void {
    feCommand("xrun", feName, function (fe: FrontEnd): string {
      return feInjectXrun(card, fe);
    }, "");
  };

  global.route = function (feName: unknown, beName: unknown, on: unknown): void {
    const fe = frontEnd("route", feName);
    if (!fe) return;
    const be = backEnd("route", beName);
    if (!be || !flag("route", 2, on, "true (connect) or false (disconnect)")) return;
    const err = route(card, fe, be, on as boolean);
    if (err) fail("route", err);
    else print("OK route " + fe.name + " " + be.name + " " + on);
  };

  global.routes = function (): void {
    let header = "ROUTES fe\\be";
    for (let b = 0; b < card.bes.length; b++) header += " " + card.bes[b].name;
    print(header);
    for (let f = 0; f < card.fes.length; f++) {
      const fe = card.fes[f];
      let line = "ROUTE " + fe.name + " " + FE_STATE_NAMES[fe.state];
      for (let b = 0; b < card.bes.length; b++) {
        const be = card.bes[b];
        const link = findLink(fe, be);
        let cell = card.routed(fe, be) ? "on" : "off";
        if (link) {
          cell += link.state === LinkState.Running ? "/running" : link.state === LinkState.Paused ? "/paused" : link.state === LinkState.Suspended ? "/suspended" : "/linked";
        }
        line += " " + be.name + "=" + cell;
      }
      print(line);
    }
  };

  global.stats = function (): void {
    for (let b = 0; b < card.bes.length; b++) {
      const be = card.bes[b];
      let line =
        "STATS be=" + be.name + " state=" + BE_STATE_NAMES[be.state] + " users=" + be.users + " start_count=" + be.startCount +
        " pause_count=" + be.pauseCount + " suspend_count=" + be.suspendCount + " rate=" + be.params.rate + " periods=" + be.periods;
      for (let c = 0; c < HW_TRIGGERS; c++) line += " hw_" + CMD_NAMES[c].toLowerCase() + "=" + be.hwTriggers[c];
      for (let f = 0; f < card.fes.length; f++) {
        const i = card.route(card.fes[f], be);
        const name = card.fes[f].name;
        line += " played." + name + "=" + card.played[i] + " dropped." + name + "=" + card.dropped[i] + " silent." + name + "=" + card.silent[i];
      }
      print(line);
    }
    for (let f = 0; f < card.fes.length; f++) {
      const fe = card.fes[f];
      print(
        "STATS fe=" + fe.name + " state=" + FE_STATE_NAMES[fe.state] + " rate=" + fe.params.rate + " period=" + fe.params.periodFrames +
          " written=" + fe.written + " xruns=" + fe.xruns + " recoveries=" + player.voices[f].recoveries,
      );
    }
    print(
      "STATS irq runs=" + irq.handlerRuns + " deferred=" + irq.deferredRuns + " longest_handler=" + us(irq.longestHandler) +
        " longest_latency=" + us(card.longestLatency) + " longest_masked=" + us(irq.longestMasked) +
        " errors=" + irq.handlerErrors + (irq.handlerErrors ? " last_error=" + irq.lastError : "") + " mode=\"" + info.interrupt + "\"",
    );
    const load = info.load;
    if (load) {
      print(
        "STATS cpu irq=" + pct(load.irqLoad) + " irq_max=" + pct(load.irqMax) + " audio=" + pct(load.audioLoad) + " audio_max=" +
          pct(load.audioMax) + " total_max=" + pct(load.totalMax) + " per=" + Math.round(load.period * 1000) + " ms windows=" + load.windows,
      );
    }
    print("STATS mixer " + info.mixer);
    print("STATS links in_use=" + card.links.allocated + " of " + card.links.items.length + " alloc_failures=" + card.links.failures);
    const mem = process.memory();
    print("STATS memory free=" + mem.free + " usage=" + mem.usage + " total=" + mem.total + " blocksize=" + mem.blocksize);
  };

  global.races = function (): void {
    let line = "RACES total=" + raceTotal();
    for (let k = 0; k < RACE_KINDS; k++) line += " " + KIND_NAMES[k] + "=" + ring.counts[k];
    print(line + " log_capacity=" + CAPACITY_RECORDS);
  };

  global.unsafe = function (on: unknown): void {
    if (!flag("unsafe", 0, on, "true or false")) return;
    irq.unsafe = on as boolean;
    print(on ? "OK unsafe true: critical sections and the trigger deferral are OFF; races can happen" : "OK unsafe false");
  };

  global.selftest = function (): void {
    selftest(print);
  };

  global.help = function (): void {
    print("dpcm-espruino " + info.version + " on " + card.board.name + ": front ends " + card.feNames.join(", ") + "; back ends:");
    for (let b = 0; b < card.bes.length; b++) print("  " + card.bes[b].name + ": " + card.bes[b].description);
    print("route(fe, be, true|false)   connect or disconnect, live");
    print("play(fe, hz[, seconds])     start or retune a tone (opens the FE at the rate its routes need)");
    print("open(fe, hz[, frames])      open an FE at a chosen rate and period size before play()");
    print("stop(fe)  drain(fe)         stop and close now / play out what was written, then stop");
    print("pause(fe, true|false)  suspend(fe)  resume(fe)  xrun(fe)");
    print("routes()  stats()  races()  selftest()");
    print("unsafe(true|false)          remove the critical sections to reproduce races");
    print("Log lines: RACE/EVT t= kind= ctx= fe= be= link= at= [n=]; WARN/OK lines from the watchdog");
  };

  // For the host tools: the race explorer reaches the player to stop an FE's
  // refill; npm run calibrate installs the native operations around a
  // stand-in routine on the Linux interpreter, which cannot run Thumb-2.
  global.DPCM = { version: info.version, card: card, player: player, irq: irq, ring: ring, nativeSampleOps: nativeSampleOps };
}
