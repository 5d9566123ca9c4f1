/* Test harness start-up for QEMU mps2-an386: vector table, reset, fault
   report, semihosting, and a call that checks the AAPCS contract. */
        .syntax unified
        .cpu    cortex-m4
        .thumb

        .section .vectors, "a"
        .word   __stack_top
        .word   reset_handler
        .word   fault_handler           @ NMI
        .word   fault_handler           @ HardFault
        .word   fault_handler           @ MemManage
        .word   fault_handler           @ BusFault
        .word   fault_handler           @ UsageFault

        .text
        .global reset_handler
        .type   reset_handler, %function
        .thumb_func
reset_handler:
        ldr     r0, =__bss_start
        ldr     r1, =__bss_end
        movs    r2, #0
1:      cmp     r0, r1
        bhs     2f
        str     r2, [r0], #4
        b       1b
2:      bl      main
        bl      harness_exit
        b       .

        /* Any fault: report the exception number and CFSR, exit non-zero. */
        .type   fault_handler, %function
        .thumb_func
fault_handler:
        mrs     r0, ipsr
        ldr     r1, =0xE000ED28         @ SCB->CFSR
        ldr     r1, [r1]
        bl      harness_fault
        b       .

        /* uint32_t semihost(uint32_t op, void *arg) */
        .global semihost
        .type   semihost, %function
        .thumb_func
semihost:
        bkpt    0xAB
        bx      lr

        /* uint32_t call_checked(fn, dst, src, samples): calls fn(dst, src,
           samples) with r4-r11 set to known values; returns a bit per
           callee-saved register (r4 = bit 4 .. r11 = bit 11) the routine
           did not give back, bit 13 if sp moved. */
        .global call_checked
        .type   call_checked, %function
        .thumb_func
call_checked:
        push    {r4-r11, lr}
        mov     r12, r0
        mov     r0, r1
        mov     r1, r2
        mov     r2, r3
        ldr     r4, =0x44444444
        ldr     r5, =0x55555555
        ldr     r6, =0x66666666
        ldr     r7, =0x77777777
        ldr     r8, =0x88888888
        ldr     r9, =0x99999999
        ldr     r10, =0xAAAAAAAA
        ldr     r11, =0xBBBBBBBB
        ldr     r3, =saved_sp
        str     sp, [r3]
        blx     r12
        movs    r0, #0
        ldr     r1, =0x44444444
        cmp     r4, r1
        it      ne
        orrne   r0, r0, #(1 << 4)
        ldr     r1, =0x55555555
        cmp     r5, r1
        it      ne
        orrne   r0, r0, #(1 << 5)
        ldr     r1, =0x66666666
        cmp     r6, r1
        it      ne
        orrne   r0, r0, #(1 << 6)
        ldr     r1, =0x77777777
        cmp     r7, r1
        it      ne
        orrne   r0, r0, #(1 << 7)
        ldr     r1, =0x88888888
        cmp     r8, r1
        it      ne
        orrne   r0, r0, #(1 << 8)
        ldr     r1, =0x99999999
        cmp     r9, r1
        it      ne
        orrne   r0, r0, #(1 << 9)
        ldr     r1, =0xAAAAAAAA
        cmp     r10, r1
        it      ne
        orrne   r0, r0, #(1 << 10)
        ldr     r1, =0xBBBBBBBB
        cmp     r11, r1
        it      ne
        orrne   r0, r0, #(1 << 11)
        ldr     r3, =saved_sp
        ldr     r3, [r3]
        cmp     sp, r3
        it      ne
        orrne   r0, r0, #(1 << 13)
        mov     sp, r3                  @ pop from where we pushed, whatever happened
        pop     {r4-r11, pc}
        .ltorg

        /* The routine's bytes, exactly as firmware/native/mix-thumb2.ts ships them. */
        .section .rodata
        .global routine_bytes, routine_bytes_end
        .p2align 2
routine_bytes:
        .incbin "routine.bin"
routine_bytes_end:

        .bss
        .p2align 2
saved_sp:
        .space  4
