// Public API of the host emulator core.

export {
  Machine,
  I2CBus,
  DEFAULT_PINS,
  SRAM_BASE,
  hex32,
  type MachineOptions,
  type MachineStats,
  type RunOptions,
  type StatementHook,
  type UncaughtError,
  type ErrorLocation,
  type ScriptRecord,
  type SiteInfo,
} from "./machine.ts";
export {
  preemptTransform,
  mapSite,
  mapBundlePosition,
  toTraceMap,
  formatPosition,
  EspruinoSyntaxError,
  type Site,
  type PreemptOptions,
  type PreemptResult,
  type SourcePosition,
} from "./preempt.ts";
export {
  loadBundle,
  loadBundleFile,
  readBundleFile,
  compileScript,
  type BundleSource,
  type LoadOptions,
  type LoadResult,
  type CompiledScript,
} from "./load-bundle.ts";
export { SerialConsole, formatValue, type ConsoleOptions, type FormatOptions } from "./console.ts";
export { NOT_REMOVABLE, sizeOf } from "./espruino-globals.ts";
export { createGenericMachine, type GenericBoard } from "./boards/generic.ts";
export type { Peripheral, I2CDevice, HardwareFault, MachineServices, OutputRecorder } from "./hardware.ts";
