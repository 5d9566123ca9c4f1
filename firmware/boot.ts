// Start-up: build the runtime for a board, install the interrupt, the main
// loop's service tick and the console commands.

import { Board } from "./board";
import { irq, irqEntry } from "./irq";
import { drain } from "./log";
import { Card } from "./dpcm";
import { Player } from "./player";
import { installConsole } from "./console";

export const VERSION = "0.1.0";
/** The timer task (EXEC) this firmware relies on for preemption appeared in 2v29. */
const NEEDS_ESPRUINO = 2.29;
/** Links: every FE to every BE, twice over, so a reroute can connect before it disconnects. */
const LINKS_PER_PAIR = 2;

/** "2v29" -> 2.29; "2v29.12" -> 2.29. */
function espruinoVersion(text: string): number {
  const parts = text.split("v");
  return parseInt(parts[0], 10) + parseInt(parts[1], 10) / 100;
}

export function boot(board: Board): void {
  const card = new Card(board, board.frontEnds.length * board.backEnds.length * LINKS_PER_PAIR);
  const player = new Player(card);
  irq.handler = function () {
    card.handler();
  };
  const version = "" + process.env.VERSION;
  if (espruinoVersion(version) < NEEDS_ESPRUINO) {
    print("WARNING dpcm-espruino needs Espruino 2v29 or later (timer tasks); this is " + version);
  }
  const how = board.startInterrupt(irqEntry);
  function serviceTick(): void {
    player.service();
    drain(card.feNames, card.beNames, print);
  }
  const periodMs = (board.params.periodFrames / board.params.rate) * 1000;
  setInterval(serviceTick, periodMs / 2);
  installConsole(card, player, VERSION);
  print(
    "READY dpcm-espruino " + VERSION + " board=" + board.name + " espruino=" + version + " fes=" + card.feNames.join(",") +
      " bes=" + card.beNames.join(",") + " irq=\"" + how + "\"",
  );
}
