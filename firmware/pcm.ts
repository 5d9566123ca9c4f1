// PCM-level definitions shared by the DPCM core and the drivers: the stream
// parameters an FE and its BEs agree on, and the trigger commands
// (SNDRV_PCM_TRIGGER_* in Linux include/sound/pcm.h).

/** Stream parameters as negotiated between an FE and its BEs (hw_params). */
export interface StreamParams {
  /** Frames per second (Hz). */
  rate: number;
  /** Always 2 here: every buffer is interleaved stereo 16-bit (I2S Philips). */
  channels: number;
  /** Frames per period: one DMA half-buffer. */
  periodFrames: number;
}

/** Trigger commands, as SNDRV_PCM_TRIGGER_*; StopXrun is the core's own (snd_pcm_stop with state XRUN). */
export const enum Cmd {
  Start = 0,
  Stop = 1,
  PausePush = 2,
  PauseRelease = 3,
  Suspend = 4,
  Resume = 5,
  /** Stop after an xrun: like Stop, but the FE ends in XRUN. Never reaches a driver. */
  StopXrun = 6,
}
export const CMD_NAMES = ["START", "STOP", "PAUSE_PUSH", "PAUSE_RELEASE", "SUSPEND", "RESUME", "STOP_XRUN"];
/** Commands a BeDriver's trigger() receives: Start .. Resume. */
export const HW_TRIGGERS = 6;

