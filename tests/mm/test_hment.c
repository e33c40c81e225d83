/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests: mapping lists — embedding, promotion, removal anywhere, the hash, reserve donation, stealing, list-lock holds. */
#include <string.h>

#include "mm_test.h"

#define RW_USER (HAT_READ | HAT_WRITE | HAT_USER)

/* The table page and entry that map va in h. */
static page_t *ptp_of(struct hat *h, uint64_t va, unsigned *entry)
{
	unsigned level = 1;
	page_t *ptp;
	pte_t *pte = segtab_walk(h, va, &level, &ptp);

	ck_assert_ptr_nonnull(pte);
	*entry = pte_index(pte);
	return ptp;
}

static unsigned list_len(page_t *pp)
{
	unsigned n = 0;

	for (hment_t *hm = pp->p_embed ? NULL : hment_at(pp->p_mapping); hm != NULL; hm = hment_at(hm->hm_next))
		n++;
	return n;
}

/* True when pp's list holds the mapping of va in h. */
static bool listed(page_t *pp, struct hat *h, uint64_t va)
{
	unsigned entry;
	page_t *ptp = ptp_of(h, va, &entry);

	for (hment_t *hm = pp->p_embed ? NULL : hment_at(pp->p_mapping); hm != NULL; hm = hment_at(hm->hm_next))
		if (hm->hm_ptp == ptp->p_pagenum && hm->hm_entry == entry)
			return true;
	return false;
}

START_TEST(test_first_mapping_is_embedded)
{
	struct hat *a = hat_create();
	page_t *pp = mm_test_page();
	unsigned entry;
	page_t *ptp;

	ck_assert_int_eq(hat_memload(a, 0x7000, pp, RW_USER), 0);
	ptp = ptp_of(a, 0x7000, &entry);
	ck_assert_uint_eq(pp->p_embed, 1);
	ck_assert_uint_eq(pp->p_mapping, ptp->p_pagenum);
	ck_assert_uint_eq(pp->p_mlentry, entry);
	ck_assert_uint_eq(pp->p_share, 0);
	ck_assert_uint_eq(hment_listed_count(), 0);
	ck_assert_uint_eq(hment_mapcnt(pp), 1);
	ck_assert_uint_eq(hment_stats_allocs(), 0);   /* 0 bytes for a page's only mapping */
}
END_TEST

START_TEST(test_second_mapping_promotes)
{
	struct hat *a = hat_create(), *b = hat_create();
	page_t *pp = mm_test_page();
	hment_t *head, *tail;
	unsigned ea, eb;
	page_t *pa, *pb;

	hat_memload(a, 0x7000, pp, RW_USER);
	hat_memload(b, 0x9000, pp, RW_USER);
	pa = ptp_of(a, 0x7000, &ea);
	pb = ptp_of(b, 0x9000, &eb);
	ck_assert_uint_eq(pp->p_embed, 0);
	ck_assert_uint_eq(pp->p_share, 2);
	ck_assert_uint_eq(hment_stats_promotions(), 1);
	head = hment_at(pp->p_mapping);
	tail = hment_at(head->hm_next);
	/* the newest mapping is at the head; the promoted one behind it */
	ck_assert_uint_eq(head->hm_ptp, pb->p_pagenum);
	ck_assert_uint_eq(head->hm_entry, eb);
	ck_assert_uint_eq(tail->hm_ptp, pa->p_pagenum);
	ck_assert_uint_eq(tail->hm_entry, ea);
	ck_assert_uint_eq(head->hm_prev, HMENT_REF_NONE);
	ck_assert_uint_eq(tail->hm_prev, hment_ref(head));
	ck_assert_uint_eq(tail->hm_next, HMENT_REF_NONE);
	ck_assert_ptr_eq(hment_at(hment_ref(tail)), tail);
	ck_assert_uint_eq(head->hm_pfn, pp->p_pagenum);
	ck_assert_uint_eq(head->hm_state, HM_STATE_LISTED);
	ck_assert_uint_eq(hment_listed_count(), 2);
	ck_assert_uint_eq(hment_hash_count(), 0);   /* a short list: found by walking it */
	ck_assert_uint_eq(hment_mapcnt(pp), 2);
}
END_TEST

START_TEST(test_walk)
{
	struct hat *a = hat_create();
	page_t *pp = mm_test_page(), *ptp;
	unsigned entry, n = 0;
	hment_t *hm = NULL;

	hat_memload(a, 0x1000, pp, RW_USER);
	hment_enter(pp);
	ck_assert_ptr_eq(hment_walk(pp, &ptp, &entry, NULL), HMENT_EMBEDDED);
	ck_assert_uint_eq(ptp_entry_va(ptp, entry), 0x1000);
	ck_assert_ptr_null(hment_walk(pp, &ptp, &entry, HMENT_EMBEDDED));
	hment_exit(pp);
	for (uint64_t va = 0x2000; va < 0x6000; va += 0x1000)
		hat_memload(a, va, pp, RW_USER);
	hment_enter(pp);
	while ((hm = hment_walk(pp, &ptp, &entry, hm)) != NULL) {
		ck_assert(hm != HMENT_EMBEDDED);
		ck_assert_uint_eq(ptp_entry_va(ptp, entry), 0x5000 - n * 0x1000);
		n++;
	}
	hment_exit(pp);
	ck_assert_uint_eq(n, 5);
}
END_TEST

