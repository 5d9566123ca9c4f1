// boards/generic: no peripherals, no codec, no audio outputs. The generic
// firmware drives its interrupt handler from an EXEC timer task and reads the
// time with getTime(); everything else is the runtime itself. BOARD is
// "GENERIC" and the JsVar pool is the Linux build's 4096.

import { Machine, type MachineOptions } from "../machine.ts";
import type { OutputRecorder } from "../hardware.ts";

export interface GenericBoard {
  machine: Machine;
  /** No physical outputs on this board. */
  outputs: OutputRecorder[];
}

export function createGenericMachine(options: MachineOptions = {}): GenericBoard {
  const machine = new Machine({ board: "GENERIC", jsVarTotal: 4096, ...options });
  return { machine, outputs: [] };
}
