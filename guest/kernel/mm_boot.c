/* SPDX-License-Identifier: BSD-2-Clause */
/* mm_boot: hand the image's pieces to hat_kernel_init, then leave the host's boot tables. */
#include "mm_boot.h"

#include "cmdline.h"

#include "hat.h"
#include "hat_oplog.h"
#include "hatvm/layout.h"
#include "hypercall.h"
#include "kernel.h"

/* Linker-script symbols: the image's pieces, page-aligned. */
extern const char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern const char __data_start[], __image_end[];

static uint64_t image_pa(const char *va)
{
	return (uint64_t)va - KERNEL_BASE;
}

void mm_boot(const struct boot_info *bi)
{
	const struct hat_kseg segs[] = {
		{ image_pa(__text_start), image_pa(__text_end), HAT_READ | HAT_EXEC },
		{ image_pa(__rodata_start), image_pa(__rodata_end), HAT_READ },
		{ image_pa(__data_start), image_pa(__image_end), HAT_READ | HAT_WRITE },
	};

	hat_kernel_init(bi->ram_size, image_pa(__image_end), segs, ARRAY_SIZE(segs));
	hat_tlb_skip_local = cmdline_get_u32("no_local_flush", 0) != 0;   /* test switch: TLB_STALE */
	hat_switch(&hat_kas);
}

/* The HAT operation log is nearly full: a checkpoint shows the host every record. */
void mm_oplog_full(void)
{
	struct hat_oplog_mark m;

	hat_oplog_mark(&m);
	hc_checkpoint("oplog");
	hat_oplog_drained(&m);
}

unsigned mm_oplog_lanes(void)
{
	return cpu_count();
}

void mm_boot_ap(void)
{
	hat_switch(&hat_kas);
}
