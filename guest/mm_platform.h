/* SPDX-License-Identifier: BSD-2-Clause */
/* The MM core's platform seam: physical memory access, TLB, CR3, spinlocks; guest or hosted (HATVM_HOSTED). */
#ifndef GUEST_MM_PLATFORM_H
#define GUEST_MM_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "hatvm/mm_structs.h"
#include "kernel.h"
#include "mm_assert.h"

#ifdef HATVM_HOSTED

/*
 * Hosted (unit tests): RAM is an arena in the test process; a PA is an
 * offset into it. TLB and CR3 operations only count and record
 * (tests/lib/hosted_platform.c).
 */
extern uint8_t *mm_hosted_ram;
extern uint64_t mm_hosted_ram_size;

void mm_tlb_flush_page(uint64_t va);
void mm_tlb_flush_all(void);
void mm_load_cr3(uint64_t pa);
uint64_t mm_read_cr3(void);
void mm_boot_install_pml4e(unsigned index, uint64_t entry);

/* Kernel pointer to physical address pa (any PA of RAM). */
static inline void *pa_to_kva(uint64_t pa)
{
	return mm_hosted_ram + pa;
}

/* Physical address of a pointer pa_to_kva() returned. */
static inline uint64_t mm_kva_to_pa(const void *kva)
{
	return (uint64_t)((const uint8_t *)kva - mm_hosted_ram);
}

/* Pointer for writing RAM before the direct map exists. */
static inline void *mm_boot_ptr(uint64_t pa)
{
	return pa_to_kva(pa);
}

static inline void mm_cpu_relax(void)
{
}

/* Interrupts: hosted CPUs are threads, and shootdowns run on the sender's. */
static inline uint64_t mm_irq_save(void)
{
	return 0;
}

static inline void mm_irq_restore(uint64_t flags)
{
	(void)flags;
}

/* Zeroes n bytes (a multiple of 8) at p. */
static inline void mm_zero(void *p, uint64_t n)
{
	memset(p, 0, n);
}

/*
 * Index of the first non-zero quadword of p[0..n), or n. Relaxed atomic
 * loads: other CPUs clear PTEs in a table being scanned (a steal, a
 * pageunload), and the scan's caller re-reads what it found under a lock.
 */
static inline uint64_t mm_find_nonzero(const uint64_t *p, uint64_t n)
{
	uint64_t i = 0;

	while (i < n && __atomic_load_n(&p[i], __ATOMIC_RELAXED) == 0)
		i++;
	return i;
}

#else /* the guest */

#include "arch_x86.h"

/* Kernel pointer to physical address pa: the direct map (live once hat_kernel_init ran). */
static inline void *pa_to_kva(uint64_t pa)
{
	return (void *)(uintptr_t)(DIRECT_MAP_BASE + pa);
}

/* Physical address of a direct-map or kernel-image pointer. */
static inline uint64_t mm_kva_to_pa(const void *kva)
{
	return kva_to_pa(kva);
}

/* True once hat_kernel_init() put the direct map into the boot tables (defined in hat.c). */
extern bool mm_direct_map_live;

/*
 * Pointer for writing RAM during boot: the boot tables' identity map
 * (layout.h) until the direct map is live, then the direct map, so that
 * RAM touched at boot is reached through the one address it keeps (under
 * shadow paging each new alias of a page costs a fault).
 */
static inline void *mm_boot_ptr(uint64_t pa)
{
	return (void *)(uintptr_t)(mm_direct_map_live ? DIRECT_MAP_BASE + pa : pa);
}

static inline void mm_tlb_flush_page(uint64_t va)
{
	x86_invlpg(va);
}

/* Without global pages (the guest sets no PTE_G) a CR3 reload flushes everything. */
static inline void mm_tlb_flush_all(void)
{
	x86_write_cr3(x86_read_cr3());
}

static inline void mm_load_cr3(uint64_t pa)
{
	x86_write_cr3(pa);
}

static inline uint64_t mm_read_cr3(void)
{
	return x86_read_cr3();
}

/*
 * Installs a kernel-half entry into the PML4 the CPU runs on (the host's
 * boot tables, reached through their identity map) and flushes, so the
 * direct map works before the kernel's own tables are loaded.
 */
static inline void mm_boot_install_pml4e(unsigned index, uint64_t entry)
{
	uint64_t cr3 = x86_read_cr3();
	volatile uint64_t *pml4 = (volatile uint64_t *)(uintptr_t)(cr3 & PTE_FRAME);

	pml4[index] = entry;
	x86_write_cr3(cr3);
	if (index == MM_VA_INDEX(DIRECT_MAP_BASE, 4))
		mm_direct_map_live = true;
}

static inline void mm_cpu_relax(void)
{
	x86_pause();
}