START_TEST(test_remove_head_middle_tail_embedded)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();

	/* five mappings: list order (head first) 0x5000, 0x4000, 0x3000, 0x2000, 0x1000 */
	for (uint64_t va = 0x1000; va <= 0x5000; va += 0x1000)
		hat_memload(h, va, pp, RW_USER);
	ck_assert_uint_eq(pp->p_share, 5);

	hat_unload(h, 0x3000, 0x1000);   /* middle */
	ck_assert_uint_eq(pp->p_share, 4);
	ck_assert(!listed(pp, h, 0x3000) && listed(pp, h, 0x2000) && listed(pp, h, 0x4000));
	mm_check_all();

	hat_unload(h, 0x5000, 0x1000);   /* head */
	ck_assert_uint_eq(pp->p_share, 3);
	ck_assert_uint_eq(hment_at(pp->p_mapping)->hm_prev, HMENT_REF_NONE);
	mm_check_all();

	hat_unload(h, 0x1000, 0x1000);   /* tail */
	ck_assert_uint_eq(pp->p_share, 2);
	mm_check_all();

	hat_unload(h, 0x4000, 0x1000);
	ck_assert_uint_eq(pp->p_share, 1);   /* a list of one stays a list */
	ck_assert_uint_eq(pp->p_embed, 0);
	ck_assert_uint_eq(list_len(pp), 1);
	hat_unload(h, 0x2000, 0x1000);
	ck_assert_uint_eq(pp->p_mapping, 0);
	ck_assert_uint_eq(pp->p_share, 0);
	ck_assert_uint_eq(hment_listed_count(), 0);

	hat_memload(h, 0x8000, pp, RW_USER);   /* embedded removal */
	ck_assert_uint_eq(pp->p_embed, 1);
	hat_unload(h, 0x8000, 0x1000);
	ck_assert_uint_eq(pp->p_mapping, 0);
	ck_assert_uint_eq(pp->p_embed, 0);
	ck_assert_uint_eq(hment_mapcnt(pp), 0);
}
END_TEST

/* True when hm is on the chain of the bucket its key hashes to. */
static bool in_home_bucket(const hment_t *hm)
{
	uint32_t b = hment_hash_bucket(hment_hash_key(hm->hm_ptp, hm->hm_entry), hment_hash.hh_nbuckets);
	hment_ref_t *page = pa_to_kva((uint64_t)hment_hash.hh_dir[b / HMENT_HASH_PAGE_BUCKETS] << MM_PAGE_SHIFT);

	for (hment_t *c = hment_at(page[b % HMENT_HASH_PAGE_BUCKETS]); c != NULL; c = hment_at(c->hm_hashnext))
		if (c == hm)
			return true;
	return false;
}

/* pp's list is on the hash exactly when it is longer than HMENT_SHORT_LIST, and the counts say so; checked whole. */
static void expect_list_state(page_t *pp, unsigned mappings)
{
	unsigned listed = pp->p_embed ? 0 : mappings;   /* a list shrunk to one stays a list */
	bool hashed = listed > HMENT_SHORT_LIST;

	ck_assert_uint_eq(hment_mapcnt(pp), mappings);
	ck_assert_uint_eq(hment_listed_count(), listed);
	ck_assert_uint_eq(hment_hash_count(), hashed ? listed : 0);
	for (hment_t *hm = pp->p_embed ? NULL : hment_at(pp->p_mapping); hm != NULL; hm = hment_at(hm->hm_next))
		ck_assert(in_home_bucket(hm) == hashed);
	mm_check_all();
}

/*
 * A page's list joins the hash as a whole when it grows past
 * HMENT_SHORT_LIST and leaves it as a whole when it shrinks back; below
 * that a removal finds its mapping by walking the list, from any place.
 */
START_TEST(test_long_lists_go_on_the_hash)
{
	enum { N = HMENT_SHORT_LIST + 3 };
	static const unsigned order[N] = { 5, 0, 10, 9, 1, 8, 2, 7, 3, 6, 4 };
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();

	for (unsigned k = 0; k < N; k++) {
		ck_assert_int_eq(hat_memload(h, 0x400000 + k * MM_PAGE_SIZE, pp, RW_USER), 0);
		expect_list_state(pp, k + 1);
	}
	for (unsigned k = 0; k < N; k++) {
		hat_unload(h, 0x400000 + order[k] * MM_PAGE_SIZE, MM_PAGE_SIZE);
		expect_list_state(pp, N - 1 - k);
	}
	for (unsigned round = 0; round < 3; round++) {   /* back and forth across the line */
		for (unsigned k = 0; k < HMENT_SHORT_LIST + 1; k++)
			ck_assert_int_eq(hat_memload(h, 0x400000 + k * MM_PAGE_SIZE, pp, RW_USER), 0);
		expect_list_state(pp, HMENT_SHORT_LIST + 1);
		hat_unload(h, 0x400000, MM_PAGE_SIZE);
		expect_list_state(pp, HMENT_SHORT_LIST);
		ck_assert_int_eq(hat_memload(h, 0x400000, pp, RW_USER), 0);
		expect_list_state(pp, HMENT_SHORT_LIST + 1);
		ck_assert_uint_eq(hat_pageunload(pp), HMENT_SHORT_LIST + 1);
		expect_list_state(pp, 0);
	}
	hat_destroy(h);
}
END_TEST

