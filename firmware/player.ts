// The application side of each FE: a tone source that keeps the FE's ring
// full from the main loop, drains it at the end of a timed tone, recovers
// from xruns as snd_pcm_recover does, and closes the FE when it is done.
// Context: main, all of it.

import type { Card } from "./dpcm/card";
import { FeState, FrontEnd } from "./dpcm/dpcm";
import { defaultPeriodFrames, feClose, feCommitPeriod, feDrain, feOpen, fePrepare, feTrigger, feWritable, feWriteView, openRate } from "./dpcm/fe";
import { Cmd } from "./pcm";
import { Tone, makeTone, fillTone } from "./tone";

export const TONE_AMPLITUDE = 8000;

export class Voice {
  fe: FrontEnd;
  tone: Tone | null;
  /** Frames still to write; -1 plays until stop(). */
  remaining: number;
  /** Restarts after an xrun. */
  recoveries: number;
  constructor(fe: FrontEnd) {
    this.fe = fe;
    this.tone = null;
    this.remaining = 0;
    this.recoveries = 0;
  }
}

export class Player {
  card: Card;
  voices: Voice[];
  constructor(card: Card) {
    this.card = card;
    this.voices = [];
    for (let f = 0; f < card.fes.length; f++) this.voices.push(new Voice(card.fes[f]));
  }

  /** Write whole periods while the ring has room. Context: main. */
  private fill(voice: Voice): void {
    const fe = voice.fe;
    const tone = voice.tone;
    if (!tone) return;
    const period = fe.params.periodFrames;
    // The room once: each feWritable walks the FE's links (feHwPtr), and
    // only the interrupt makes more room, never this loop.
    let room = feWritable(fe);
    for (; voice.remaining !== 0 && room >= period; room -= period) {
      const view = feWriteView(fe);
      if (voice.remaining < 0 || voice.remaining >= period) {
        fillTone(this.card.ops, tone, view, period);
        if (voice.remaining > 0) voice.remaining -= period;
      } else {
        // The last, partial period: tone then silence, so positions stay period-aligned.
        fillTone(this.card.ops, tone, view, voice.remaining);
        this.card.ops.zero(view, voice.remaining * 2, (period - voice.remaining) * 2);
        voice.remaining = 0;
      }
      feCommitPeriod(fe);
    }
  }

  /** Prepare, fill and START: a fresh stream, or the recovery after an xrun. Context: main. */
  private start(voice: Voice): string {
    const err = fePrepare(this.card, voice.fe);
    if (err) return err;
    this.fill(voice);
    return feTrigger(this.card, voice.fe, Cmd.Start);
  }

  /**
   * Start or retune a tone of `frequency` Hz for `seconds` (< 0: until
   * stop()). A closed FE is opened at the rate its routes call for; an open
   * one keeps its rate. A running tone is retuned without a click; a paused
   * or suspended FE takes the new tone and plays it when it runs again; a
   * draining one is stopped and started afresh (ALSA cannot take a draining
   * stream back). Returns "" or why not, changing nothing then.
   * Context: main.
   */
  play(fe: FrontEnd, frequency: number, seconds: number): string {
    const card = this.card;
    const voice = this.voices[fe.index];
    const opening = fe.state === FeState.Closed;
    // Make the tone at the rate the FE will run at before opening anything:
    // a frequency that rate cannot carry must leave the BEs untouched.
    const rate = opening ? openRate(card, fe) : fe.params.rate;
    if (typeof rate === "string") return rate;
    const period = opening ? defaultPeriodFrames(card, rate) : fe.params.periodFrames;
    const tone = makeTone(frequency, rate, TONE_AMPLITUDE, period, 4 * period);
    if (typeof tone === "string") return fe.name + ": " + tone;
    if (!card.ops.accepts(tone.table)) return fe.name + ": no contiguous memory for a " + tone.frames + "-frame tone table";
    if (opening) {
      const err = feOpen(card, fe, rate, 0);
      if (err) return err;
    }
    const running = fe.state === FeState.Running;
    if (voice.tone && running) {
      // Retune without a click: keep the position within the cycle.
      tone.phase = Math.floor((voice.tone.phase / voice.tone.frames) * tone.frames) % tone.frames;
    }
    voice.tone = tone;
    voice.remaining = seconds < 0 ? -1 : Math.max(1, Math.round(seconds * fe.params.rate));
    if (running || fe.state === FeState.Paused || fe.state === FeState.Suspended) return "";
    if (fe.state === FeState.Draining) feTrigger(card, fe, Cmd.Stop);
    return this.start(voice);
  }

  /** Stop and close the FE; its tone is forgotten. Context: main. */
  stop(fe: FrontEnd): void {
    feClose(this.card, fe);
    this.voices[fe.index].tone = null;
  }

  /** The main-loop duty of every voice: refill, drain at the tone's end, recover from xruns, close when drained. Context: main. */
  service(): void {
    for (let v = 0; v < this.voices.length; v++) {
      const voice = this.voices[v];
      const fe = voice.fe;
      if (!voice.tone) continue;
      if (fe.state === FeState.Xrun && !fe.updating) {
        // A timed tone with nothing left to write is over: an xrun after its
        // last period ends it (START would be refused: nothing written).
        if (voice.remaining === 0) {
          this.stop(fe);
          continue;
        }
        voice.recoveries++;
        this.start(voice);
      } else if (fe.state === FeState.Running) {
        this.fill(voice);
        if (voice.remaining === 0) feDrain(this.card, fe);
      } else if (fe.state === FeState.Setup) {
        // Drained: the tone is over.
        this.stop(fe);
      }
    }
  }
}
