// The interrupt-safe log: fixed arrays of numeric records, written from the
// interrupt or the main loop in constant time (no strings, no allocation),
// formatted and printed by the main loop (log-print.ts). When full, records
// are dropped and the number lost is itself reported.
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
  UnmaskedCountChange = 3,
  DoubleStart = 4,
  LeftRunning = 5,
  LostTrigger = 6,
  UnbalancedStop = 7,
  // Events: normal operation worth a line.
  Xrun = 8,
  Drained = 9,
  TriggerDeferred = 10,
  TriggerReplayed = 11,
  HandlerError = 12,
  /** A BE driver's refill ended after its DMA block began (n = frames already played from it). */
  LateRefill = 13,
  /** A DMA period buffer was found at a new address (E.defrag moved it; n = 1 if the DMA was reading it). */
  BufferMoved = 14,
}
/** Kinds below this are races. */
export const RACE_KINDS = 8;
export const KIND_NAMES = [
  "use-after-free",
  "poisoned-walk",
  "unmasked-list-change",
  "unmasked-count-change",
  "double-start",
  "left-running",
  "lost-trigger",
  "unbalanced-stop",
  "xrun",
  "drained",
  "trigger-deferred",
  "trigger-replayed",
  "handler-error",
  "late-refill",
  "buffer-moved",
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
  LinkCount = 12,
  FeClose = 13,
  /** A BE driver's own check (its poll, after a refill). */
  BeDriver = 14,
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
  "link-count",
  "fe-close",
  "be-driver",
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

/** Make a record. Constant time, no allocation. Context: both. */
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

/** Races ever detected (outside selftest). Context: both. */
export function raceTotal(): number {
  let total = 0;
  for (let k = 0; k < RACE_KINDS; k++) total += ring.counts[k];
  return total;
}
