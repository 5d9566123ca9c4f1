// boards/bench: the generic board widened to 4 front ends and 4 sinks, so
// `npm run bench` can measure how the interrupt path and the critical
// sections scale with 1, 4 and 16 links. Flashable like the generic board.

import { StreamParams } from "../../firmware/pcm";
import { SinkDriver } from "../../firmware/sink";
import { boot } from "../../firmware/boot";
import { makeSinkBoard, SinkSpec } from "../generic/sink-board";

const PARAMS: StreamParams = { rate: 8000, channels: 2, periodFrames: 128 };
const sinks: SinkSpec[] = [];
for (let b = 0; b < 4; b++) {
  sinks.push({ name: "s" + b, description: "virtual sink " + b + ", timer-clocked", driver: new SinkDriver(PARAMS.periodFrames, [8000]) });
}
boot(makeSinkBoard("bench", ["f0", "f1", "f2", "f3"], sinks, PARAMS));