/* Interrupts off, and the flags to put them back as they were with mm_irq_restore. */
static inline uint64_t mm_irq_save(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void mm_irq_restore(uint64_t flags)
{
	__asm__ volatile("pushq %0; popfq" : : "r"(flags) : "memory", "cc");
}

/*
 * Zeroes n bytes (a multiple of 8) at p. String instructions, not a byte
 * loop: under slow (emulated or nested) virtualization the guest pays per
 * instruction, and the MM zeroes and scans whole pages often.
 */
static inline void mm_zero(void *p, uint64_t n)
{
	x86_zero_qwords(p, n / 8);
}

/* Index of the first non-zero quadword of p[0..n), or n. */
static inline uint64_t mm_find_nonzero(const uint64_t *p, uint64_t n)
{
	return x86_find_nonzero_qword(p, n);
}

#endif /* HATVM_HOSTED */

/* This CPU's number as the index of a per-CPU array: refused past HAT_MAX_CPUS. */
static inline unsigned cpu_slot(void)
{
	unsigned cpu = cpu_id();

	MM_REQUIRE(cpu < HAT_MAX_CPUS);
	return cpu;
}

/*
 * Spinlocks, correct for several CPUs: test-and-test-and-set with
 * acquire/release ordering. Not recursive. They do not mask interrupts:
 * nothing that takes an MM lock may run from an interrupt handler that
 * can interrupt a holder (the #PF handler is fine: the MM never faults
 * on user addresses).
 */
static inline uint32_t mm_lock_self(void)
{
	return cpu_id() + 1;
}

/*
 * True when this CPU holds l. The owner alone answers: it is set only
 * once l is taken and cleared before l is let go, and no other CPU ever
 * writes this CPU's number there. Every list operation asks, several
 * times a mapping.
 */
static inline bool mm_lock_held(const struct mm_lock *l)
{
	return __atomic_load_n(&l->ml_owner, __ATOMIC_RELAXED) == mm_lock_self();
}

static inline void mm_lock_enter(struct mm_lock *l)
{
	uint32_t me = mm_lock_self();

	MM_REQUIRE(__atomic_load_n(&l->ml_owner, __ATOMIC_RELAXED) != me);
	while (__atomic_exchange_n(&l->ml_locked, 1u, __ATOMIC_ACQUIRE) != 0)
		while (__atomic_load_n(&l->ml_locked, __ATOMIC_RELAXED) != 0)
			mm_cpu_relax();
	__atomic_store_n(&l->ml_owner, me, __ATOMIC_RELAXED);
}

static inline void mm_lock_exit(struct mm_lock *l)
{
	MM_REQUIRE(mm_lock_held(l));
	__atomic_store_n(&l->ml_owner, 0u, __ATOMIC_RELAXED);
	__atomic_store_n(&l->ml_locked, 0u, __ATOMIC_RELEASE);
}

/*
 * Reader-writer spinlocks (a space's h_lock): held exclusively (ml_locked
 * MM_RW_WRITER, its owner known, so mm_lock_held() answers for it) or
 * shared by any number (ml_locked their count, no owner). A writer waits
 * for the readers to leave; readers wait while a writer holds it.
 */
static inline void mm_rwlock_enter(struct mm_lock *l)
{
	uint32_t me = mm_lock_self(), free = 0;

	MM_REQUIRE(__atomic_load_n(&l->ml_owner, __ATOMIC_RELAXED) != me);
	while (!__atomic_compare_exchange_n(&l->ml_locked, &free, MM_RW_WRITER, false, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED)) {
		mm_cpu_relax();
		free = 0;
	}
	__atomic_store_n(&l->ml_owner, me, __ATOMIC_RELAXED);
}

static inline void mm_rwlock_exit(struct mm_lock *l)
{
	MM_REQUIRE(mm_lock_held(l) && __atomic_load_n(&l->ml_locked, __ATOMIC_RELAXED) == MM_RW_WRITER);
	__atomic_store_n(&l->ml_owner, 0u, __ATOMIC_RELAXED);
	__atomic_store_n(&l->ml_locked, 0u, __ATOMIC_RELEASE);
}

static inline void mm_rwlock_enter_shared(struct mm_lock *l)
{
	uint32_t cur = __atomic_load_n(&l->ml_locked, __ATOMIC_RELAXED);

	MM_REQUIRE(__atomic_load_n(&l->ml_owner, __ATOMIC_RELAXED) != mm_lock_self());
	for (;;) {
		if (cur & MM_RW_WRITER) {
			mm_cpu_relax();
			cur = __atomic_load_n(&l->ml_locked, __ATOMIC_RELAXED);
		} else if (__atomic_compare_exchange_n(&l->ml_locked, &cur, cur + 1, false,
						       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			return;
		}
	}
}

static inline void mm_rwlock_exit_shared(struct mm_lock *l)
{
	uint32_t old = __atomic_fetch_sub(&l->ml_locked, 1u, __ATOMIC_RELEASE);

	MM_REQUIRE(old != 0 && !(old & MM_RW_WRITER));
}

#endif
