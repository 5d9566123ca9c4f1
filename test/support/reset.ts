// Firmware modules keep module-level state (the interrupt mask in irq.ts, the
// log ring in log.ts). Every test starts from the state a fresh boot has.
import { irq } from "../../firmware/irq.ts";
import { ring } from "../../firmware/log.ts";

export function resetFirmwareState(): void {
  irq.masked = false;
  irq.inHandler = false;
  irq.pending = false;
  irq.unsafe = false;
  irq.handler = function () {};
  irq.maskedAt = 0;
  irq.longestMasked = 0;
  irq.handlerRuns = 0;
  irq.deferredRuns = 0;
  irq.longestHandler = 0;
  irq.busy = 0;
  irq.handlerErrors = 0;
  irq.lastError = null;

  ring.time.fill(0);
  ring.kind.fill(0);
  ring.ctx.fill(0);
  ring.fe.fill(0);
  ring.be.fill(0);
  ring.link.fill(0);
  ring.gen.fill(0);
  ring.site.fill(0);
  ring.value.fill(0);
  ring.written = 0;
  ring.read = 0;
  ring.lost = 0;
  ring.counts.fill(0);
  ring.capturing = 0;
  ring.captured.fill(0);
}