START_TEST(test_hash_bucket_placement)
{
	struct hat *h[4];
	page_t *pp[3];
	uint64_t sum = 0;

	for (unsigned i = 0; i < 3; i++)
		pp[i] = mm_test_page();
	for (unsigned k = 0; k < 4; k++) {
		h[k] = hat_create();
		for (unsigned i = 0; i < 3; i++)
			for (unsigned j = 0; j < 4; j++)
				hat_memload(h[k], 0x10000 + (i * 4 + j) * 0x1000, pp[i], RW_USER);
	}
	for (unsigned i = 0; i < 3; i++) {
		for (hment_t *hm = hment_at(pp[i]->p_mapping); hm != NULL; hm = hment_at(hm->hm_next))
			ck_assert(in_home_bucket(hm));
		sum += pp[i]->p_share;
	}
	ck_assert_uint_eq(sum, 48);
	ck_assert_uint_eq(hment_hash_count(), 48);
	ck_assert_uint_eq(hment_hash.hh_nbuckets, HMENT_HASH_MIN);   /* 48 hments: no split yet */
	ck_assert_uint_eq(sizeof(hment_t), 24);
}
END_TEST

/*
 * Linear hashing's bucket function: every bucket in range, a key keeps its
 * bucket or moves to exactly the new one when a bucket is added, and its
 * lock (low bits) never changes.
 */
START_TEST(test_hash_bucket_function)
{
	unsigned bad_range = 0, bad_move = 0, bad_lock = 0;

	for (uint32_t key = 0; key < 2000; key++) {
		uint32_t h = hment_hash_key(key * 7919u, key % MM_PTES);

		for (uint32_t n = HMENT_HASH_MIN; n < HMENT_HASH_MIN + 9000; n += 13) {
			uint32_t b = hment_hash_bucket(h, n), b1 = hment_hash_bucket(h, n + 1);

			bad_range += b >= n;
			bad_move += b1 != b && b1 != n;
			bad_lock += hment_hash_lock_index(b) != hment_hash_lock_index(h);
		}
	}
	ck_assert_uint_eq(bad_range, 0);
	ck_assert_uint_eq(bad_move, 0);
	ck_assert_uint_eq(bad_lock, 0);
	/* keys spread: 32768 consecutive PTEs of 64 tables over 16384 buckets, no chain over 4× the mean */
	static unsigned count[HMENT_HASH_MIN];
	unsigned worst = 0;

	for (uint32_t t = 0; t < 64; t++)
		for (uint32_t e = 0; e < MM_PTES; e++)
			count[hment_hash_bucket(hment_hash_key(0x1000 + t, e), HMENT_HASH_MIN)]++;
	for (unsigned b = 0; b < HMENT_HASH_MIN; b++)
		worst = count[b] > worst ? count[b] : worst;
	ck_assert_uint_le(worst, 4 * 2);
}
END_TEST

/* A sweep over one table's entries takes a few stripes' locks, not all of them (two CPUs on tables of their own seldom meet). */
START_TEST(test_hash_stripes_of_a_table)
{
	for (uint32_t ptp = 0x1000; ptp < 0x1400; ptp += 7) {
		bool used[HMENT_HASH_NLOCK] = { false };
		unsigned n = 0;

		for (uint32_t e = 0; e < MM_PTES; e++) {
			uint32_t i = hment_hash_lock_index(hment_hash_key(ptp, e));

			n += !used[i];
			used[i] = true;
		}
		ck_assert_uint_le(n, MM_PTES / (1u << HMENT_HASH_STRIPE_SHIFT) + 1);
	}
}
END_TEST

/* The hash grows with the hments (one split per insert past the load), chains stay short, the checker agrees. */
START_TEST(test_hash_grows)
{
	enum { SPACES = 20, PAGES = 2048 };
	struct hat *h[SPACES];
	static page_t *pp[PAGES];
	uint64_t longest = 0;

	for (unsigned i = 0; i < PAGES; i++)
		pp[i] = mm_test_page();
	for (unsigned k = 0; k < SPACES; k++) {
		h[k] = hat_create();
		for (unsigned i = 0; i < PAGES; i++)
			ck_assert_int_eq(hat_memload(h[k], 0x400000 + i * 0x1000ull, pp[i], RW_USER), 0);
	}
	/* 2048 × 20 mappings = 40960 hments: the hash must have passed its boot size and bucket pages */
	ck_assert_uint_eq(hment_hash_count(), PAGES * SPACES);
	ck_assert_uint_ge(hment_hash.hh_nbuckets, PAGES * SPACES / HMENT_HASH_LOAD);
	/* each stripe's count stands for its share: the hash grows no more than an uneven spread asks */
	ck_assert_uint_le(hment_hash.hh_nbuckets, 2 * PAGES * SPACES / HMENT_HASH_LOAD);
	ck_assert_uint_gt(hment_stats.splits, 0);
	ck_assert_uint_ne(hment_hash.hh_dir[HMENT_HASH_MIN / HMENT_HASH_PAGE_BUCKETS], 0);
	for (uint32_t b = 0; b < hment_hash.hh_nbuckets; b++) {
		hment_ref_t *page = pa_to_kva((uint64_t)hment_hash.hh_dir[b / HMENT_HASH_PAGE_BUCKETS]
					      << MM_PAGE_SHIFT);
		uint64_t len = 0;

		for (hment_t *c = hment_at(page[b % HMENT_HASH_PAGE_BUCKETS]); c != NULL;
		     c = hment_at(c->hm_hashnext)) {
			ck_assert(in_home_bucket(c));
			len++;
		}
		longest = len > longest ? len : longest;
	}
	ck_assert_uint_le(longest, 16);
	mm_check_all();
	for (unsigned k = 0; k < SPACES; k++)
		hat_destroy(h[k]);
	ck_assert_uint_eq(hment_listed_count(), 0);
	mm_check_all();
}
END_TEST

