// Espruino Pico (STM32F401CDU6) with a WM8731 codec on I2S2 and a MAX98357A
// amplifier on I2S3. Wiring, clocking and sources: README.md.

import { Board } from "../../firmware/board";
import { StreamParams } from "../../firmware/pcm";
import { I2sDmaDriver } from "./i2s-dma";
import { Max98357a } from "./max98357a";
import { DMA1_HIFCR, DMA1_HISR, GPIOA, GPIOB, SPI2, SPI2EN, SPI3, SPI3EN } from "./stm32";
import { Wm8731 } from "./wm8731";

/**
 * 8 kHz stereo 16-bit, 128-frame periods (16 ms): JavaScript on the Pico
 * costs tens of microseconds a statement, so the interrupt's per-period work
 * (a few TypedArray.set copies and list walks) must fit in 8 ms polls.
 */
const PARAMS: StreamParams = { rate: 8000, channels: 2, periodFrames: 128 };

interface PollTimer {
  handler: () => void;
  id: number;
  ms: number;
}

export function createPicoBoard(): Board {
  const poll: PollTimer = { handler: function () {}, id: -1, ms: (PARAMS.periodFrames / PARAMS.rate) * 500 };

  /** Install (or reinstall faster) the EXEC timer task: half a period, so no completion waits more than half a period. */
  function schedule(ms: number): string {
    const timer = require("timer");
    if (poll.id >= 0) timer.remove(poll.id);
    poll.ms = ms;
    poll.id = timer.add({ type: "EXEC", fn: poll.handler, time: ms, interval: ms });
    return "timer task every " + ms + " ms polling DMA1 HISR (streams 4, 5)";
  }

  function needPoll(ms: number): void {
    if (poll.id >= 0 && ms < poll.ms) schedule(ms);
  }

  // I2S2 = SPI2: CK PB13, WS PB9, SD PB15, all AF5; DMA1 stream 4 channel 0 (SPI2_TX).
  const codec = new I2sDmaDriver(
    "codec",
    { spi: SPI2, clockBit: SPI2EN, stream: 4, pins: [GPIOB, 13, 5, GPIOB, 9, 5, GPIOB, 15, 5] },
    new Wm8731("codec"),
    PARAMS.periodFrames,
    needPoll,
  );
  // I2S3 = SPI3: CK PB3, WS PA4, SD PB5, all AF6; DMA1 stream 5 channel 0 (SPI3_TX); SD_MODE on A5.
  const spk = new I2sDmaDriver(
    "spk",
    { spi: SPI3, clockBit: SPI3EN, stream: 5, pins: [GPIOB, 3, 6, GPIOA, 4, 6, GPIOB, 5, 6] },
    new Max98357a("spk", A5),
    PARAMS.periodFrames,
    needPoll,
  );
  const drivers = [codec, spk];

  return {
    name: "pico-wm8731",
    frontEnds: ["media", "alert"],
    backEnds: [
      {
        name: "codec",
        description: "WM8731 headphone/line out on I2S2 (PB13/PB9/PB15), I2C1 0x1a, MCLK 12 MHz on PA8",
        checkHint: "DMA1 stream 4 channel 0 (SPI2_TX), PLLI2S (RCC_CR.PLLI2SRDY), SPI2 I2SE and pins PB13/PB9/PB15 (AF5)",
        driver: codec,
      },
      {
        name: "spk",
        description: "MAX98357A speaker amp on I2S3 (PB3/PA4/PB5), SD_MODE on A5",
        checkHint: "DMA1 stream 5 channel 0 (SPI3_TX), PLLI2S (RCC_CR.PLLI2SRDY), SPI3 I2SE and pins PB3/PA4/PB5 (AF6)",
        driver: spk,
      },
    ],
    params: PARAMS,
    periods: 4,
    startInterrupt: function (handler: () => void): string {
      poll.handler = handler;
      return schedule(poll.ms);
    },
    pollCompletions: function (elapsed: (backEndIndex: number, latencySeconds: number) => void): void {
      // Both streams (4 and 5) report in DMA1_HISR. Clear the TC flags seen,
      // in one write, before reading CT: a completion between the read and the
      // clear still shows as a CT toggle.
      const hisr = peek32(DMA1_HISR);
      const seen = hisr & (codec.tcMask | spk.tcMask);
      if (seen) poke32(DMA1_HIFCR, seen);
      for (let i = 0; i < drivers.length; i++) drivers[i].poll(hisr, i, elapsed);
    },
  };
}
