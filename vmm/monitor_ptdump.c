/* SPDX-License-Identifier: BSD-2-Clause */
/* ptdump of every address space on the guest's hat_list, with sharing counts from page_t. */
#include <inttypes.h>
#include <stdlib.h>

#include "hatvm/mm_structs.h"
#include "monitor.h"
#include "ptdump.h"

#define MAX_SPACES_SHOWN 4096   /* a cyclic or garbage list ends here */

struct mapcount_ctx {
	struct mem_reader *rd;
	uint64_t page_array;      /* VA of page_t[0] */
	uint64_t page_count;
};

/* Mappings of the page at pa, from its page_t (0 when unreadable). */
static unsigned page_mapcount(void *ctx, uint64_t pa)
{
	struct mapcount_ctx *c = ctx;
	uint64_t pfn = pa >> MM_PAGE_SHIFT;
	struct page pg;

	if (pfn >= c->page_count ||
	    !reader_read_va(c->rd, c->page_array + pfn * sizeof(pg), &pg, sizeof(pg)) ||
	    !pg.p_mapping)
		return 0;
	return pg.p_embed ? 1 : pg.p_share;
}

void monitor_ptdump(const struct monitor *m, FILE *out)
{
	struct mem_reader *rd = malloc(sizeof(*rd));
	struct mapcount_ctx c = { .rd = rd };
	uint64_t kas_cr3, h;

	if (!rd)
		return;
	reader_init(rd, &m->mem);
	if (!reader_read_u64_va(rd, m->syms.hat_kas + offsetof(struct hat, h_top_pa), &kas_cr3) ||
	    !reader_read_u64_va(rd, m->syms.hat_list, &h)) {
		fprintf(out, "ptdump: the guest's address-space list is unreadable\n");
		free(rd);
		return;
	}
	reader_set_cr3(rd, kas_cr3);
	reader_read_u64_va(rd, m->syms.page_array, &c.page_array);
	reader_read_u64_va(rd, m->syms.page_count, &c.page_count);
	for (unsigned n = 0; h && n < MAX_SPACES_SHOWN; n++) {
		struct hat hat;
		if (!reader_read_va(rd, h, &hat, sizeof(hat))) {
			fprintf(out, "ptdump: address space at 0x%" PRIx64 " is unreadable\n", h);
			break;
		}
		fprintf(out, "---[ address space %" PRIu32 "%s, cr3 0x%" PRIx64 " ]---\n", hat.h_id,
			(hat.h_flags & HAT_F_KERNEL) ? " (kernel)" : "", hat.h_top_pa);
		ptdump_write(out, m->gm, NULL, hat.h_top_pa, page_mapcount, &c);
		h = hat.h_next;
	}
	free(rd);
}