/* Every hment on the reserve is its state and its pool link, nothing else: fresh ones come from the cache unzeroed. */
static void assert_reserve_clean(void)
{
	unsigned n = 0;

	for (hment_t *hm = hment_at(hment_reserve.hr_pool); hm != NULL && n <= hment_reserve.hr_count;
	     hm = hment_at(hm->hm_next), n++) {
		ck_assert_uint_eq(hm->hm_state, HM_STATE_RESERVE);
		ck_assert_uint_eq(hm->hm_hashnext, HMENT_REF_NONE);
		ck_assert_uint_eq(hm->hm_prev, HMENT_REF_NONE);
		ck_assert_uint_eq(hm->hm_ptp, 0);
		ck_assert_uint_eq(hm->hm_pfn, 0);
		ck_assert_uint_eq(hm->hm_entry, 0);
	}
	ck_assert_uint_eq(n, hment_reserve.hr_count);
}

START_TEST(test_reserve_donation)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page();

	hment_set_reserve_amount(8);
	ck_assert_uint_eq(hment_reserve.hr_count, 0);
	hat_memload(h, 0x1000, pp, RW_USER);
	hat_memload(h, 0x2000, pp, RW_USER);   /* two hments needed: fresh ones fill the reserve first */
	ck_assert_uint_eq(hment_reserve.hr_count, 8);
	ck_assert_uint_eq(hment_stats.donated, 8);
	assert_reserve_clean();
	ck_assert_uint_eq(hment_cache_inuse(), 10);
	hment_set_reserve_amount(2);
	hment_adjust_reserve();
	ck_assert_uint_eq(hment_reserve.hr_count, 2);
	ck_assert_uint_eq(hment_cache_inuse(), 4);
	hment_reserve_fill(3);
	ck_assert_uint_eq(hment_reserve.hr_count, 5);
	/* frees go to the reserve only below its target */
	hment_set_reserve_amount(6);
	hat_unload(h, 0x1000, 0x2000);
	ck_assert_uint_eq(hment_reserve.hr_count, 6);
	assert_reserve_clean();   /* freed ones too */
	ck_assert_uint_eq(hment_cache_inuse(), 6);
}
END_TEST

/*
 * With the reserve at its target, later mappings take their hments
 * straight from the cache under the page's lock: nothing donated,
 * nothing taken from the reserve, nothing stolen.
 */
START_TEST(test_alloc_from_cache_when_reserve_full)
{
	struct hat *a = hat_create(), *b = hat_create(), *c = hat_create();
	page_t *pp = mm_test_page();
	uint64_t donated, got, allocs;

	hment_set_reserve_amount(2);
	hment_reserve_fill(0);
	donated = hment_stats.donated;
	got = hment_stats.reserve_get;
	allocs = hment_stats_allocs();
	hat_memload(a, 0x1000, pp, RW_USER);
	hat_memload(b, 0x1000, pp, RW_USER);   /* promotes: two hments */
	hat_memload(c, 0x1000, pp, RW_USER);   /* one more */
	ck_assert_uint_eq(hment_stats_allocs() - allocs, 3);
	ck_assert_uint_eq(hment_stats.donated, donated);
	ck_assert_uint_eq(hment_stats.reserve_get, got);
	ck_assert_uint_eq(hment_stats.steals, 0);
	ck_assert_uint_eq(hment_reserve.hr_count, 2);
	ck_assert_uint_eq(hment_cache_inuse(), 2 + 3);
	ck_assert_uint_eq(list_len(pp), 3);
	mm_check_all();
}
END_TEST

START_TEST(test_reserve_used_when_nothing_to_steal)
{
	struct hat *h = hat_create();
	page_t *x = mm_test_page(), *y = mm_test_page();

	hment_set_reserve_amount(4);
	hment_reserve_fill(0);
	ck_assert_uint_eq(hment_reserve.hr_count, 4);
	hat_memload(h, 0x1000, x, RW_USER);
	hat_memload(h, 0x2000, y, RW_USER);
	hment_set_limit(hment_cache_inuse());   /* the cache refuses from now on */
	hat_memload(h, 0x3000, x, RW_USER);    /* promotion + one: only embedded pages, no victim */
	ck_assert_uint_eq(x->p_share, 2);
	ck_assert_uint_eq(hment_reserve.hr_count, 2);
	ck_assert_uint_eq(hment_stats.reserve_get, 2);
	ck_assert_uint_eq(hment_stats.steals, 0);
	ck_assert_uint_eq(y->p_embed, 1);
}
END_TEST

