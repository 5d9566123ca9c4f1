// Which Espruino boards run native code built for Cortex-M4 (ARMv7E-M with
// the DSP instructions, e.g. QADD16). Espruino says nothing of the CPU at run
// time (process.env has BOARD, not an architecture), and reading the core's
// CPUID register is only safe once the board is known to be a Cortex-M, so
// the firmware goes by process.env.BOARD: the board ids below, with the chip
// each one's boards/<BOARD>.py names in Espruino's source (RELEASE_2V29).
// Anything else keeps the JavaScript routines: LINUX (x86 or another host),
// ESPRUINOBOARD (STM32F103, a Cortex-M3 without QADD16: it would fault),
// ESP32/ESP8266 (Xtensa), and any board not checked here.

/** process.env.BOARD values whose chip is a Cortex-M4F. */
export const CORTEX_M4_BOARDS = [
  "PICO_R1_3", // Espruino Pico: STM32F401CDU6
  "ESPRUINOWIFI", // Espruino WiFi: STM32F411CEU6
  "PUCKJS", // nRF52832
  "PIXLJS", // nRF52832
  "MDBT42Q", // nRF52832
  "BANGLEJS", // nRF52832
  "BANGLEJS2", // nRF52840
  "JOLTJS", // nRF52840
];

/** True when `board` (process.env.BOARD) is one of CORTEX_M4_BOARDS. Context: main. */
export function isCortexM4Board(board: string): boolean {
  return CORTEX_M4_BOARDS.indexOf(board) >= 0;
}
