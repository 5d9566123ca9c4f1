// A board whose back ends are sinks clocked by the firmware's own timer task:
// the generic board, and the wider board the benchmark measures.

import { Board } from "../../firmware/board";
import { StreamParams } from "../../firmware/pcm";
import { SinkDriver } from "../../firmware/sink";

export interface SinkSpec {
  name: string;
  description: string;
  driver: SinkDriver;
}

export function makeSinkBoard(name: string, frontEnds: string[], sinks: SinkSpec[], params: StreamParams): Board {
  /** Start of the next period of each sink, in getTime() seconds. */
  const due: number[] = [];
  for (let b = 0; b < sinks.length; b++) due.push(0);

  function pollCompletions(elapsed: (backEndIndex: number, latencySeconds: number) => void): void {
    const now = getTime();
    for (let b = 0; b < sinks.length; b++) {
      const sink = sinks[b].driver;
      if (!sink.running || sink.paused) {
        due[b] = 0;
        continue;
      }
      const period = params.periodFrames / sink.rate;
      if (due[b] < sink.startedAt) due[b] = sink.startedAt + period;
      while (now >= due[b] && sink.advance()) {
        elapsed(b, now - due[b]);
        due[b] += period;
      }
    }
  }

  // Twice per period, so a completion waits at most half a period.
  const ms = ((params.periodFrames / params.rate) * 1000) / 2;
  let taskId = -1;

  /** The timer task never fired (the Linux build has no hardware timer): poll from the main loop. */
  function fallbackInterrupt(handler: () => void): string {
    if (taskId >= 0) require("timer").remove(taskId);
    taskId = -1;
    setInterval(handler, ms);
    return "setInterval every " + ms + " ms: the timer task did not fire, so no preemption";
  }

  function startInterrupt(handler: () => void): string {
    try {
      taskId = require("timer").add({ type: "EXEC", fn: handler, time: ms, interval: ms });
      return "timer task every " + ms + " ms";
    } catch (e) {
      // Firmware without the timer module.
      return fallbackInterrupt(handler);
    }
  }

  const backEnds = [];
  for (let b = 0; b < sinks.length; b++) {
    backEnds.push({
      name: sinks[b].name,
      description: sinks[b].description,
      checkHint: "the timer task that clocks this sink (a virtual output has no DMA)",
      driver: sinks[b].driver,
    });
  }
  return {
    name: name,
    frontEnds: frontEnds,
    backEnds: backEnds,
    params: params,
    periods: 4,
    startInterrupt: startInterrupt,
    fallbackInterrupt: fallbackInterrupt,
    pollCompletions: pollCompletions,
  };
}
