/* SPDX-License-Identifier: BSD-2-Clause */
/* The steal index (RM_LISTED): its page bits and summary words against the pages that have a mapping list, its 2 MiB counts against the walked tables. */
#include "check_internal.h"

#include <inttypes.h>
#include <stdlib.h>

/* The index's levels, one after the other: the guest's words as read once, and the words the pages' lists call for. */
struct listed_levels {
	uint64_t *got, *want;
	uint64_t at[LISTED_LEVELS];    /* where level i starts */
	uint64_t len[LISTED_LEVELS];   /* its words: sized by the view's pages, never by the guest's word */
};

#define report(c, pfn, ...) sink_violation(&(c)->sink, INV_RM_LISTED, REPORT_NONE, REPORT_NONE, pfn, __VA_ARGS__)

static bool page_has_list(const struct page *pg)
{
	return pg->p_mapping != 0 && !pg->p_embed;
}

/* Reads every level; false (reported when the guest's words are the reason) when one cannot be read or held. */
static bool levels_read(struct checker *c, const struct hment_listed *h, struct listed_levels *l)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < LISTED_LEVELS; i++) {
		l->at[i] = total;
		l->len[i] = (c->view.npages >> listed_word_shift(i)) + 1;
		total += l->len[i];
	}
	l->got = malloc(total * sizeof(uint64_t));
	l->want = calloc(total, sizeof(uint64_t));
	if (l->got == NULL || l->want == NULL)
		return false;
	for (unsigned i = 0; i < LISTED_LEVELS; i++)
		if (!reader_read_va(&c->view.rd, h->level[i], l->got + l->at[i], l->len[i] * sizeof(uint64_t))) {
			report(c, REPORT_NONE, "hment_listed: level %u at 0x%" PRIx64 " (%" PRIu64
			       " words) cannot be read", i, h->level[i], l->len[i]);
			return false;
		}
	return true;
}

/* The page bits the pages' lists call for (only pages with mapping state can have a list); false when the check must stop. */
static bool want_page_bits(struct checker *c, uint64_t *want)
{
	const struct mm_view *v = &c->view;

	for (uint64_t w = 0; w <= v->npages >> 6; w++) {
		uint64_t busy = v->busy_map[w];

		if (check_work(c, 1 + (uint64_t)__builtin_popcountll(busy)))
			return false;
		for (; busy != 0; busy &= busy - 1) {
			uint64_t pfn = (w << 6) + (uint64_t)__builtin_ctzll(busy);

			if (page_has_list(&v->pages[pfn]))
				want[w] |= 1ull << (pfn & 63);
		}
	}
	return true;
}

/* Each level's words against those wanted; a summary is wanted from the level below as it should be, so one wrong word is one report. */
static void compare_levels(struct checker *c, struct listed_levels *l)
{
	for (unsigned i = 0; i < LISTED_LEVELS; i++) {
		unsigned shift = listed_bit_shift(i);
		const uint64_t *got = l->got + l->at[i];
		uint64_t *want = l->want + l->at[i];

		if (i > 0)
			for (uint64_t k = 0; k < l->len[i - 1]; k++)
				if (l->want[l->at[i - 1] + k] != 0)
					want[k >> 6] |= 1ull << (k & 63);
		for (uint64_t w = 0; w < l->len[i] && !check_work(c, 1); w++) {
			uint64_t diff = got[w] ^ want[w];

			if (diff != 0)
				report(c, ((w << 6) + (uint64_t)__builtin_ctzll(diff)) << shift,
				       "hment_listed: level %u word %" PRIu64 " is 0x%" PRIx64
				       ", the pages' lists call for 0x%" PRIx64, i, w, got[w], want[w]);
		}
	}
}

/* The 2 MiB leaves the walk found, per group of the frames they map; false when the check must stop. */
static bool want_large(struct checker *c, uint32_t *want)
{
	for (size_t i = 0; i < c->ntables; i++) {
		const struct table_info *t = &c->tables[i];

		if (i % CHECK_POLL_UNITS == 0 && check_work(c, CHECK_POLL_UNITS))
			return false;
		for (unsigned w = 0; t->level == 2 && w < 8; w++)
			for (uint64_t bits = t->leaf[w]; bits != 0; bits &= bits - 1) {
				unsigned e = w * 64 + (unsigned)__builtin_ctzll(bits);
				uint64_t pte = 0, pfn;

				if (!reader_read_u64_pa(&c->view.rd, ((uint64_t)t->pfn << MM_PAGE_SHIFT) + 8ull * e, &pte))
					continue;   /* the walk read it: RAM does not shrink */
				pfn = (pte & c->frame_mask & ~(MM_LARGE_SIZE - 1)) >> MM_PAGE_SHIFT;
				if (pfn < c->view.npages)
					want[pfn >> (MM_LARGE_SHIFT - MM_PAGE_SHIFT)]++;
			}
	}
	return true;
}

/* Each group's count of 2 MiB mappings against the 2 MiB leaves that map it. */
static void check_large_counts(struct checker *c, const struct hment_listed *h)
{
	uint64_t groups = listed_large_groups(c->view.npages);
	uint32_t *got = malloc(groups * sizeof(uint32_t)), *want = calloc(groups, sizeof(uint32_t));

	if (got == NULL || want == NULL) {
		free(got);
		free(want);
		return;
	}
	if (!reader_read_va(&c->view.rd, h->large, got, groups * sizeof(uint32_t)))
		report(c, REPORT_NONE, "hment_listed: the 2 MiB counts at 0x%" PRIx64 " (%" PRIu64
		       " of them) cannot be read", h->large, groups);
	else if (want_large(c, want))
		for (uint64_t g = 0; g < groups && !check_work(c, 1); g++)
			if (got[g] != want[g])
				report(c, g << (MM_LARGE_SHIFT - MM_PAGE_SHIFT), "hment_listed: the 2 MiB group of "
				       "pfn 0x%" PRIx64 " counts %u 2 MiB mappings, the tables hold %u",
				       g << (MM_LARGE_SHIFT - MM_PAGE_SHIFT), got[g], want[g]);
	free(got);
	free(want);
}

void check_steal_index(struct checker *c)
{
	struct mm_view *v = &c->view;
	struct listed_levels l = { 0 };
	struct hment_listed h;

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
	if (levels_read(c, &h, &l) && want_page_bits(c, l.want))
		compare_levels(c, &l);
	free(l.got);
	free(l.want);
	check_large_counts(c, &h);
}
