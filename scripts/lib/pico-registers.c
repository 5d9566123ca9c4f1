/*
 * LD_PRELOAD shim for npm run calibrate (scripts/lib/calibration.ts): lets
 * the real Espruino 2v29 Linux interpreter run the Pico's bundle, whose
 * driver reads and writes STM32F401 registers with peek32/poke32.
 *
 * What the Linux build does with them (src/jswrap_io.c and
 * targets/linux/jshardware.c at RELEASE_2V29): poke32(addr, v) stores v at
 * addr; peek32(addr) reads at jshFlashGetMemMapAddress(addr), which on Linux
 * is always 0. So every peek32 reads the word at address 0, and every poke32
 * writes the address it names. This shim maps the first page (where every
 * read lands) and the peripheral window the drivers write (0x40000000 up to
 * DMA2's end, RM0368 table 1), both as plain memory. The calibration driver
 * sets the word at 0 to what the registers would show at each point of its
 * script (poke32(0, value)); the interpreter's own code is untouched, so the
 * instructions it counts are its own.
 *
 * Time: gettimeofday and clock_gettime (what the Linux build's
 * jshGetSystemTime and its idle loop read) return the microseconds in the
 * word at address 8, which the script sets (poke32(8, us)): getTime() is
 * the Pico's time as the script advances it, not the host's. Under
 * valgrind the host's clock runs some fifty times slower than the code, so
 * the load meter's window and the watchdog's timeouts would fire on every
 * call and count work a Pico does not do; with the script's clock they
 * fire as on a board, and each run counts the same instructions.
 *
 * Mapping page 0 is below vm.mmap_min_addr: it needs root (CAP_SYS_RAWIO).
 * Exits with status 70 and a line on stderr when a mapping fails.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <stdint.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static void map_or_die(unsigned long at, unsigned long bytes, int flags, const char *what) {
  void *p = mmap((void *)at, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
  if (p != (void *)at) {
    fprintf(stderr, "pico-registers: cannot map %s at 0x%lx (page 0 needs root or CAP_SYS_RAWIO)\n", what, at);
    exit(70);
  }
}

__attribute__((constructor)) static void pico_registers(void) {
  map_or_die(0, 4096, MAP_FIXED, "the word every peek32 reads");
  map_or_die(0x40000000UL, 0x26800UL, MAP_FIXED_NOREPLACE, "the STM32F401 peripheral window");
}

/* The script's clock: microseconds in the word at address 8. */
static uint64_t now_us(void) { return *(volatile uint32_t *)8; }

int gettimeofday(struct timeval *tv, void *tz) {
  (void)tz;
  uint64_t us = now_us();
  if (tv) {
    tv->tv_sec = (time_t)(us / 1000000u);
    tv->tv_usec = (suseconds_t)(us % 1000000u);
  }
  return 0;
}

int clock_gettime(clockid_t clk, struct timespec *ts) {
  (void)clk;
  uint64_t us = now_us();
  ts->tv_sec = (time_t)(us / 1000000u);
  ts->tv_nsec = (long)(us % 1000000u) * 1000;
  return 0;
}
