/* SPDX-License-Identifier: BSD-2-Clause */
/* The MM platform seam for hosted unit tests: RAM from an arena, TLB/CR3 recorders, per-thread CPU ids, catchable panics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hosted_platform.h"
#include "hat.h"
#include "hat_oplog.h"

uint8_t *mm_hosted_ram;
uint64_t mm_hosted_ram_size;
struct mm_hosted_log mm_hosted_log;
char mm_hosted_panic_msg[1024];
unsigned mm_hosted_ncpus = 1;

_Thread_local unsigned mm_hosted_cpu;
static _Thread_local jmp_buf *panic_jump;

unsigned cpu_count(void)
{
	return mm_hosted_ncpus;
}

void mm_hosted_set_cpu(unsigned cpu)
{
	mm_hosted_cpu = cpu;
}

void mm_hosted_run_shootdown(uint64_t cpus, struct hat *h, uint64_t gen, uint64_t va, uint64_t npages)
{
	unsigned self = cpu_id();

	for (unsigned cpu = 0; cpu < HAT_MAX_CPUS; cpu++)
		if (cpus & (1ull << cpu)) {
			mm_hosted_set_cpu(cpu);
			hat_tlb_run(h, gen, va, npages);
		}
	mm_hosted_set_cpu(self);
}

void mm_tlb_flush_page(uint64_t va)
{
	__atomic_fetch_add(&mm_hosted_log.flush_page, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&mm_hosted_log.last_va, va, __ATOMIC_RELAXED);
}

void mm_tlb_flush_all(void)
{
	__atomic_fetch_add(&mm_hosted_log.flush_all, 1, __ATOMIC_RELAXED);
}

void mm_load_cr3(uint64_t pa)
{
	__atomic_fetch_add(&mm_hosted_log.cr3_loads, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&mm_hosted_log.cr3, pa, __ATOMIC_RELAXED);
}

uint64_t mm_read_cr3(void)
{
	return __atomic_load_n(&mm_hosted_log.cr3, __ATOMIC_RELAXED);
}

void mm_boot_install_pml4e(unsigned index, uint64_t entry)
{
	mm_hosted_log.boot_pml4e_index = index;
	mm_hosted_log.boot_pml4e = entry;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(stderr, fmt, ap);
	va_end(ap);
	return n;
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(mm_hosted_panic_msg, sizeof(mm_hosted_panic_msg), fmt, ap);
	va_end(ap);
	if (panic_jump != NULL)
		longjmp(*panic_jump, 1);
	fprintf(stderr, "panic at %s:%d: %s\n", file, line, mm_hosted_panic_msg);
	abort();
}

bool mm_hosted_expect_panic(void (*fn)(void *), void *arg)
{
	jmp_buf jb;
	jmp_buf *volatile saved = panic_jump;

	mm_hosted_panic_msg[0] = '\0';
	panic_jump = &jb;
	if (setjmp(jb) == 0) {
		fn(arg);
		panic_jump = saved;
		return false;
	}
	panic_jump = saved;
	return true;
}

void (*mm_hosted_oplog_hook)(void);

void mm_oplog_full(void)
{
	struct hat_oplog_mark m;

	hat_oplog_mark(&m);
	if (mm_hosted_oplog_hook != NULL)
		mm_hosted_oplog_hook();
	hat_oplog_drained(&m);
}

const struct hat_op *mm_hosted_log_record(uint64_t seq)
{
	for (unsigned i = 0; hat_oplog.ol_size != 0 && i < hat_oplog.ol_nlanes; i++) {
		const struct hat_oplog_lane *l = hat_oplog_lane(i);
		const struct hat_op *ring = (const struct hat_op *)(l + 1);

		for (uint64_t s = l->l_next > hat_oplog.ol_size ? l->l_next - hat_oplog.ol_size : 0; s < l->l_next; s++)
			if (ring[s % hat_oplog.ol_size].o_seq == (uint32_t)seq)
				return &ring[s % hat_oplog.ol_size];
	}
	return NULL;
}

/* Tests set mm_hosted_ncpus after boot: lanes for as many CPUs as they run at most (more share). */
unsigned mm_oplog_lanes(void)
{
	return MM_HOSTED_LOG_LANES;
}

void mm_hosted_boot(uint64_t ram_size)
{
	mm_hosted_boot_from(ram_size, MM_TEST_FIRST_FREE);
}

void mm_hosted_boot_from(uint64_t ram_size, uint64_t first_free)
{
	/* a fake image: text 2..2.5 MiB, data up to 4 MiB */
	static const struct hat_kseg segs[] = {
		{ MM_HOSTED_IMAGE_BASE, 0x280000, HAT_READ | HAT_EXEC },
		{ 0x280000, MM_TEST_FIRST_FREE, HAT_READ | HAT_WRITE },
	};
	void *ram;

	if (first_free < MM_TEST_FIRST_FREE) {   /* the MM would hand out the fake image's pages */
		fprintf(stderr, "mm_hosted_boot_from: first free page 0x%llx is inside the image\n",
			(unsigned long long)first_free);
		abort();
	}
	ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	mm_hosted_ram = ram;
	mm_hosted_ram_size = ram_size;
	memset(&mm_hosted_log, 0, sizeof(mm_hosted_log));
	mm_hosted_ncpus = 1;
	mm_hosted_cpu = 0;
	hat_kernel_init(ram_size, first_free, segs, 2);
	hat_switch(&hat_kas);   /* as the guest's boot CPU does */
}

void mm_hosted_shutdown(void)
{
	munmap(mm_hosted_ram, mm_hosted_ram_size);
	mm_hosted_ram = NULL;
	mm_hosted_ram_size = 0;
}