START_TEST(test_steal_with_reserve_zero)
{
	struct hat *a = hat_create(), *b = hat_create(), *c = hat_create(), *d = hat_create();
	page_t *v = mm_test_page(), *y = mm_test_page();

	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	hat_memload(a, 0x1000, v, RW_USER);
	hat_memload(b, 0x1000, v, RW_USER);     /* v: a list of two, two hments out */
	hat_memload(c, 0x1000, y, RW_USER);     /* y: embedded */
	hment_set_limit(hment_cache_inuse());
	hat_memload(d, 0x1000, y, RW_USER);     /* needs two hments: both stolen from v */
	ck_assert_uint_eq(hment_stats.steals, 2);
	ck_assert_uint_eq(y->p_share, 2);
	ck_assert_uint_eq(hment_mapcnt(v), 0);
	ck_assert_uint_eq(hat_getpfnum(a, 0x1000), HAT_PFN_INVALID);
	ck_assert_uint_eq(hat_getpfnum(b, 0x1000), HAT_PFN_INVALID);
	ck_assert_uint_eq(hat_getpfnum(d, 0x1000), y->p_pagenum);
	ck_assert_uint_eq(a->h_nmap4k + b->h_nmap4k, 0);
	ck_assert_uint_eq(hment_reserve.hr_count, 0);
	mm_check_all();
	/* the victims' tables are reclaimed by their next unload */
	hat_unload(a, 0, USER_TOP);
	ck_assert_uint_eq(a->h_nptp, 1);
}
END_TEST

START_TEST(test_pressure_random)
{
	enum { NH = 5, NP = 12, STEPS = 600 };
	struct hat *h[NH];
	page_t *pp[NP];
	uint64_t seed = 7;

	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	for (unsigned i = 0; i < NH; i++)
		h[i] = hat_create();
	for (unsigned i = 0; i < NP; i++)
		pp[i] = mm_test_page();
	hment_set_limit(hment_cache_inuse() + 6);
	for (unsigned s = 0; s < STEPS; s++) {
		unsigned hi, pi, op;
		uint64_t va;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		hi = (unsigned)(seed >> 33) % NH;
		pi = (unsigned)(seed >> 40) % NP;
		op = (unsigned)(seed >> 50) % 8;
		va = ((seed >> 20) % 16) * MM_PAGE_SIZE;
		if (op < 6)
			ck_assert_int_eq(hat_memload(h[hi], va, pp[pi], RW_USER), 0);
		else if (op == 6)
			hat_unload(h[hi], va, MM_PAGE_SIZE);
		else
			hat_pageunload(pp[pi]);
		if (s % 50 == 0)
			mm_check_all();
	}
	ck_assert_uint_gt(hment_stats.steals, 0);
	ck_assert_uint_le(hment_cache_inuse(), hment_stats_allocs());
	for (unsigned i = 0; i < NH; i++)
		hat_destroy(h[i]);
	ck_assert_uint_eq(hment_listed_count(), 0);
}
END_TEST

/*
 * Pages examined per steal, in ram bytes of RAM, when one page has a list:
 * the second steal goes round all RAM back to it.
 */
static uint64_t steal_exam_at(uint64_t ram)
{
	struct hat *a, *b, *c, *d;
	page_t *v, *y;
	uint64_t exam;

	mm_hosted_shutdown();
	mm_hosted_boot(ram);
	a = hat_create(), b = hat_create(), c = hat_create(), d = hat_create();
	v = mm_test_page();
	y = mm_test_page();
	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	hat_memload(a, 0x1000, v, RW_USER);
	hat_memload(b, 0x1000, v, RW_USER);     /* v: the only list in RAM */
	hat_memload(c, 0x1000, y, RW_USER);
	hment_set_limit(hment_cache_inuse());
	exam = hment_stats.steal_exam;
	hat_memload(d, 0x1000, y, RW_USER);     /* two hments, both stolen from v */
	ck_assert_uint_eq(hment_stats.steals, 2);
	ck_assert_uint_eq(hment_mapcnt(v), 0);
	return (hment_stats.steal_exam - exam) / 2;
}

START_TEST(test_steal_finds_lone_list)
{
	/*
	 * The words read per steal are bounded by the index's levels (climb,
	 * the top level's words, descend), not by the distance to the victim:
	 * 3 GiB of RAM has 3 top words. Each steal searches twice at most
	 * (after its cursor, then from RAM's start).
	 */
	uint64_t small = steal_exam_at(8ull << 20), large = steal_exam_at(3ull << 30);
	uint64_t bound = 2 * (2 * LISTED_LEVELS + 4);

	ck_assert_uint_le(small, bound);
	ck_assert_uint_le(large, bound);
}
END_TEST

START_TEST(test_steal_spreads_victims)
{
	struct hat *a = hat_create(), *b = hat_create(), *c = hat_create();
	struct hat *d = hat_create(), *e = hat_create(), *f = hat_create();
	page_t *v[4], *y;

	for (unsigned i = 0; i < 4; i++)
		v[i] = mm_test_page();
	y = mm_test_page();
	hment_set_reserve_amount(0);
	hment_adjust_reserve();
	for (unsigned i = 0; i < 4; i++) {
		hat_memload(a, (i + 1) * MM_PAGE_SIZE, v[i], RW_USER);
		hat_memload(b, (i + 1) * MM_PAGE_SIZE, v[i], RW_USER);
	}
	hat_memload(c, 0x1000, y, RW_USER);
	hment_set_limit(hment_cache_inuse());
	hat_memload(d, 0x1000, y, RW_USER);     /* promotion: two steals */
	hat_memload(e, 0x1000, y, RW_USER);
	hat_memload(f, 0x1000, y, RW_USER);
	ck_assert_uint_eq(hment_stats.steals, 4);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(hment_mapcnt(v[i]), 1);   /* one each, not all from one page */
	ck_assert_uint_eq(hment_mapcnt(y), 4);
}
END_TEST

