// boards/generic as data: any Espruino 2v29 board, no audio hardware. Its
// back ends are virtual sinks (drivers/virtual-sink.ts) clocked by the
// firmware's timer task: the whole runtime, the console and the race
// detectors run, and nothing is heard.

import { SinkBoardSpec } from "../common/sink-board";

export const GENERIC: SinkBoardSpec = {
  name: "generic",
  frontEnds: ["media", "alert"],
  params: { rate: 8000, channels: 2, periodFrames: 128 },
  // "line" takes the common rates; "bt" is fixed at 16 kHz like a Bluetooth
  // SCO link, the classic case for a BE hw_params fixup.
  sinks: [
    { name: "line", description: "virtual line out, 8/16/32/48 kHz, timer-clocked", rates: [8000, 16000, 32000, 48000] },
    { name: "bt", description: "virtual Bluetooth SCO link, fixed 16 kHz, timer-clocked", rates: [16000] },
  ],
};
