// Register access shared by the STM32F4 drivers. Kept apart from regs.ts,
// which must stay free of Espruino globals (see there).

/**
 * Read-modify-write of a 32-bit register: clear `mask`, set `value` (inside
 * mask). For registers Espruino's own drivers share (RCC enables, GPIO).
 * Like Linux's clrsetbits_le32. Not atomic: the caller keeps the handler out
 * when the interrupt could touch the same register (none does today).
 */
export function setBits(address: number, mask: number, value: number): void {
  poke32(address, (peek32(address) & ~mask) | value);
}