START_TEST(test_no_reserve_no_victim_fails)
{
	struct hat *h[2] = { hat_create(), hat_create() };
	page_t *y = mm_test_page();

	hment_set_reserve_amount(0);
	ck_assert_int_eq(hat_memload(h[0], 0x1000, y, RW_USER), 0);
	hment_set_limit(hment_cache_inuse());
	ck_assert_int_eq(hat_memload(h[1], 0x1000, y, RW_USER), HAT_ERR_NOMEM);
	ck_assert_uint_eq(hment_mapcnt(y), 1);
}
END_TEST

/* The first managed frame of a lock group: its group-mates follow it. */
static page_t *group_start(void)
{
	uint64_t g = 1ull << HMENT_MLIST_GROUP_SHIFT;

	return &page_array[(page_first_managed + g - 1) & ~(g - 1)];
}

static bool mlist_locked(const page_t *pp)
{
	return hment_mlist_locks[hment_mlist_lock_index(pp->p_pagenum)].ll_lock.ml_locked != 0;
}

START_TEST(test_hold_keeps_a_group_lock)
{
	page_t *a = group_start(), *b = a + 1;
	page_t *other = a + (1u << HMENT_MLIST_GROUP_SHIFT);
	struct hment_hold hd = HMENT_HOLD_NONE;
	struct mm_lock *lk;

	ck_assert_uint_ne(hment_mlist_lock_index(a->p_pagenum), hment_mlist_lock_index(other->p_pagenum));
	hment_hold(&hd, a);
	lk = hd.hd_lock;
	ck_assert(hment_held(a) && hment_held(b));
	hment_hold(&hd, b);   /* a group-mate: the same hold, one leaf fewer left */
	ck_assert_ptr_eq(hd.hd_lock, lk);
	ck_assert_uint_eq(hd.hd_left, HMENT_HOLD_MAX - 2);
	hment_hold(&hd, other);   /* another group: a's lock goes first */
	ck_assert(!mlist_locked(a) && hment_held(other));
	hment_hold_end(&hd);
	ck_assert(!mlist_locked(other));
	ck_assert_ptr_null(hd.hd_lock);
	hment_hold_end(&hd);   /* nothing held: nothing to do */
}
END_TEST

START_TEST(test_hold_is_retaken_after_max)
{
	page_t *a = group_start();
	struct hment_hold hd = HMENT_HOLD_NONE;

	for (unsigned i = 0; i < HMENT_HOLD_MAX; i++)
		hment_hold(&hd, a + (i & 1));
	ck_assert_uint_eq(hd.hd_left, 0);
	/* let go and taken again: a CPU waiting for it had its chance */
	hment_hold(&hd, a);
	ck_assert_uint_eq(hd.hd_left, HMENT_HOLD_MAX - 1);
	ck_assert(hment_held(a));
	hment_hold_end(&hd);
	ck_assert(!mlist_locked(a));
}
END_TEST

static bool stripe_locked(const struct hment_hash_stripe *st)
{
	return st->hs_lock.ml_locked != 0;
}

static bool any_stripe_locked(void)
{
	for (unsigned i = 0; i < HMENT_HASH_NLOCK; i++)
		if (stripe_locked(&hment_hash_locks[i]))
			return true;
	return false;
}

/* pp's list gains the mapping (ptp, entry) with no leaf behind it: hment_remove() has it to take. */
static void list_only(page_t *ptp, unsigned entry, page_t *pp)
{
	hment_t *hm;

	hment_enter(pp);
	ck_assert_int_eq(hment_prepare(ptp, entry, pp, &hm), 0);
	hment_assign(ptp, entry, pp, hm);
	hment_exit(pp);
}

static unsigned stripe_index(const page_t *ptp, unsigned entry)
{
	return hment_hash_lock_index(hment_hash_key(ptp->p_pagenum, entry));
}

/*
 * hment_remove() given a hold keeps a hash stripe from entry to entry;
 * another stripe, or the hold's end, lets it go. The page's list stays
 * long enough for the hash throughout.
 */
START_TEST(test_hold_keeps_a_hash_stripe)
{
	struct hat *h = hat_create(), *more = hat_create();
	page_t *pp = mm_test_page(), *ptp;
	struct hment_hold hd = HMENT_HOLD_NONE;
	struct hment_hash_stripe *first;
	unsigned entry, far;
	hment_t *hm[3];

	for (unsigned k = 0; k < HMENT_SHORT_LIST; k++)
		ck_assert_int_eq(hat_memload(more, 0x400000 + k * MM_PAGE_SIZE, pp, RW_USER), 0);
	ck_assert_int_eq(hat_memload(h, 0x200000, pp, RW_USER), 0);
	ptp = ptp_of(h, 0x200000, &entry);
	for (far = entry + 1; far < MM_PTES && stripe_index(ptp, far) == stripe_index(ptp, entry + 1); far++)
		;
	ck_assert_uint_lt(far, MM_PTES);
	ck_assert_uint_eq(stripe_index(ptp, entry + 2), stripe_index(ptp, entry + 1));
	list_only(ptp, entry + 1, pp);
	list_only(ptp, entry + 2, pp);
	list_only(ptp, far, pp);

	hment_hold(&hd, pp);
	hm[0] = hment_remove(pp, ptp, entry + 1, &hd);
	first = hd.hd_stripe;
	ck_assert_ptr_eq(first, &hment_hash_locks[stripe_index(ptp, entry + 1)]);
	ck_assert(stripe_locked(first));
	hm[1] = hment_remove(pp, ptp, entry + 2, &hd);   /* the same stripe: kept, not retaken */
	ck_assert_ptr_eq(hd.hd_stripe, first);
	hm[2] = hment_remove(pp, ptp, far, &hd);         /* another: the first goes */
	ck_assert(!stripe_locked(first) && stripe_locked(hd.hd_stripe));
	hment_hold_end(&hd);
	ck_assert_ptr_null(hd.hd_stripe);
	ck_assert(!any_stripe_locked() && !mlist_locked(pp));
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(hm[i]);
		hment_free(hm[i]);
	}
	ck_assert_uint_eq(hment_mapcnt(pp), 1 + HMENT_SHORT_LIST);
	hat_destroy(h);
	hat_destroy(more);
	ck_assert_uint_eq(hment_listed_count(), 0);
}
END_TEST

