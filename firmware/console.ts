// The commands a user types at the Espruino prompt. Every command checks its
// arguments first and prints "ERROR <command>: <reason>" without changing
// anything when they are wrong.

import { Card, FrontEnd, BackEnd, BE_STATE_NAMES, FE_STATE_NAMES, LinkState } from "./dpcm";
import { Cmd, CMD_NAMES, HW_TRIGGERS } from "./pcm";
import { Player } from "./player";
import { irq } from "./irq";
import { ring, KIND_NAMES, RACE_KINDS, raceTotal, CAPACITY_RECORDS } from "./log";
import { selftest } from "./selftest";

function fail(command: string, message: string): void {
  print("ERROR " + command + ": " + message);
}

function us(seconds: number): string {
  return Math.round(seconds * 1e6) + " us";
}

export function installConsole(card: Card, player: Player, version: string): void {
  function frontEnd(command: string, name: unknown): FrontEnd | null {
    if (typeof name !== "string") {
      fail(command, "the front end must be a name in quotes, one of " + card.feNames.join(", "));
      return null;
    }
    const fe = card.feByName(name);
    if (!fe) fail(command, "unknown front end \"" + name + "\" (known: " + card.feNames.join(", ") + ")");
    return fe;
  }

  function backEnd(command: string, name: unknown): BackEnd | null {
    if (typeof name !== "string") {
      fail(command, "the back end must be a name in quotes, one of " + card.beNames.join(", "));
      return null;
    }
    const be = card.beByName(name);
    if (!be) fail(command, "unknown back end \"" + name + "\" (known: " + card.beNames.join(", ") + ")");
    return be;
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
    else print("OK play " + fe.name + " " + frequency + " Hz" + (seconds === undefined ? "" : " for " + seconds + " s"));
  };

  global.stop = function (feName: unknown): void {
    const fe = frontEnd("stop", feName);
    if (!fe) return;
    player.stop(fe);
    print("OK stop " + fe.name);
  };

  global.pause = function (feName: unknown, on: unknown): void {
    const fe = frontEnd("pause", feName);
    if (!fe) return;
    if (typeof on !== "boolean") {
      fail("pause", "the third argument must be true (pause) or false (resume)");
      return;
    }
    const err = card.trigger(fe, on ? Cmd.PausePush : Cmd.PauseRelease);
    if (err) fail("pause", err);
    else print("OK pause " + fe.name + " " + on);
  };

  global.route = function (feName: unknown, beName: unknown, on: unknown): void {
    const fe = frontEnd("route", feName);
    if (!fe) return;
    const be = backEnd("route", beName);
    if (!be) return;
    if (typeof on !== "boolean") {
      fail("route", "the third argument must be true (connect) or false (disconnect)");
      return;
    }
    const err = card.route(fe, be, on);
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
        const link = card.findLink(fe, be);
        let cell = card.routed(fe, be) ? "on" : "off";
        if (link) cell += link.state === LinkState.Running ? "/running" : link.state === LinkState.Paused ? "/paused" : "/linked";
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
        " pause_count=" + be.pauseCount + " rate=" + be.params.rate + " periods=" + be.periods;
      for (let c = 0; c < HW_TRIGGERS; c++) line += " hw_" + CMD_NAMES[c].toLowerCase() + "=" + be.hwTriggers[c];
      for (let f = 0; f < card.fes.length; f++) {
        const i = f * card.bes.length + b;
        line += " played." + card.fes[f].name + "=" + card.played[i] + " dropped." + card.fes[f].name + "=" + card.dropped[i];
      }
      print(line);
    }
    for (let f = 0; f < card.fes.length; f++) {
      const fe = card.fes[f];
      print(
        "STATS fe=" + fe.name + " state=" + FE_STATE_NAMES[fe.state] + " rate=" + fe.params.rate + " written=" + fe.written +
          " xruns=" + fe.xruns + " recoveries=" + player.voices[f].recoveries,
      );
    }
    print(
      "STATS irq runs=" + irq.handlerRuns + " deferred=" + irq.deferredRuns + " longest_handler=" + us(irq.longestHandler) +
        " longest_latency=" + us(card.longestLatency) + " longest_masked=" + us(irq.longestMasked) +
        " errors=" + irq.handlerErrors + (irq.lastError ? " last_error=" + irq.lastError : ""),
    );
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
    if (typeof on !== "boolean") {
      fail("unsafe", "the argument must be true or false");
      return;
    }
    irq.unsafe = on;
    print(on ? "OK unsafe true: critical sections and the trigger deferral are OFF; races can happen" : "OK unsafe false");
  };

  global.selftest = function (): void {
    selftest(print);
  };

  global.help = function (): void {
    print("dpcm-espruino " + version + " on " + card.board.name + ": front ends " + card.feNames.join(", ") + "; back ends:");
    for (let b = 0; b < card.bes.length; b++) print("  " + card.bes[b].name + ": " + card.bes[b].description);
    print("play(fe, hz[, seconds])  start or retune a tone on a front end");
    print("stop(fe)                 stop a front end and release its back ends");
    print("pause(fe, true|false)    pause or resume a front end");
    print("route(fe, be, true|false) connect or disconnect, live");
    print("routes()  stats()  races()  selftest()");
    print("unsafe(true|false)       remove the critical sections to reproduce races");
    print("Log lines: RACE/EVT t= kind= ctx= fe= be= link= at= [n=]");
  };

  // For the host tools (the race explorer reaches the player to stop an FE's refill).
  global.DPCM = { version: version, card: card, player: player, irq: irq, ring: ring };
}
