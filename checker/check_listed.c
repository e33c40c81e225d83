/* SPDX-License-Identifier: BSD-2-Clause */
/* The steal index (RM_LISTED): its bits and level counts against the pages that have a mapping list. */
#include "check_internal.h"

#include <inttypes.h>
#include <stdlib.h>

/* The index as read once: arrays sized by the view's pages, never by the guest's word. */
struct listed_copy {
	uint64_t *bits;
	uint32_t *count[3];         /* blk, mid, sup */
	uint64_t len[3];
};

static const unsigned level_shift[3] = { LISTED_BLK_SHIFT, LISTED_MID_SHIFT, LISTED_SUP_SHIFT };
static const char *const level_name[3] = { "blk", "mid", "sup" };

#define report(c, pfn, ...) sink_violation(&(c)->sink, INV_RM_LISTED, REPORT_NONE, REPORT_NONE, pfn, __VA_ARGS__)

static bool page_has_list(const struct page *pg)
{
	return pg->p_mapping != 0 && !pg->p_embed;
}

static void listed_free(struct listed_copy *l)
{
	free(l->bits);
	for (unsigned i = 0; i < 3; i++)
		free(l->count[i]);
}

/* Reads the four arrays; false (reported) when one cannot be read. */
static bool listed_read(struct checker *c, const struct hment_listed *h, struct listed_copy *l)
{
	struct mem_reader *rd = &c->view.rd;
	uint64_t words = (c->view.npages >> 6) + 1;
	const uint64_t at[3] = { h->blk, h->mid, h->sup };

	l->bits = malloc(words * sizeof(uint64_t));
	if (l->bits == NULL || !reader_read_va(rd, h->bits, l->bits, words * sizeof(uint64_t))) {
		report(c, REPORT_NONE, "hment_listed: bits at 0x%" PRIx64 " (%" PRIu64 " words) cannot be read",
		       h->bits, words);
		return false;
	}
	for (unsigned i = 0; i < 3; i++) {
		l->len[i] = (c->view.npages >> level_shift[i]) + 1;
		l->count[i] = malloc(l->len[i] * sizeof(uint32_t));
		if (l->count[i] == NULL ||
		    !reader_read_va(rd, at[i], l->count[i], l->len[i] * sizeof(uint32_t))) {
			report(c, REPORT_NONE, "hment_listed: %s counts at 0x%" PRIx64
			       " (%" PRIu64 " entries) cannot be read", level_name[i], at[i], l->len[i]);
			return false;
		}
	}
	return true;
}

/* Each bit against its page (only pages with mapping state can have a list); false when the check must stop. */
static bool check_bits(struct checker *c, const struct listed_copy *l, uint64_t *want[3])
{
	const struct mm_view *v = &c->view;

	for (uint64_t w = 0; w <= v->npages >> 6; w++) {
		uint64_t expect = 0, lo = w << 6, busy = v->busy_map[w];

		if (check_work(c, 1 + (uint64_t)__builtin_popcountll(busy)))
			return false;
		for (; busy != 0; busy &= busy - 1) {
			uint64_t pfn = lo + (uint64_t)__builtin_ctzll(busy);

			if (!page_has_list(&v->pages[pfn]))
				continue;
			expect |= 1ull << (pfn & 63);
			for (unsigned i = 0; i < 3; i++)
				want[i][pfn >> level_shift[i]]++;
		}
		if (l->bits[w] != expect)
			report(c, lo + (uint64_t)__builtin_ctzll(l->bits[w] ^ expect),
			       "hment_listed: bits of pfn 0x%" PRIx64 "..: 0x%" PRIx64 ", the pages' lists say 0x%"
			       PRIx64, lo, l->bits[w], expect);
	}
	return true;
}

/* Each level's counts against the pages with a list they cover. */
static void check_counts(struct checker *c, const struct listed_copy *l, uint64_t *want[3])
{
	for (unsigned i = 0; i < 3; i++)
		for (uint64_t k = 0; k < l->len[i] && !check_work(c, 1); k++)
			if (l->count[i][k] != want[i][k])
				report(c, k << level_shift[i], "hment_listed: %s count %" PRIu64
				       " is %" PRIu32 ", its pages with a list are %" PRIu64,
				       level_name[i], k, l->count[i][k], want[i][k]);
}

void check_steal_index(struct checker *c)
{
	struct mm_view *v = &c->view;
	struct listed_copy l = { 0 };
	struct hment_listed h;
	uint64_t *want[3] = { NULL, NULL, NULL };

	if (v->sym.hment_listed == 0 || v->pages == NULL || v->busy_map == NULL || v->npages == 0)
		return;
	if (!reader_read_va(&v->rd, v->sym.hment_listed, &h, sizeof(h))) {
		report(c, REPORT_NONE, "hment_listed at 0x%" PRIx64 " cannot be read", v->sym.hment_listed);
		return;
	}
	if (h.npages != v->npages) {
		report(c, REPORT_NONE, "hment_listed covers %" PRIu64 " pages, page_count is %" PRIu64,
		       h.npages, v->npages);
		return;
	}
	if (listed_read(c, &h, &l)) {
		for (unsigned i = 0; i < 3; i++)
			want[i] = calloc(l.len[i], sizeof(uint64_t));
		if (want[0] != NULL && want[1] != NULL && want[2] != NULL && check_bits(c, &l, want))
			check_counts(c, &l, want);
	}
	for (unsigned i = 0; i < 3; i++)
		free(want[i]);
	listed_free(&l);
}