/* Range operations over a run of frames leave no list lock held, and the lists as a leaf-by-leaf load would. */
START_TEST(test_range_ops_over_a_run_release_holds)
{
	enum { N = 3u << HMENT_MLIST_GROUP_SHIFT };
	struct hat *h[2] = { hat_create(), hat_create() };
	page_t *pp[N];

	for (unsigned i = 0; i < N; i++)
		pp[i] = mm_test_page();   /* a fresh pool hands out runs of frames */
	ck_assert_int_eq(hat_memload_array(h[0], 0x200000, N * MM_PAGE_SIZE, pp, RW_USER), 0);
	ck_assert_int_eq(hat_memload_array(h[1], 0x200000, N * MM_PAGE_SIZE, pp, RW_USER), 0);
	for (unsigned i = 0; i < N; i++) {
		ck_assert(!mlist_locked(pp[i]));
		ck_assert_uint_eq(hment_mapcnt(pp[i]), 2);
		ck_assert(listed(pp[i], h[1], 0x200000 + i * MM_PAGE_SIZE));
	}
	hat_unload(h[0], 0x200000, N * MM_PAGE_SIZE);
	ck_assert(!any_stripe_locked());
	hat_destroy(h[1]);
	ck_assert(!any_stripe_locked());
	for (unsigned i = 0; i < N; i++) {
		ck_assert(!mlist_locked(pp[i]));
		ck_assert_uint_eq(hment_mapcnt(pp[i]), 0);
	}
	ck_assert_uint_eq(hment_listed_count(), 0);
}
END_TEST

/* What hment_remove_all() handed its leaf function, in order. */
struct leaves_seen {
	unsigned n;
	unsigned entry[4];
};

static void note_leaf(page_t *pp, page_t *ptp, unsigned entry, void *arg)
{
	struct leaves_seen *seen = arg;

	ck_assert(hment_held(pp));
	ck_assert_uint_eq(ptp->p_kind, PG_PTP);
	ck_assert_uint_lt(seen->n, 4);
	seen->entry[seen->n++] = entry;
}

static bool steal_index_bit(const page_t *pp)
{
	return (hment_listed.level[0][pp->p_pagenum >> 6] >> (pp->p_pagenum & 63)) & 1;
}

/* hment_remove_all() of pp under its lock: the leaves it handed out. */
static struct leaves_seen remove_all(page_t *pp, unsigned expect)
{
	struct leaves_seen seen = { 0 };
	struct hment_frees f;

	hment_frees_init(&f);
	hment_enter(pp);
	ck_assert_uint_eq(hment_remove_all(pp, note_leaf, &seen, &f), expect);
	ck_assert_uint_eq(pp->p_mapping, 0);
	ck_assert_uint_eq(pp->p_share, 0);
	ck_assert_uint_eq(pp->p_embed, 0);
	hment_exit(pp);
	hment_free_now(&f);
	ck_assert_uint_eq(seen.n, expect);
	return seen;
}

/*
 * hment_remove_all() hands out every mapping, head first, and empties
 * the list, the hash and the steal index's bit at once; another page's
 * list stays as it was. Mappings on the lists only (list_only): the leaf
 * function clears nothing.
 */
START_TEST(test_remove_all_takes_the_list_at_once)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page(), *lone = mm_test_page(), *other = mm_test_page(), *ptp;
	struct leaves_seen seen;
	unsigned entry;
	hment_t *hm;

	ck_assert_int_eq(hat_memload(h, 0x200000, other, RW_USER), 0);
	ptp = ptp_of(h, 0x200000, &entry);
	for (unsigned k = 1; k <= 3; k++)
		list_only(ptp, entry + k, pp);   /* embedded, then promoted: the list is k = 3, 2, 1 */
	list_only(ptp, entry + 4, lone);
	list_only(ptp, entry + 5, other);
	ck_assert(steal_index_bit(pp) && list_len(pp) == 3 && hment_listed_count() == 5);

	seen = remove_all(pp, 3);
	for (unsigned k = 0; k < 3; k++)
		ck_assert_uint_eq(seen.entry[k], entry + 3 - k);
	ck_assert(!steal_index_bit(pp) && steal_index_bit(other));
	ck_assert_uint_eq(hment_listed_count(), 2);   /* other's two */
	ck_assert_uint_eq(list_len(other), 2);

	seen = remove_all(lone, 1);   /* the embedded mapping alone */
	ck_assert_uint_eq(seen.entry[0], entry + 4);
	(void)remove_all(lone, 0);    /* none left: the leaf function is not called */

	hment_enter(other);
	hm = hment_remove(other, ptp, entry + 5, NULL);
	hment_exit(other);
	hment_free(hm);
	mm_check_all();
	hat_destroy(h);
	ck_assert_uint_eq(hment_listed_count(), 0);
}
END_TEST

