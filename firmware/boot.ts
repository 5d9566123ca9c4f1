// Start-up: build the card for a board, install the interrupt, the main
// loop's service tick (player, log, watchdog) and the console commands, then
// print READY once it is known how the interrupt runs. Context: main.

import { Board } from "./board";
import { installConsole, ConsoleInfo } from "./console";
import { Card } from "./dpcm/card";
import { attachInterrupt } from "./dpcm/period";
import { irq, irqEntry } from "./irq";
import { CpuLoad } from "./load";
import { nativeSampleOps, nativeSampleRoutines } from "./native/mix";
import { drain } from "./log-print";
import { ring } from "./log";
import { Player } from "./player";
import { Watchdog } from "./watchdog";

export const VERSION = "0.2.0";
/** The timer task (EXEC) this firmware relies on for preemption appeared in 2v29. */
const NEEDS_ESPRUINO = 2.29;
/** Links: every FE to every BE, twice over, so a reroute can connect before it disconnects. */
const LINKS_PER_PAIR = 2;
/** Service ticks (half periods) between two watchdog checks: well inside its MISSED_PERIODS limit. */
const WATCHDOG_TICKS = 2;
/** Periods to wait for the first run of the timer task before deciding it does not fire. */
const FIRST_RUN_PERIODS = 2;

/** "2v29" -> 2.29; "2v29.12" -> 2.29. Context: main. */
function espruinoVersion(text: string): number {
  const parts = text.split("v");
  return parseInt(parts[0], 10) + parseInt(parts[1], 10) / 100;
}

/** Start the firmware on `board`. READY follows about two periods later. Context: main (boot). */
export function boot(board: Board): void {
  const card = new Card(board, board.frontEnds.length * board.backEnds.length * LINKS_PER_PAIR);
  const player = new Player(card);
  irq.handler = attachInterrupt(card);
  const version = "" + process.env.VERSION;
  if (espruinoVersion(version) < NEEDS_ESPRUINO) {
    print("WARNING dpcm-espruino needs Espruino 2v29 or later (timer tasks); this is " + version);
  }
  // The native mixer where the CPU runs it; otherwise the reason, for stats().
  const routines = nativeSampleRoutines();
  let mixing = "native (Cortex-M4 QADD16; copy and silence native too)";
  if (typeof routines === "string") mixing = "JavaScript: " + routines;
  else card.ops = nativeSampleOps(routines);
  const info: ConsoleInfo = { version: VERSION, interrupt: board.startInterrupt(irqEntry), mixer: mixing, load: null };
  const watchdog = new Watchdog(card, info.interrupt);
  const periodMs = (board.params.periodFrames / board.params.rate) * 1000;
  const load = new CpuLoad(periodMs / 1000);
  info.load = load;
  /** The main loop's audio work, timed by the load meter. Context: main. */
  function audioWork(): void {
    player.service();
  }
  // The tick's own cost is paid every tick whatever it finds (on a Pico,
  // over a million interpreter instructions: npm run calibrate). It runs
  // every half period, so a refill follows a completion by at most half a
  // period (ticks that return early when the handler has not run were
  // measured and dropped: they moved the race explorer's scenario 4 out of
  // its window). The log is printed only when it holds something; the
  // watchdog, whose limit is MISSED_PERIODS periods, looks every
  // WATCHDOG_TICKS ticks.
  let ticks = 0;
  /** Context: main (every half period). */
  function serviceTick(): void {
    load.measure(audioWork);
    if (ring.written !== ring.read || ring.lost) drain(card.feNames, card.beNames, print);
    if (++ticks >= WATCHDOG_TICKS) {
      ticks = 0;
      watchdog.check(print);
    }
  }
  setInterval(serviceTick, periodMs / 2);
  installConsole(card, player, info);
  setTimeout(function () {
    if (irq.handlerRuns === 0 && board.fallbackInterrupt) info.interrupt = board.fallbackInterrupt(irqEntry);
    watchdog.interrupt = info.interrupt;
    print(
      "READY dpcm-espruino " + VERSION + " board=" + board.name + " espruino=" + version + " fes=" + card.feNames.join(",") +
        " bes=" + card.beNames.join(",") + " irq=\"" + info.interrupt + "\"",
    );
  }, FIRST_RUN_PERIODS * periodMs);
}
