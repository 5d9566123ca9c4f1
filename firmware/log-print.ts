// Printing the log ring (log.ts) on the console: the main loop's half of the
// log. The line format is documented in ARCHITECTURE.md ("Race detectors and
// the log line format") and parsed by scripts/lib/race-log.ts.

import { irqSaveAlways, irqRestore } from "./irq";
import { CAPACITY_RECORDS, KIND_NAMES, RACE_KINDS, SITE_NAMES, ring } from "./log";

/** Context: main. */
function nameOf(names: string[], index: number): string {
  return index < 0 ? "-" : names[index];
}

/**
 * Format and print every record made since the last drain. Context: main.
 * Returns the number of lines printed.
 */
export function drain(feNames: string[], beNames: string[], out: (line: string) => void): number {
  let lines = 0;
  const was = irqSaveAlways();
  const lost = ring.lost;
  ring.lost = 0;
  irqRestore(was);
  if (lost > 0) {
    out("LOST n=" + lost);
    lines++;
  }
  while (ring.read < ring.written) {
    const i = ring.read % CAPACITY_RECORDS;
    const kind = ring.kind[i];
    const link = ring.link[i] < 0 ? "-" : ring.link[i] + "#" + ring.gen[i];
    let line =
      (kind < RACE_KINDS ? "RACE" : "EVT") +
      " t=" + ring.time[i].toFixed(6) +
      " kind=" + KIND_NAMES[kind] +
      " ctx=" + (ring.ctx[i] ? "irq" : "main") +
      " fe=" + nameOf(feNames, ring.fe[i]) +
      " be=" + nameOf(beNames, ring.be[i]) +
      " link=" + link +
      " at=" + SITE_NAMES[ring.site[i]];
    if (kind >= RACE_KINDS) line += " n=" + ring.value[i];
    // The slot is released only after it has been read.
    ring.read++;
    out(line);
    lines++;
  }
  return lines;
}

