// The application side of each FE: a tone source that keeps the FE's ring
// full from the main loop, drains it at the end of a timed tone, recovers
// from xruns as snd_pcm_recover does, and closes the FE when it is done.

import { Card, FrontEnd, FeState } from "./dpcm";
import { Cmd } from "./pcm";
import { Tone, makeTone, fillTone } from "./tone";

export const TONE_AMPLITUDE = 8000;

export class Voice {
  fe: FrontEnd;
  tone: Tone | null;
  /** Frames still to write; -1 plays until stop(). */
  remaining: number;
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

  /** Write whole periods while the ring has room. */
  private fill(voice: Voice): void {
    const card = this.card;
    const fe = voice.fe;
    const tone = voice.tone;
    if (!tone) return;
    while (voice.remaining !== 0 && card.writable(fe) >= card.periodFrames) {
      const view = card.writeView(fe);
      if (voice.remaining < 0 || voice.remaining >= card.periodFrames) {
        fillTone(tone, view, card.periodFrames);
        if (voice.remaining > 0) voice.remaining -= card.periodFrames;
      } else {
        // The last, partial period: tone then silence, so positions stay period-aligned.
        fillTone(tone, view, voice.remaining);
        view.fill(0, voice.remaining * 2);
        voice.remaining = 0;
      }
      card.commitPeriod(fe);
    }
  }

  /** Start or retune a tone. seconds < 0 plays until stop(). Returns an error or "". */
  play(fe: FrontEnd, frequency: number, seconds: number): string {
    const card = this.card;
    const voice = this.voices[fe.index];
    const opened = fe.state === FeState.Closed;
    // Make the tone at the rate the FE will run at before opening anything:
    // a frequency that rate cannot carry must leave the BEs untouched.
    const rate = opened ? card.openRate(fe) : fe.params.rate;
    if (typeof rate === "string") return rate;
    const tone = makeTone(frequency, rate, TONE_AMPLITUDE, card.periodFrames, 4 * card.periodFrames);
    if (typeof tone === "string") return fe.name + ": " + tone;
    if (opened) {
      const err = card.openFe(fe);
      if (err) return err;
    }
    if (voice.tone && (fe.state === FeState.Running || fe.state === FeState.Draining)) {
      // Retune without a click: keep the position within the cycle.
      tone.phase = Math.floor((voice.tone.phase / voice.tone.frames) * tone.frames) % tone.frames;
    }
    voice.tone = tone;
    voice.remaining = seconds < 0 ? -1 : Math.max(1, Math.round(seconds * fe.params.rate));
    if (fe.state === FeState.Draining) fe.state = FeState.Running;
    if (fe.state === FeState.Running) return "";
    const prep = card.prepareFe(fe);
    if (prep) return prep;
    this.fill(voice);
    return card.trigger(fe, Cmd.Start);
  }

  stop(fe: FrontEnd): void {
    this.card.closeFe(fe);
    this.voices[fe.index].tone = null;
  }

  /** The main-loop duty of every voice: refill, drain, recover, close. */
  service(): void {
    const card = this.card;
    for (let v = 0; v < this.voices.length; v++) {
      const voice = this.voices[v];
      const fe = voice.fe;
      if (!voice.tone) continue;
      if (fe.state === FeState.Xrun && !fe.updating) {
        voice.recoveries++;
        if (!card.prepareFe(fe)) {
          this.fill(voice);
          card.trigger(fe, Cmd.Start);
        }
        continue;
      }
      if (fe.state === FeState.Running) {
        this.fill(voice);
        if (voice.remaining === 0) card.drainFe(fe);
      } else if (fe.state === FeState.Setup) {
        // Drained: the tone is over.
        this.stop(fe);
      }
    }
  }
}
