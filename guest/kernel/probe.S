/* SPDX-License-Identifier: BSD-2-Clause */
/* Memory probes that survive a fault: they return 1 instead of crashing (see trap.c). */
	.text

/* int probe_read64(const volatile uint64_t *p, uint64_t *out) */
	.globl probe_read64
probe_read64:
	xorl	%eax, %eax
1:	movq	(%rdi), %rcx
	movq	%rcx, (%rsi)
2:	ret
	.section .probe_table, "a"
	.quad	1b, 2b
	.text

/* int probe_write64(volatile uint64_t *p, uint64_t value) */
	.globl probe_write64
probe_write64:
	xorl	%eax, %eax
3:	movq	%rsi, (%rdi)
4:	ret
	.section .probe_table, "a"
	.quad	3b, 4b
	.text

/* int probe_write8(volatile uint8_t *p, uint8_t value) */
	.globl probe_write8
probe_write8:
	xorl	%eax, %eax
5:	movb	%sil, (%rdi)
6:	ret
	.section .probe_table, "a"
	.quad	5b, 6b
	.text
