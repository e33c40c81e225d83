/* SPDX-License-Identifier: BSD-2-Clause */
/* Ring-3 code (copied to the stub page) and the kernel's way into and out of ring 3 for the replay. */
/* selectors as guest/kernel/cpu.c lays its GDT out (kernel data 0x10) */

/*
 * The stub: three entries 16 bytes apart, position-independent. RDI is
 * the address to access, RSI the doorbell: a kernel-half address whose
 * read from ring 3 always faults and tells the #PF handler the access
 * is done. Nothing here uses a stack.
 */
	.text
	.balign 16
	.globl user_stub_start, user_stub_end
user_stub_start:
	movb	(%rdi), %al        /* read */
	movb	(%rsi), %al
	ud2
	.balign 16
	movb	%al, (%rdi)        /* write */
	movb	(%rsi), %al
	ud2
	.balign 16
	jmp	*%rdi              /* execute: the #PF handler ends the access on the fetch fault */
	ud2
user_stub_end:

/*
 * uint64_t user_enter(struct user_jump *j, const struct user_frame *f)
 * Saves the kernel's callee-saved registers and stack in j, then IRETQs
 * to f (rip, rdi, rsi, cs, ss). user_leave(j, value) comes back here as
 * if user_enter returned value.
 */
	.globl user_enter
user_enter:
	movq	%rbx, 0(%rdi)
	movq	%rbp, 8(%rdi)
	movq	%r12, 16(%rdi)
	movq	%r13, 24(%rdi)
	movq	%r14, 32(%rdi)
	movq	%r15, 40(%rdi)
	leaq	8(%rsp), %rax
	movq	%rax, 48(%rdi)
	movq	(%rsp), %rax
	movq	%rax, 56(%rdi)
	movq	%rsi, %r11
	pushq	32(%r11)           /* ss */
	pushq	$0                 /* rsp: the stub uses no stack */
	pushq	$0x2               /* rflags: interrupts stay off */
	pushq	24(%r11)           /* cs */
	pushq	0(%r11)            /* rip */
	movq	8(%r11), %rdi
	movq	16(%r11), %rsi
	xorl	%eax, %eax
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	iretq

/* void user_leave(struct user_jump *j, uint64_t value): back into user_enter's caller. */
	.globl user_leave
user_leave:
	movl	$0x10, %eax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movq	0(%rdi), %rbx
	movq	8(%rdi), %rbp
	movq	16(%rdi), %r12
	movq	24(%rdi), %r13
	movq	32(%rdi), %r14
	movq	40(%rdi), %r15
	movq	48(%rdi), %rsp
	movq	%rsi, %rax
	jmpq	*56(%rdi)
