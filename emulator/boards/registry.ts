// The emulated boards by name: the machine model that runs each board's
// bundle, and where that bundle is.

import { join } from "node:path";
import type { Machine, MachineOptions } from "../machine.ts";
import type { OutputRecorder } from "../hardware.ts";
import { createGenericMachine } from "./generic.ts";

export interface EmulatedBoard {
  name: string;
  machine: Machine;
  outputs: OutputRecorder[];
  /** dist/<name>.js */
  bundlePath: string;
}

export const BOARD_NAMES = ["pico-wm8731", "generic"] as const;
export type BoardName = (typeof BOARD_NAMES)[number];

export function isBoardName(name: string): name is BoardName {
  return (BOARD_NAMES as readonly string[]).includes(name);
}

export async function createEmulatedBoard(name: BoardName, options: MachineOptions = {}, distDir = "dist"): Promise<EmulatedBoard> {
  const bundlePath = join(distDir, name + ".js");
  if (name === "generic") {
    const board = createGenericMachine(options);
    return { name, machine: board.machine, outputs: board.outputs, bundlePath };
  }
  const pico = await import("./pico-wm8731.ts");
  const board = pico.createPicoMachine(options);
  return { name, machine: board.machine, outputs: board.outputs, bundlePath };
}
