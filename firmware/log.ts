// The interrupt-safe log: fixed arrays of numeric records, written from the
// interrupt or the main loop in constant time (no strings, no allocation),
// formatted and printed by the main loop. When full, records are dropped and
// the number lost is itself reported.
//
// Line format (one line a record, space-separated key=value, documented in
// ARCHITECTURE.md):
//   RACE t=<seconds> kind=<kind> ctx=<main|irq> fe=<name|-> be=<name|-> link=<slot>#<gen>|- at=<site>
//   EVT  t=<seconds> kind=<kind> ctx=<main|irq> fe=<name|-> be=<name|-> link=<slot>#<gen>|- at=<site> n=<number>
//   LOST n=<records dropped since the last drain>

import { irq, irqSaveAlways, irqRestore } from "./irq";

export const enum Kind {
  // Races: what the detectors find.
  UseAfterFree = 0,
  PoisonedWalk = 1,
  UnmaskedListChange = 2,
  DoubleStart = 3,
  LeftRunning = 4,
  LostTrigger = 5,
  UnbalancedStop = 6,
  // Events: normal operation worth a line.
  Xrun = 7,
  Drained = 8,
  TriggerDeferred = 9,
  TriggerReplayed = 10,
  BeStart = 11,
  BeStop = 12,
  HandlerError = 13,
}
/** Kinds below this are races. */
export const RACE_KINDS = 7;
export const KIND_NAMES = [
  "use-after-free",
  "poisoned-walk",
  "unmasked-list-change",
  "double-start",
  "left-running",
  "lost-trigger",
  "unbalanced-stop",
  "xrun",
  "drained",
  "trigger-deferred",
  "trigger-replayed",
  "be-start",
  "be-stop",
  "handler-error",
];

/** Where a record was made: a fixed table so the interrupt stores a number. */
export const enum Site {
  PeriodWalk = 0,
  FeAdvance = 1,
  TriggerWalk = 2,
  BeUsers = 3,
  LinkAdd = 4,
  LinkDel = 5,
  BeStart = 6,
  BeStop = 7,
  UpdateEnd = 8,
  Trigger = 9,
  Handler = 10,
  Selftest = 11,
}
export const SITE_NAMES = [
  "period-walk",
  "fe-advance",
  "trigger-walk",
  "be-users",
  "link-add",
  "link-del",
  "be-start",
  "be-stop",
  "update-end",
  "trigger",
  "handler",
  "selftest",
];

const CAPACITY = 32;

export const ring = {
  time: new Float64Array(CAPACITY),
  kind: new Uint8Array(CAPACITY),
  ctx: new Uint8Array(CAPACITY),
  fe: new Int8Array(CAPACITY),
  be: new Int8Array(CAPACITY),
  link: new Int16Array(CAPACITY),
  gen: new Int32Array(CAPACITY),
  site: new Uint8Array(CAPACITY),
  value: new Int32Array(CAPACITY),
  /** Records written and read, ever; index = count % CAPACITY. */
  written: 0,
  read: 0,
  lost: 0,
  /** Per kind, every record ever made (lost or not). */
  counts: new Int32Array(KIND_NAMES.length),
  /** While > 0, records are counted in `captured` only (selftest). */
  capturing: 0,
  captured: new Int32Array(KIND_NAMES.length),
};

export const CAPACITY_RECORDS = CAPACITY;

/** Make a record. Constant time; callable from the interrupt. */
export function record(kind: Kind, fe: number, be: number, link: number, gen: number, site: Site, value: number): void {
  if (ring.capturing > 0) {
    ring.captured[kind]++;
    return;
  }
  const was = irqSaveAlways();
  ring.counts[kind]++;
  if (ring.written - ring.read >= CAPACITY) {
    ring.lost++;
  } else {
    const i = ring.written % CAPACITY;
    ring.time[i] = getTime();
    ring.kind[i] = kind;
    ring.ctx[i] = irq.inHandler ? 1 : 0;
    ring.fe[i] = fe;
    ring.be[i] = be;
    ring.link[i] = link;
    ring.gen[i] = gen;
    ring.site[i] = site;
    ring.value[i] = value;
    ring.written++;
  }
  irqRestore(was);
}

function nameOf(names: string[], index: number): string {
  return index < 0 ? "-" : names[index];
}

/**
 * Format and print every record made since the last drain. Main loop only.
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
    const i = ring.read % CAPACITY;
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

/** Races ever detected, by kind (outside selftest). */
export function raceTotal(): number {
  let total = 0;
  for (let k = 0; k < RACE_KINDS; k++) total += ring.counts[k];
  return total;
}
