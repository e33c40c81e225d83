/* SPDX-License-Identifier: BSD-2-Clause */
/* Entry of every vCPU: RDI = boot info GPA, RSI = CPU index; switch to our own stack. */
#define STACK_SIZE 16384

	.section .text.entry, "ax"
	.globl _start
_start:
	cli
	cld
	cmpq	$64, %rsi
	jae	1f
	/* stack top = cpu_stacks + (cpu + 1) * STACK_SIZE */
	leaq	1(%rsi), %rax
	shlq	$14, %rax
	leaq	cpu_stacks(%rip), %rsp
	addq	%rax, %rsp
	xorl	%ebp, %ebp
	call	kmain
1:	hlt
	jmp	1b

	.section .bss
	.balign 4096
	.globl cpu_stacks
cpu_stacks:
	.skip	STACK_SIZE * 64
