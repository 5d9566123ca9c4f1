// Register access shared by the STM32F4 drivers. Kept apart from regs.ts,
// which must stay free of Espruino globals (see there).

/**
 * Read-modify-write of a 32-bit register: clear `mask`, set `value` (inside
 * mask). For registers Espruino's own drivers share (RCC enables, GPIO).
 * Like Linux's clrsetbits_le32. Not atomic: the caller keeps the handler out
 * when the interrupt could touch the same register (none does today).
 * Context: main.
 */
export function setBits(address: number, mask: number, value: number): void {
  poke32(address, (peek32(address) & ~mask) | value);
}

/**
 * Poll a register until (value & mask) === want, at most `polls` reads (a
 * bounded wait, like the HAL's loops with a timeout: ST's code waits for EN,
 * TXE, BSY and PLLI2SRDY this way). Returns false when it never got there.
 * Context: both (the driver's bounded waits in trigger).
 */
export function waitBits(address: number, mask: number, want: number, polls: number): boolean {
  for (let i = 0; i < polls; i++) {
    if ((peek32(address) & mask) === want) return true;
  }
  return false;
}