static void remove_all_of(void *arg)
{
	struct hment_frees f;
	page_t *pp = arg;

	hment_frees_init(&f);
	hment_enter(pp);
	(void)hment_remove_all(pp, note_leaf, &(struct leaves_seen){ 0 }, &f);
}

/* A list longer than p_share counts (a lost increment, or a loop) stops hment_remove_all() at the count: RM_SHARE, not a walk without end. */
START_TEST(test_remove_all_stops_at_the_count)
{
	struct hat *h = hat_create();
	page_t *pp = mm_test_page(), *ptp;
	unsigned entry;

	ck_assert_int_eq(hat_memload(h, 0x200000, pp, RW_USER), 0);
	ptp = ptp_of(h, 0x200000, &entry);
	list_only(ptp, entry + 1, pp);
	list_only(ptp, entry + 2, pp);
	pp->p_share--;
	ck_assert_panics(remove_all_of, pp, "RM_SHARE");
}
END_TEST

/* A pageunload frees its hments in batches: the reserve refilled first, the rest to the cache. */
START_TEST(test_free_batch)
{
	enum { N = HMENT_FREES_MAX + 5 };
	struct hat *h[N];
	page_t *pp = mm_test_page();
	uint64_t inuse;
	uint32_t reserved;

	hment_set_reserve_amount(0);
	for (unsigned i = 0; i < N; i++) {
		h[i] = hat_create();
		ck_assert_int_eq(hat_memload(h[i], 0x5000, pp, RW_USER), 0);
	}
	ck_assert_uint_eq(list_len(pp), N);
	inuse = hment_cache_inuse();
	reserved = hment_reserve.hr_count;
	hment_set_reserve_amount(reserved + 3);
	ck_assert_uint_eq(hat_pageunload(pp), N);
	ck_assert_uint_eq(hment_reserve.hr_count, reserved + 3);
	ck_assert_uint_eq(hment_cache_inuse(), inuse - (N - 3));   /* a reserve's hment is the cache's in use */
	ck_assert_uint_eq(hment_mapcnt(pp), 0);
}
END_TEST

static void assert_accounted(void *arg)
{
	(void)arg;
	hat_assert_accounted();
}

/* OC_LEAK in the guest: hments out against the hash's and reserve's counts, spaces against hat_list. */
START_TEST(test_accounted_hments)
{
	page_t *pp = mm_test_page();
	struct hat *a = hat_create(), *b = hat_create(), *c = hat_create();

	ck_assert_int_eq(hat_memload(a, 0x5000, pp, RW_USER), 0);
	ck_assert_int_eq(hat_memload(b, 0x5000, pp, RW_USER), 0);
	ck_assert_int_eq(hat_memload(c, 0x5000, pp, RW_USER), 0);
	hat_assert_accounted();
	if (!MM_ASSERTS_ON)
		return;
	for (int delta = -1; delta <= 1; delta += 2) {
		hment_cache.oc_inuse += (uint64_t)delta;   /* +1: an hment out that nothing holds */
		ck_assert_panics(assert_accounted, NULL, "the hment cache has");
		hment_cache.oc_inuse -= (uint64_t)delta;
		hat_cache.oc_inuse += (uint64_t)delta;     /* +1: a space off hat_list */
		ck_assert_panics(assert_accounted, NULL, "the address-space cache has");
		hat_cache.oc_inuse -= (uint64_t)delta;
	}
	ck_assert_uint_eq(hat_pageunload(pp), 3);
	hat_destroy(b);
	hat_assert_accounted();
}
END_TEST

Suite *hment_suite(void)
{
	Suite *s = suite_create("hment");
	TCase *tc = tcase_create("lists");
	TCase *tp = tcase_create("panics");

	tcase_add_checked_fixture(tc, mm_setup, mm_teardown);
	tcase_add_test(tc, test_first_mapping_is_embedded);
	tcase_add_test(tc, test_second_mapping_promotes);
	tcase_add_test(tc, test_walk);
	tcase_add_test(tc, test_remove_head_middle_tail_embedded);
	tcase_add_test(tc, test_long_lists_go_on_the_hash);
	tcase_add_test(tc, test_hash_bucket_placement);
	tcase_add_test(tc, test_hash_bucket_function);
	tcase_add_test(tc, test_hash_stripes_of_a_table);
	tcase_add_test(tc, test_hash_grows);
	tcase_add_test(tc, test_reserve_donation);
	tcase_add_test(tc, test_alloc_from_cache_when_reserve_full);
	tcase_add_test(tc, test_reserve_used_when_nothing_to_steal);
	tcase_add_test(tc, test_steal_with_reserve_zero);
	tcase_add_test(tc, test_pressure_random);
	tcase_add_test(tc, test_steal_finds_lone_list);
	tcase_add_test(tc, test_steal_spreads_victims);
	tcase_add_test(tc, test_hold_keeps_a_group_lock);
	tcase_add_test(tc, test_hold_is_retaken_after_max);
	tcase_add_test(tc, test_hold_keeps_a_hash_stripe);
	tcase_add_test(tc, test_range_ops_over_a_run_release_holds);
	tcase_add_test(tc, test_remove_all_takes_the_list_at_once);
	tcase_add_test(tc, test_free_batch);
	tcase_add_test(tc, test_accounted_hments);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tp, mm_setup, mm_hosted_shutdown);
	tcase_add_test(tp, test_no_reserve_no_victim_fails);
	tcase_add_test(tp, test_remove_all_stops_at_the_count);
	suite_add_tcase(s, tp);
	return s;
}
