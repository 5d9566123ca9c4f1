// BE operations of the main loop: open (the first FE user starts the
// hardware up), hw_params and prepare (the first user's params; later users
// must match), and close (the last user frees and shuts it down): soc-pcm.c
// dpcm_be_dai_startup, dpcm_be_dai_hw_params, dpcm_be_dai_prepare,
// dpcm_be_dai_hw_free, dpcm_be_dai_shutdown. These talk to codecs over I2C
// and build error messages: never from the interrupt.

import { irqSave, irqRestore } from "../irq";
import { Cmd, StreamParams } from "../pcm";
import { BE_STATE_NAMES, BackEnd, BeState, FrontEnd, beCanEnter, beSetState } from "./dpcm";

/** A driver's error, named by its BE (drivers that know their name already say it). Context: main. */
function named(be: BackEnd, err: string): string {
  return err.indexOf(be.name + ":") === 0 ? err : be.name + ": " + err;
}

/** Open a BE for one more FE user; the first user starts the hardware up. Returns "" or why not. Context: main. */
export function beOpen(be: BackEnd): string {
  if (be.users > 0) {
    be.users++;
    return "";
  }
  if (!beCanEnter(be.state, BeState.Open)) {
    return be.name + ": cannot open from " + BE_STATE_NAMES[be.state];
  }
  const err = be.driver.startup();
  if (err) return named(be, err);
  beSetState(be, BeState.Open);
  be.users = 1;
  return "";
}

/**
 * hw_params and prepare of a BE for an FE. The FE's params are fixed: a BE
 * whose hw_params fixup asks for another rate, or that is already running
 * for another FE at other params, is refused (there is no resampler, and a
 * running stream's rate never changes). Returns "" or why not. Context: main.
 */
export function beHwParams(be: BackEnd, fe: FrontEnd): string {
  const want = fe.params;
  if (be.users > 1) {
    if (be.params.rate !== want.rate || be.params.periodFrames !== want.periodFrames) {
      return (
        be.name + ": busy at " + be.params.rate + " Hz, " + be.params.periodFrames + "-frame periods; " + fe.name + " is open at " +
        want.rate + " Hz, " + want.periodFrames + "-frame periods"
      );
    }
    return "";
  }
  const params: StreamParams = { rate: want.rate, channels: want.channels, periodFrames: want.periodFrames };
  const err = be.driver.hwParams(params);
  if (err) return named(be, err);
  if (params.rate !== want.rate) {
    return (
      be.name + ": runs at " + params.rate + " Hz only; " + fe.name + " is open at " + want.rate +
      " Hz (a stream's rate is fixed while it is open, and there is no resampler: stop " + fe.name + " first)"
    );
  }
  if (params.periodFrames !== want.periodFrames || params.channels !== want.channels) {
    return be.name + ": cannot serve " + want.channels + " channels in periods of " + want.periodFrames + " frames";
  }
  if (!beSetState(be, BeState.HwParams)) return be.name + ": cannot set hw_params in state " + BE_STATE_NAMES[be.state];
  be.params = params;
  const prepErr = be.driver.prepare(params);
  if (prepErr) return named(be, prepErr);
  if (!beSetState(be, BeState.Prepare)) return be.name + ": cannot prepare in state " + BE_STATE_NAMES[be.state];
  return "";
}

/** One FE user fewer; the last one stops (if streaming), frees and shuts the hardware down. Context: main. */
export function beClose(be: BackEnd): void {
  if (be.users === 0) return;
  be.users--;
  if (be.users > 0) return;
  const was = irqSave();
  if (be.state === BeState.Start || be.state === BeState.Paused || be.state === BeState.Suspend) {
    // Streaming with no user left (its links were stopped first, so only a
    // count gone wrong gets here): stop it before freeing.
    be.driver.trigger(Cmd.Stop);
    be.hwTriggers[Cmd.Stop]++;
    beSetState(be, BeState.Stop);
  }
  be.startCount = 0;
  be.pauseCount = 0;
  be.suspendCount = 0;
  irqRestore(was);
  if (beCanEnter(be.state, BeState.HwFree)) {
    beSetState(be, BeState.HwFree);
    be.driver.hwFree();
  }
  be.driver.shutdown();
  beSetState(be, BeState.Close);
  be.leftRunningReported = false;
}
