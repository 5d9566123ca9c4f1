// Espruino Pico (STM32F401CDU6) with a WM8731 codec on I2S2 and a MAX98357A
// amplifier on I2S3: the drivers (drivers/) built from the wiring
// (wiring.ts), the interrupt, and completion polling. README.md: wiring,
// clocking and sources.

import { Board, BoardBackEnd } from "../../firmware/board";
import { StreamParams } from "../../firmware/pcm";
import { I2sDmaDriver, I2sWiring } from "../../drivers/stm32f4/i2s-dma";
import { TimPwmClock } from "../../drivers/stm32f4/pwm-clock";
import { DMA1_HIFCR, DMA1_HISR } from "../../drivers/stm32f4/regs";
import { Max98357a } from "../../drivers/max98357a";
import { Wm8731 } from "../../drivers/wm8731";
import { CODEC, SPK } from "./wiring";
import { decimal } from "../../firmware/format";

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

/** A back end of this board: its driver is an I2S port with DMA, which the board polls. */
interface PicoBackEnd extends BoardBackEnd {
  driver: I2sDmaDriver;
}

/** "I2S2 (PB13/PB9/PB15)": a port and its CK/WS/SD pins, for help(). Context: main. */
function portText(w: I2sWiring): string {
  return w.name + " (P" + w.ck.pin + "/P" + w.ws.pin + "/P" + w.sd.pin + ")";
}

/**
 * What the watchdog names when this port completes no period: everything a
 * started port needs to move its DMA (the driver sets each in start and
 * release): the stream enabled and without a transfer error, the SPI's DMA
 * request and I2S enable, PLLI2S locked. (A wrong pin silences the codec but
 * does not stop the DMA, so it is not named here.)
 * Context: main.
 */
function checkText(w: I2sWiring): string {
  const spi = "SPI" + w.name.charAt(3);
  return (
    "DMA1 stream " + w.dmaStream + " channel " + w.dmaChannel + " (" + spi + "_TX: S" + w.dmaStream + "CR.EN, TEIF" + w.dmaStream +
    " in DMA1_HISR), " + spi + " CR2.TXDMAEN and I2SCFGR.I2SE, PLLI2S (RCC_CR.PLLI2SRDY)"
  );
}

/** Context: main (boot). */
export function createPicoBoard(): Board {
  const poll: PollTimer = { handler: function () {}, id: -1, ms: (PARAMS.periodFrames / PARAMS.rate) * 500 };

  /** Install (or reinstall faster) the EXEC timer task: half a period, so no completion waits more than half a period. */
  function schedule(ms: number): string {
    const timer = require("timer");
    if (poll.id >= 0) timer.remove(poll.id);
    poll.ms = ms;
    poll.id = timer.add({ type: "EXEC", fn: poll.handler, time: ms, interval: ms });
    return "timer task every " + decimal(ms, 3) + " ms polling DMA1 HISR (streams " + CODEC.i2s.dmaStream + ", " + SPK.i2s.dmaStream + ")";
  }

  function needPoll(ms: number): void {
    if (poll.id >= 0 && ms < poll.ms) schedule(ms);
  }

  // The one list of back ends: the card indexes it, and pollCompletions polls
  // the same drivers in the same order. I2C1 is the bus CODEC.i2c.bus names.
  // Both I2S ports run from the one PLLI2S.
  const pllPorts: I2sDmaDriver[] = [];
  const backEnds: PicoBackEnd[] = [
    {
      name: CODEC.name,
      description:
        "WM8731 headphone/line out on " + portText(CODEC.i2s) + ", " + CODEC.i2c.bus + " 0x" + CODEC.i2c.address.toString(16) +
        ", MCLK " + decimal(CODEC.mclk.hz / 1e6, 6) + " MHz on P" + CODEC.mclk.pin.pin,
      checkHint: checkText(CODEC.i2s),
      driver: new I2sDmaDriver(CODEC.name, CODEC.i2s, new Wm8731(CODEC.name, I2C1, CODEC.i2c, new TimPwmClock(CODEC.mclk)), PARAMS.periodFrames, needPoll, pllPorts),
    },
    {
      name: SPK.name,
      description: "MAX98357A speaker amp on " + portText(SPK.i2s) + ", SD_MODE on " + SPK.sdMode,
      checkHint: checkText(SPK.i2s),
      driver: new I2sDmaDriver(SPK.name, SPK.i2s, new Max98357a(SPK.name, SPK.sdMode), PARAMS.periodFrames, needPoll, pllPorts),
    },
  ];
  // Every stream here is one of 4..7, whose flags are all in DMA1_HISR.
  let tcMask = 0;
  for (let i = 0; i < backEnds.length; i++) tcMask |= backEnds[i].driver.tcMask;

  return {
    name: "pico-wm8731",
    frontEnds: ["media", "alert"],
    backEnds: backEnds,
    params: PARAMS,
    periods: 4,
    /** Main loop (boot). */
    startInterrupt: function (handler: () => void): string {
      // Two runs a period, and one of them finds no block ended: on a Pico
      // the handler's own overhead (mask, clock, try, counters, one poll a
      // BE) is some 400,000 interpreter instructions, so that run stops at
      // one register read. Nothing is lost: every block end sets its TCIF,
      // and a TCIF is only cleared by a poll that saw it (the driver's poll
      // counts a second block end behind a seen TCIF in that same poll).
      // The stats' interrupt time counts only the runs that go on.
      poll.handler = function (): void {
        if (peek32(DMA1_HISR) & tcMask) handler();
      };
      return schedule(poll.ms);
    },
    /** Interrupt. */
    pollCompletions: function (elapsed: (backEndIndex: number, latencySeconds: number) => void): void {
      // Read HISR once and clear exactly the TCIF bits read, in one write:
      // HIFCR is write-1-to-clear (RM0368 §9.5.4), so a completion after the
      // read stays flagged for the next poll. Each driver counts one period a
      // TCIF (I2sDmaDriver.poll).
      const hisr = peek32(DMA1_HISR);
      const seen = hisr & tcMask;
      if (seen) poke32(DMA1_HIFCR, seen);
      for (let i = 0; i < backEnds.length; i++) backEnds[i].driver.poll(hisr, i, elapsed);
    },
  };
}
