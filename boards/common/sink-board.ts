// What the boards made of virtual sinks share (boards/generic, boards/bench):
// a board from data (front ends, stream parameters, the sinks and their
// rates), its back ends clocked by the firmware's own timer task. Not a board
// itself (no main.ts): rollup builds only folders with one.

import { Board, BoardBackEnd } from "../../firmware/board";
import { StreamParams } from "../../firmware/pcm";
import { SinkDriver } from "../../drivers/virtual-sink";
import { decimal } from "../../firmware/format";

/** One virtual sink: console name, help() line, the rates it takes (one rate: a fixed-rate BE). */
export interface SinkSpec {
  name: string;
  description: string;
  rates: number[];
}

/** A board of sinks, as data. */
export interface SinkBoardSpec {
  name: string;
  frontEnds: string[];
  params: StreamParams;
  sinks: SinkSpec[];
}

interface SinkBackEnd extends BoardBackEnd {
  driver: SinkDriver;
}

/** Build the board: one SinkDriver a sink, in the spec's order. Context: main (boot). */
export function makeSinkBoard(spec: SinkBoardSpec): Board {
  const params = spec.params;
  // The one list of back ends: the card indexes it, pollCompletions clocks it.
  const backEnds: SinkBackEnd[] = [];
  /** Start of the next period of each sink, in getTime() seconds. */
  const due: number[] = [];
  for (let b = 0; b < spec.sinks.length; b++) {
    const s = spec.sinks[b];
    backEnds.push({
      name: s.name,
      description: s.description,
      checkHint: "the timer task that clocks this sink (a virtual output has no DMA)",
      driver: new SinkDriver(params.periodFrames, s.rates),
    });
    due.push(0);
  }

  /** Sink `b` plays the periods its clock says have passed by `now`. Context: irq. */
  function playDue(b: number, now: number, elapsed: (backEndIndex: number, latencySeconds: number) => void): void {
    const sink = backEnds[b].driver;
    const period = sink.periodFrames / sink.rate;
    // Started or released since the last period: its clock starts again there.
    if (due[b] < sink.startedAt) due[b] = sink.startedAt + period;
    while (now >= due[b] && sink.advance()) {
      elapsed(b, now - due[b]);
      due[b] += period;
    }
  }

  /** Each running sink plays the periods its clock says have passed; an idle one costs one statement. Context: irq. */
  function pollCompletions(elapsed: (backEndIndex: number, latencySeconds: number) => void): void {
    const now = getTime();
    for (let b = 0; b < backEnds.length; b++) if (backEnds[b].driver.running && !backEnds[b].driver.paused) playDue(b, now, elapsed);
  }

  // Twice per period, so a completion waits at most half a period; faster
  // when a sink is prepared with shorter periods (see onPrepare below).
  let ms = ((params.periodFrames / params.rate) * 1000) / 2;
  let taskId = -1;
  let interval: ReturnType<typeof setInterval> | null = null;
  let poll: () => void = function () {};

  /** The timer task never fired (the Linux build has no hardware timer): poll from the main loop. Context: main. */
  function fallbackInterrupt(handler: () => void): string {
    if (taskId >= 0) require("timer").remove(taskId);
    taskId = -1;
    poll = handler;
    interval = setInterval(handler, ms);
    return "setInterval every " + decimal(ms, 3) + " ms: the timer task did not fire, so no preemption";
  }

  /** Context: main (boot). */
  function startInterrupt(handler: () => void): string {
    poll = handler;
    try {
      taskId = require("timer").add({ type: "EXEC", fn: handler, time: ms, interval: ms });
      return "timer task every " + decimal(ms, 3) + " ms";
    } catch (e) {
      // Firmware without the timer module.
      return fallbackInterrupt(handler);
    }
  }

  /** A sink prepared with a shorter period: poll at least twice a period from now on. Context: main. */
  function needPoll(periodSeconds: number): void {
    const want = (periodSeconds * 1000) / 2;
    if (want >= ms) return;
    ms = want;
    if (taskId >= 0) {
      require("timer").remove(taskId);
      taskId = require("timer").add({ type: "EXEC", fn: poll, time: ms, interval: ms });
    } else if (interval !== null) {
      clearInterval(interval);
      interval = setInterval(poll, ms);
    }
  }
  for (let b = 0; b < backEnds.length; b++) backEnds[b].driver.onPrepare = needPoll;

  return {
    name: spec.name,
    frontEnds: spec.frontEnds,
    backEnds: backEnds,
    params: params,
    periods: 4,
    startInterrupt: startInterrupt,
    fallbackInterrupt: fallbackInterrupt,
    pollCompletions: pollCompletions,
  };
}
