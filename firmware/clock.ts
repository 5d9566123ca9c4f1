// A clock one driver provides and another consumes: a codec's master clock
// made by a timer, for instance. Linux's clock consumer API (include/linux/clk.h:
// clk_prepare_enable, clk_disable_unprepare, clk_get_rate), which
// sound/soc/codecs/wm8731.c uses for its "mclk".

/** A fixed-rate clock. Methods return "" on success or an error message; they never throw. */
export interface Clock {
  /** Frequency once enabled, Hz (clk_get_rate). */
  hz: number;
  /** Start the clock (and its output pin). Main loop only. */
  enable(): string;
  /** Stop it. Main loop only. */
  disable(): void;
}
