// Critical sections for the firmware's single interrupt handler.
//
// Espruino runs JavaScript in one main loop; the "interrupt" is a hardware
// timer task (EXEC) that preempts main-loop code between two statements and
// never nests. Masking works like a Cortex-M PRIMASK: while masked, a firing
// of the handler is remembered (pending) and run when the outermost section
// is restored. save/restore nest: save returns the previous state.

export interface IrqState {
  /** The handler is masked: a firing now only sets `pending`. */
  masked: boolean;
  /** The handler is running (from the timer task or from a restore). */
  inHandler: boolean;
  pending: boolean;
  /** Unsafe mode: irqSave masks nothing, to reproduce the historical races. */
  unsafe: boolean;
  handler: () => void;
  /** getTime() when the outermost section opened. */
  maskedAt: number;
  // Figures for stats(), in seconds and counts.
  longestMasked: number;
  handlerRuns: number;
  deferredRuns: number;
  longestHandler: number;
  /** Seconds spent in the handler, ever (getTime()). For the CPU load in stats(). */
  busy: number;
  handlerErrors: number;
  /** What the handler last threw, kept as thrown: formatting it would build a string in the interrupt. */
  lastError: unknown;
}

export const irq: IrqState = {
  masked: false,
  inHandler: false,
  pending: false,
  unsafe: false,
  handler: function () {},
  maskedAt: 0,
  longestMasked: 0,
  handlerRuns: 0,
  deferredRuns: 0,
  longestHandler: 0,
  busy: 0,
  handlerErrors: 0,
  lastError: null,
};

/** Run the handler masked, measuring it. Context: irq. */
function runHandler(): void {
  irq.masked = true;
  irq.inHandler = true;
  const started = getTime();
  try {
    irq.handler();
  } catch (e) {
    // The handler must never leave the mask set; record and carry on.
    irq.handlerErrors++;
    irq.lastError = e;
  }
  const took = getTime() - started;
  if (took > irq.longestHandler) irq.longestHandler = took;
  irq.busy += took;
  irq.handlerRuns++;
  irq.inHandler = false;
  irq.masked = false;
}

/** Mask the handler; returns the previous state for irqRestore. Context: both. */
export function irqSave(): boolean {
  const was = irq.masked;
  if (irq.unsafe) return was;
  if (!was) {
    irq.masked = true;
    irq.maskedAt = getTime();
  }
  return was;
}

/** Restore the state irqSave returned; the outermost restore runs a pending handler. Context: both. */
export function irqRestore(was: boolean): void {
  if (was || !irq.masked || irq.inHandler) return;
  const held = getTime() - irq.maskedAt;
  if (held > irq.longestMasked) irq.longestMasked = held;
  irq.masked = false;
  while (irq.pending) {
    irq.pending = false;
    irq.deferredRuns++;
    runHandler();
  }
}

/**
 * Masking that unsafe mode does not remove: it protects the runtime's own
 * instrumentation (the log ring), which must stay trustworthy while the DPCM
 * lists are deliberately left unguarded.
 * Context: both.
 */
export function irqSaveAlways(): boolean {
  const was = irq.masked;
  if (!was) {
    irq.masked = true;
    irq.maskedAt = getTime();
  }
  return was;
}

/** The entry the board installs as its timer task. Context: irq. */
export function irqEntry(): void {
  if (irq.masked) {
    irq.pending = true;
    return;
  }
  runHandler();
}

/** True when list changes are safe from the handler: masked, or running in it. Context: both. */
export function handlerExcluded(): boolean {
  return irq.masked || irq.inHandler;
}
