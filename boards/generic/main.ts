// boards/generic: any Espruino 2v29 board, no audio hardware. Its back ends
// are sinks clocked by the firmware's timer task: the whole runtime, the
// console and the race detectors run, and nothing is heard.

import { StreamParams } from "../../firmware/pcm";
import { SinkDriver } from "../../firmware/sink";
import { boot } from "../../firmware/boot";
import { makeSinkBoard } from "./sink-board";

const PARAMS: StreamParams = { rate: 8000, channels: 2, periodFrames: 128 };

// "line" takes the common rates; "bt" is fixed at 16 kHz like a Bluetooth
// SCO link, the classic case for a BE hw_params fixup.
boot(
  makeSinkBoard("generic", ["media", "alert"], [
    { name: "line", description: "virtual line out, 8/16/32/48 kHz, timer-clocked", driver: new SinkDriver(PARAMS.periodFrames, [8000, 16000, 32000, 48000]) },
    { name: "bt", description: "virtual Bluetooth SCO link, fixed 16 kHz, timer-clocked", driver: new SinkDriver(PARAMS.periodFrames, [16000]) },
  ], PARAMS),
);
