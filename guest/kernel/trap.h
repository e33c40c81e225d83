/* SPDX-License-Identifier: BSD-2-Clause */
/* Exceptions: the IDT, probes that survive faults, and the page-fault hook. */
#ifndef GUEST_TRAP_H
#define GUEST_TRAP_H

#include <stdbool.h>
#include <stdint.h>

/* Saved by vectors.S: general registers, then what the CPU pushed. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define VEC_DE 0
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14

/* Page-fault error code bits */
#define PF_ERR_PRESENT (1u << 0)
#define PF_ERR_WRITE   (1u << 1)
#define PF_ERR_USER    (1u << 2)
#define PF_ERR_RSVD    (1u << 3)
#define PF_ERR_FETCH   (1u << 4)

/*
 * A #PF handler returns true when it fixed the cause (e.g. mapped the
 * page) so the faulting instruction can run again.
 */
typedef bool (*page_fault_fn)(uint64_t cr2, uint64_t error_code);
void trap_set_page_fault_handler(page_fault_fn fn);

/* An interrupt handler (vector >= 32); runs with interrupts off and sends its own EOI. */
typedef void (*irq_fn)(void);
void trap_set_irq_handler(unsigned vector, irq_fn fn);

/* Fills the shared IDT; each CPU then calls trap_load_idt(). */
void trap_init(void);
void trap_load_idt(void);
/* Loads an empty IDT so the next exception escalates to a triple fault. */
void trap_load_empty_idt(void);

/* Accesses that return 1 (and record the fault) instead of crashing. */
int probe_read64(const volatile uint64_t *p, uint64_t *out);
int probe_write64(volatile uint64_t *p, uint64_t value);
int probe_write8(volatile uint8_t *p, uint8_t value);

/* The last fault a probe absorbed on this CPU. */
struct probe_fault {
	uint64_t vector, error_code, cr2;
};
struct probe_fault trap_last_probe_fault(void);

/* How many page faults the #PF handler resolved, all CPUs. */
uint64_t trap_page_faults_handled(void);

#endif
