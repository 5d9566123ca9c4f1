// What the race explorer can do to, and ask of, a board's hardware models:
// place a hardware event at a boundary (a DMA block end, an I2C NAK) and
// read the truth its checks compare the firmware with (the blocks each BE's
// DMA completed, whether a completion is still flagged, the blocks it read
// while they were being rewritten). Boards without register models (generic,
// bench) have none: their scenarios place the interrupt only.

import type { PicoBoard } from "../../../emulator/boards/pico-wm8731.ts";
import { FLAG_TC } from "../../../emulator/stm32f401/dma.ts";
import { CODEC, SPK } from "../../../boards/pico-wm8731/wiring.ts";
import type { EventKind } from "./scenarios.ts";

/** What a BE's hardware did, from its models. */
export interface BeTruth {
  /** DMA blocks completed since reset. */
  blockEnds: number;
  /** A completion is flagged (TCIF) and not yet cleared by the firmware. */
  pending: boolean;
  /** Blocks the DMA read while their memory changed (refills that came late). */
  rewritten: number;
}

export interface ExplorerHardware {
  /** The hardware events this board can place. */
  readonly kinds: readonly EventKind[];
  /** Place one now. False when it had nothing to act on (no stream feeding an I2S port). */
  place(kind: EventKind): boolean;
  /** The truth for a BE by its console name; null when no model stands behind it. */
  truth(be: string): BeTruth | null;
}

/** The Pico: "dma" ends the block of every stream feeding SPI2 or SPI3; "nak" fails the codec's next I2C write. */
export function picoHardware(board: PicoBoard): ExplorerHardware {
  const m = board.models;
  const streams: Record<string, number> = { [CODEC.name]: CODEC.i2s.dmaStream, [SPK.name]: SPK.i2s.dmaStream };
  return {
    kinds: ["dma", "nak"],
    place(kind: EventKind): boolean {
      if (kind === "dma") {
        const a = m.spi2.finishBlock();
        const b = m.spi3.finishBlock();
        return a || b;
      }
      if (kind === "nak") {
        board.nakNext();
        return true;
      }
      return false;
    },
    truth(be: string): BeTruth | null {
      const x = streams[be];
      if (x === undefined) return null;
      return { blockEnds: m.dma.blockEnds(x), pending: (m.dma.flags(x) & FLAG_TC) !== 0, rewritten: m.dma.rewrittenBlocks(x) };
    },
  };
}
