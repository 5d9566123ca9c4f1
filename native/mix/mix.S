/*
 * The firmware's per-sample work for Cortex-M4 (ARMv7E-M, Thumb-2), three
 * routines with one signature, in one block of code:
 *
 *   void mix_saturating_s16(int16_t *dst, const int16_t *src, uint32_t samples)
 *     dst[i] = clamp(dst[i] + src[i], -32768, 32767) for i < samples: the
 *     saturating mix of firmware/native/mix.ts (mixSaturating), two samples
 *     per QADD16.
 *   void copy_s16(int16_t *dst, const int16_t *src, uint32_t samples)
 *     dst[i] = src[i] for i < samples (TypedArray.set, which Espruino does
 *     an element at a time through its array iterators: about 330 x86
 *     instructions a sample on the Linux build, npm run calibrate).
 *   void zero_s16(int16_t *dst, const int16_t *unused, uint32_t samples)
 *     dst[i] = 0 for i < samples (TypedArray.fill(0), likewise an element
 *     at a time, about 900 instructions a sample); the second argument is
 *     ignored, so all three share E.nativeCall's signature.
 *
 * Called from Espruino 2v29 as
 *   E.nativeCall(entry, "void(int,int,int)", atob(code))(E.getAddressOf(dst, true),
 *                                                        E.getAddressOf(src, true), n)
 * with entry the routine's offset in the code plus 1 (the Thumb bit).
 * What Espruino's source (tag RELEASE_2V29) does with that:
 * - jswrap_espruino_nativeCall (src/jswrap_espruino.c): `int` is JSWAT_INT32;
 *   with `data` given, the string is made flat (jsvAsFlatString, a copy
 *   unless already flat) and kept as the function's hidden code child, and
 *   `addr` becomes an offset into it.
 * - jsvGetNativeFunctionPtr (src/jsvar.c): the call target is that offset
 *   plus the flat string's data pointer (the JsVar after its header; JsVars
 *   are 16 bytes in a 4-byte aligned array on the Pico), so the code lands
 *   4-byte aligned in SRAM, at an address known only at run time: the code
 *   must be position independent, and `addr` must carry the Thumb bit (1 for
 *   entry at offset 0), as the official assembler plugin emits.
 * - jsnCallFunction (src/jsnative.c): up to 4 word arguments go in r0-r3 as
 *   an AAPCS call (int: (uint32_t)jsvGetInteger); r4-r11 must be preserved.
 *
 * Why assembly, not C with __QADD16: the instructions are exactly these, so
 * (1) only single-word LDR/STR and halfword LDRH/STRH touch the buffers:
 * they accept the 2-byte aligned address of an Int16Array view, where the
 * LDRD/LDM a compiler may pick would fault; (2) no literal pool, no absolute
 * address, no call into libgcc or libc; (3) the bytes do not change with
 * the compiler's optimiser, so CI's rebuild compares byte for byte; (4) the
 * instruction count the emulator charges is read off this listing
 * (emulator/native-code.ts) and checked under qemu.
 *
 * Any `samples` (odd too): groups of 8 samples, then pairs, then one last
 * sample. dst and src may be the same buffer but must not partly overlap.
 */
        .syntax unified
        .cpu    cortex-m4
        .thumb
        .text
        .global mix_saturating_s16
        .type   mix_saturating_s16, %function
        .thumb_func
mix_saturating_s16:
        push    {r4-r7}
        lsrs    r3, r2, #3              @ r3 = groups of 8 samples
        beq     .Lpairs
.Lgroup:                                @ 4 words = 8 samples an iteration
        ldr     r4, [r0]
        ldr     r6, [r0, #4]
        ldr     r5, [r1], #4
        ldr     r7, [r1], #4
        qadd16  r4, r4, r5
        qadd16  r6, r6, r7
        str     r4, [r0], #4
        str     r6, [r0], #4
        ldr     r4, [r0]
        ldr     r6, [r0, #4]
        ldr     r5, [r1], #4
        ldr     r7, [r1], #4
        qadd16  r4, r4, r5
        qadd16  r6, r6, r7
        str     r4, [r0], #4
        str     r6, [r0], #4
        subs    r3, r3, #1
        bne     .Lgroup
.Lpairs:
        ubfx    r3, r2, #1, #2          @ r3 = pairs left (0..3)
        cbz     r3, .Lodd
.Lpair:
        ldr     r4, [r0]
        ldr     r5, [r1], #4
        qadd16  r4, r4, r5
        str     r4, [r0], #4
        subs    r3, r3, #1
        bne     .Lpair
.Lodd:
        lsls    r3, r2, #31             @ Z clear when samples is odd
        beq     .Ldone
        ldrh    r4, [r0]                @ the low lane of QADD16 is the sample
        ldrh    r5, [r1]
        qadd16  r4, r4, r5
        strh    r4, [r0]
.Ldone:
        pop     {r4-r7}
        bx      lr
        .size   mix_saturating_s16, . - mix_saturating_s16

        .global copy_s16
        .type   copy_s16, %function
        .thumb_func
copy_s16:
        push    {r4-r7}
        lsrs    r3, r2, #3              @ r3 = groups of 8 samples
        beq     .Lcpairs
.Lcgroup:                               @ 4 words = 8 samples an iteration
        ldr     r4, [r1], #4
        ldr     r5, [r1], #4
        ldr     r6, [r1], #4
        ldr     r7, [r1], #4
        str     r4, [r0], #4
        str     r5, [r0], #4
        str     r6, [r0], #4
        str     r7, [r0], #4
        subs    r3, r3, #1
        bne     .Lcgroup
.Lcpairs:
        ubfx    r3, r2, #1, #2          @ r3 = pairs left (0..3)
        cbz     r3, .Lcodd
.Lcpair:
        ldr     r4, [r1], #4
        str     r4, [r0], #4
        subs    r3, r3, #1
        bne     .Lcpair
.Lcodd:
        lsls    r3, r2, #31             @ Z clear when samples is odd
        beq     .Lcdone
        ldrh    r4, [r1]
        strh    r4, [r0]
.Lcdone:
        pop     {r4-r7}
        bx      lr
        .size   copy_s16, . - copy_s16

        .global zero_s16
        .type   zero_s16, %function
        .thumb_func
zero_s16:
        movs    r3, #0
        lsrs    r1, r2, #3              @ r1 = groups of 8 samples (src is not used)
        beq     .Lzpairs
.Lzgroup:
        str     r3, [r0], #4
        str     r3, [r0], #4
        str     r3, [r0], #4
        str     r3, [r0], #4
        subs    r1, r1, #1
        bne     .Lzgroup
.Lzpairs:
        ubfx    r1, r2, #1, #2          @ r1 = pairs left (0..3)
        cbz     r1, .Lzodd
.Lzpair:
        str     r3, [r0], #4
        subs    r1, r1, #1
        bne     .Lzpair
.Lzodd:
        lsls    r1, r2, #31             @ Z clear when samples is odd
        beq     .Lzdone
        strh    r3, [r0]
.Lzdone:
        bx      lr
        .size   zero_s16, . - zero_s16
