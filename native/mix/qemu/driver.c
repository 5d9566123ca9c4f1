/*
 * Test driver for native/mix/mix.S on QEMU mps2-an386 (Cortex-M4), built at
 * test time by test/native-mix-qemu.test.ts. Semihosting (bkpt 0xAB) reads
 * vectors.bin and writes result.bin in QEMU's working directory.
 *
 * vectors.bin, little-endian: u32 magic "MIXV", u32 cases, then per case
 *   u32 samples, u32 dst_shift, u32 src_shift (0 or 1: one sample more puts
 *   the buffer on a 2-byte boundary), u32 place (which RAM copy of the code
 *   to call), u32 entry (the routine's offset in the code, even: the Thumb
 *   bit is added here), int16 dst[samples], int16 src[samples], zero padding
 *   to 4 bytes.
 * result.bin: per case u32 abi (call_checked's bits, 0 = contract kept),
 *   then the whole dst region and the whole src region, REGION(samples)
 *   int16 each (GUARD guard samples, the shift, the data, GUARD guards).
 * Exit status 0 when every case ran; a fault or bad input exits non-zero
 * with a line on the console.
 */
#include <stdint.h>

#define MAX_SAMPLES 8192
#define GUARD 8
#define GUARD_VALUE 0x5A5A
#define REGION(n) (GUARD + 1 + (n) + GUARD)
#define SLOT_WORDS 64
#define PLACES 2

uint32_t semihost(uint32_t op, void *arg);
uint32_t call_checked(void *fn, int16_t *dst, const int16_t *src, uint32_t samples);
extern const uint8_t routine_bytes[], routine_bytes_end[];

/* gcc may turn loops into calls to these; there is no libc. */
void *memcpy(void *d, const void *s, unsigned n) {
  uint8_t *dp = d;
  const uint8_t *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}
void *memset(void *d, int v, unsigned n) {
  uint8_t *dp = d;
  while (n--) *dp++ = (uint8_t)v;
  return d;
}

static uint8_t input[4 * MAX_SAMPLES * 8];
static int16_t dst_region[REGION(MAX_SAMPLES)];
static int16_t src_region[REGION(MAX_SAMPLES)];
/* Two RAM copies of the routine at different addresses, as Espruino copies
   it into a flat string wherever one is free. */
static uint32_t code_ram[PLACES][SLOT_WORDS];
static uint32_t out_handle;

static void say(const char *text) { semihost(0x04, (void *)text); } /* SYS_WRITE0 */

void harness_exit(uint32_t ok) {
  semihost(0x18, (void *)(ok ? 0x20026u : 0x20023u)); /* ApplicationExit / RunTimeErrorUnknown */
  for (;;) {}
}

static void hex(uint32_t v) {
  char buf[11];
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789ABCDEF"[(v >> (28 - 4 * i)) & 15];
  buf[10] = 0;
  say(buf);
}

void harness_fault(uint32_t ipsr, uint32_t cfsr) {
  say("FAULT exception ");
  hex(ipsr);
  say(" CFSR ");
  hex(cfsr);
  say("\n");
  harness_exit(0);
}

static void fail(const char *why) {
  say("BAD INPUT: ");
  say(why);
  say("\n");
  harness_exit(0);
}

static uint32_t open_file(const char *name, uint32_t mode) {
  uint32_t len = 0;
  while (name[len]) len++;
  uint32_t args[3] = {(uint32_t)name, mode, len};
  uint32_t h = semihost(0x01, args); /* SYS_OPEN */
  if (h == 0xFFFFFFFFu) fail("cannot open a file");
  return h;
}

static void write_out(const void *buf, uint32_t len) {
  uint32_t args[3] = {out_handle, (uint32_t)buf, len};
  if (semihost(0x05, args) != 0) fail("short write"); /* SYS_WRITE: bytes not written */
}

static uint32_t read_u32(const uint8_t **p) {
  const uint8_t *b = *p;
  *p += 4;
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

int main(void) {
  uint32_t code_len = (uint32_t)(routine_bytes_end - routine_bytes);
  if (code_len == 0 || code_len > 4 * SLOT_WORDS) fail("routine size");
  for (int p = 0; p < PLACES; p++) {
    uint16_t *slot = (uint16_t *)code_ram[p];
    for (int i = 0; i < 2 * SLOT_WORDS; i++) slot[i] = 0xDEFE; /* UDF: running off the end faults */
    memcpy(slot, routine_bytes, code_len);
  }
  __asm volatile("dsb\n isb" ::: "memory");

  uint32_t in = open_file("vectors.bin", 1); /* "rb" */
  uint32_t flen = semihost(0x0C, &in);        /* SYS_FLEN */
  if (flen > sizeof input) fail("vectors.bin too big");
  uint32_t rargs[3] = {in, (uint32_t)input, flen};
  if (semihost(0x06, rargs) != 0) fail("short read"); /* SYS_READ: bytes not read */
  semihost(0x02, &in);                                /* SYS_CLOSE */
  out_handle = open_file("result.bin", 5);            /* "wb" */

  const uint8_t *p = input;
  if (read_u32(&p) != 0x5658494Du) fail("magic");
  uint32_t cases = read_u32(&p);
  for (uint32_t c = 0; c < cases; c++) {
    uint32_t n = read_u32(&p), dshift = read_u32(&p), sshift = read_u32(&p), place = read_u32(&p), entry = read_u32(&p);
    if (n > MAX_SAMPLES || dshift > 1 || sshift > 1 || place >= PLACES || entry >= code_len || (entry & 1)) fail("case header");
    if ((uint32_t)(p - input) + 4 * n > flen) fail("truncated case");
    for (uint32_t i = 0; i < REGION(n); i++) dst_region[i] = src_region[i] = (int16_t)GUARD_VALUE;
    int16_t *dst = dst_region + GUARD + dshift;
    int16_t *src = src_region + GUARD + sshift;
    for (uint32_t i = 0; i < n; i++, p += 2) dst[i] = (int16_t)(p[0] | (p[1] << 8));
    for (uint32_t i = 0; i < n; i++, p += 2) src[i] = (int16_t)(p[0] | (p[1] << 8));
    p += (4 - ((p - input) & 3)) & 3;
    /* Thumb bit set, as E.nativeCall's odd offsets do. */
    void *fn = (void *)(((uint32_t)code_ram[place] + entry) | 1u);
    uint32_t abi = call_checked(fn, dst, src, n);
    write_out(&abi, 4);
    write_out(dst_region, 2 * REGION(n));
    write_out(src_region, 2 * REGION(n));
  }
  semihost(0x02, &out_handle);
  say("MIX HARNESS DONE\n");
  return 1;
}
