// boards/generic: any Espruino 2v29 board, no audio hardware. Its back ends
// are sinks clocked by the firmware's timer task: the whole runtime, the
// console and the race detectors run, and nothing is heard.

import { Board, StreamParams } from "../../firmware/board";
import { SinkDriver } from "../../firmware/sink";
import { startRuntime } from "../../firmware/runtime";

const PARAMS: StreamParams = { rate: 8000, channels: 2, periodFrames: 128 };
const PERIOD_SECONDS = PARAMS.periodFrames / PARAMS.rate;

// "line" takes the common rates; "bt" is fixed at 16 kHz like a Bluetooth
// SCO link, the classic case for a BE hw_params fixup.
const line = new SinkDriver(PARAMS.periodFrames, [8000, 16000, 32000, 48000]);
const bt = new SinkDriver(PARAMS.periodFrames, [16000]);
const sinks = [line, bt];
/** Start of the next period of each sink, in getTime() seconds; 0 when idle. */
const due = [0, 0];

function pollCompletions(elapsed: (backEndIndex: number, latencySeconds: number) => void): void {
  const now = getTime();
  for (let b = 0; b < sinks.length; b++) {
    const sink = sinks[b];
    if (!sink.running || sink.paused) {
      due[b] = 0;
      continue;
    }
    const period = PARAMS.periodFrames / sink.rate;
    if (due[b] < sink.startedAt) due[b] = sink.startedAt + period;
    while (now >= due[b] && sink.advance()) {
      elapsed(b, now - due[b]);
      due[b] += period;
    }
  }
}

function startInterrupt(handler: () => void): string {
  const ms = (PERIOD_SECONDS * 1000) / 2;
  try {
    require("timer").add({ type: "EXEC", fn: handler, time: ms, interval: ms });
    return "timer task every " + ms + " ms";
  } catch (e) {
    // Firmware without the timer module: the main loop's interval instead.
    setInterval(handler, ms);
    return "setInterval every " + ms + " ms (no timer module: no preemption)";
  }
}

const board: Board = {
  name: "generic",
  frontEnds: ["media", "alert"],
  backEnds: [
    { name: "line", description: "virtual line out, 8/16/32/48 kHz, timer-clocked", driver: line },
    { name: "bt", description: "virtual Bluetooth SCO link, fixed 16 kHz, timer-clocked", driver: bt },
  ],
  params: PARAMS,
  periods: 4,
  startInterrupt: startInterrupt,
  pollCompletions: pollCompletions,
};

startRuntime(board);
