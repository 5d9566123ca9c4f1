// boards/bench as data: the generic board widened to 4 front ends and 4
// virtual sinks, so `npm run bench` can measure how the interrupt path and
// the critical sections scale with 1, 4 and 16 links. Flashable like the
// generic board.

import { SinkBoardSpec, SinkSpec } from "../common/sink-board";

const sinks: SinkSpec[] = [];
for (let b = 0; b < 4; b++) sinks.push({ name: "s" + b, description: "virtual sink " + b + ", timer-clocked", rates: [8000] });

export const BENCH: SinkBoardSpec = {
  name: "bench",
  frontEnds: ["f0", "f1", "f2", "f3"],
  params: { rate: 8000, channels: 2, periodFrames: 128 },
  sinks: sinks,
};
