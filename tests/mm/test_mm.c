/* Hosted MM unit tests: main, the fixture, and an in-process checker of every invariant in the catalogue. */
#include <stdlib.h>
#include <string.h>

#include "mm_test.h"

void mm_setup(void)
{
	mm_hosted_boot(MM_TEST_RAM);
}

void mm_teardown(void)
{
	mm_check_all();
	mm_hosted_shutdown();
}

page_t *mm_test_page(void)
{
	page_t *pp = page_alloc(PG_USER);

	ck_assert_ptr_nonnull(pp);
	return pp;
}

uint64_t mm_count_kind(unsigned kind)
{
	uint64_t n = 0;

	for (uint64_t pfn = 0; pfn < page_count; pfn++)
		n += page_array[pfn].p_kind == kind;
	return n;
}

pte_t *mm_test_pte(struct hat *h, uint64_t va)
{
	unsigned level = 1;
	page_t *ptp;

	return segtab_walk(h, va, &level, &ptp);
}

/* --- the checker ------------------------------------------------------------ */

/* RM_MISSING: the tracked leaf (ptp, idx) -> pfn is on pfn's list. */
static void check_leaf_listed(page_t *ptp, unsigned idx, uint64_t pfn)
{
	page_t *pp = &page_array[pfn];

	if (pp->p_embed) {
		MM_CHECK(pp->p_mapping == ptp && pp->p_mlentry == idx,
			      "RM_MISSING: pfn 0x%lx embedded mapping is not table 0x%x entry %u",
			      (unsigned long)pfn, ptp->p_pagenum, idx);
		return;
	}
	for (hment_t *hm = pp->p_mapping; hm != NULL; hm = hm->hm_next)
		if (hm->hm_ptp == ptp->p_pagenum && hm->hm_entry == idx)
			return;
	ck_abort_msg("RM_MISSING: table 0x%x entry %u maps pfn 0x%lx, which has no such hment",
		     ptp->p_pagenum, idx, (unsigned long)pfn);
}

struct walk {
	struct hat *h;
	uint64_t tables;    /* owned table pages reached */
	uint64_t tracked;   /* tracked leaves seen */
};

static void check_table(struct walk *w, page_t *ptp, unsigned level, uint64_t ptva);

/* One present entry v at index i of table ptp (level). */
static void check_entry(struct walk *w, page_t *ptp, unsigned level, unsigned i, pte_t v)
{
	uint64_t va = va_canonical(ptp->p_ptva + ((uint64_t)i << MM_LEVEL_SHIFT(level)));
	bool user = va_in_user(va), kernel_hat = w->h->h_flags & HAT_F_KERNEL;

	MM_CHECK(!(v & PTE_PS) || level == 2, "PT_RSVD: PS at level %u", level);
	MM_CHECK(!(v & PTE_G), "PT_RSVD: global bit set");
	if (!user)
		MM_CHECK(!(v & PTE_U), "PT_KERNEL_HALF: user bit at va 0x%lx", (unsigned long)va);
	if (level == 4 && !user && !kernel_hat) {
		MM_CHECK(v == ptp_table(hat_kas.h_top)[i], "PT_KERNEL_HALF: PML4 %u differs", i);
		return;
	}
	if (level > 1 && !(v & PTE_PS)) {
		page_t *c = page_from_pa(v & PTE_FRAME);

		MM_CHECK(c != NULL, "PT_PTP_RANGE: entry 0x%lx", (unsigned long)v);
		MM_CHECK(c->p_hat == w->h, "PT_PTP_OWNER: table 0x%x", c->p_pagenum);
		check_table(w, c, level - 1, va);
		return;
	}
	if (v & PTE_PS)
		MM_CHECK((v & (PTE_LFRAME ^ PTE_FRAME)) == 0, "PT_LARGE_ALIGN");
	if (user && !kernel_hat && page_pfn_managed(pte_pfn(v))) {
		check_leaf_listed(ptp, i, pte_pfn(v));
		w->tracked++;
	}
}

static void check_table(struct walk *w, page_t *ptp, unsigned level, uint64_t ptva)
{
	const pte_t *t = ptp_table(ptp);
	unsigned present = 0;

	MM_CHECK(ptp->p_kind == PG_PTP && ptp->p_level == level && ptp->p_hat == w->h,
		      "PT_PTP_OWNER: table 0x%x kind %u level %u", ptp->p_pagenum, ptp->p_kind,
		      ptp->p_level);
	MM_CHECK(ptp->p_ptva == ptva, "table 0x%x p_ptva 0x%lx, expected 0x%lx",
		      ptp->p_pagenum, (unsigned long)ptp->p_ptva, (unsigned long)ptva);
	w->tables++;
	for (unsigned i = 0; i < MM_PTES; i++) {
		if (!(t[i] & PTE_P)) {
			MM_CHECK(t[i] == 0, "non-present entry with bits 0x%lx", (unsigned long)t[i]);
			continue;
		}
		present++;
		check_entry(w, ptp, level, i, t[i]);
	}
	MM_CHECK(present == ptp->p_valid, "PT_VALID_CNT: table 0x%x level %u has %u, says %u",
		      ptp->p_pagenum, level, present, ptp->p_valid);
}

/* Walks every address space; returns the tracked leaves found. */
static uint64_t check_hats(void)
{
	uint64_t tracked = 0, owned = 0;
	struct hat *prev = NULL;

	ck_assert_ptr_eq(hat_list, &hat_kas);
	for (struct hat *h = hat_list; h != NULL; h = h->h_next) {
		struct walk w = { .h = h };

		MM_CHECK(h->h_prev == prev, "hat_list: bad h_prev");
		MM_CHECK(h->h_top_pa == page_pa(h->h_top), "hat %u: h_top_pa", h->h_id);
		check_table(&w, h->h_top, MM_LEVELS, 0);
		MM_CHECK(w.tables == h->h_nptp, "ST_ACCOUNT: hat %u reaches %lu tables, owns %lu",
			      h->h_id, (unsigned long)w.tables, (unsigned long)h->h_nptp);
		tracked += w.tracked;
		owned += h->h_nptp;
		prev = h;
	}
	MM_CHECK(owned == mm_count_kind(PG_PTP), "ST_ACCOUNT: %lu owned, %lu PG_PTP pages",
		      (unsigned long)owned, (unsigned long)mm_count_kind(PG_PTP));
	return tracked;
}

/* True when hm sits on the chain of the bucket its key names. */
static bool in_bucket(const hment_t *hm)
{
	uint32_t idx = hment_hash_index(hm->hm_ptp, hm->hm_entry, hment_hash.hh_size);

	for (hment_t *c = hment_hash.hh_buckets[idx]; c != NULL; c = c->hm_hashnext)
		if (c == hm)
			return true;
	return false;
}

/* The mapping (ptp, entry) is a present leaf of pfn in some user half. */
static void check_names_pte(const page_t *ptp, unsigned entry, uint64_t pfn)
{
	pte_t v;

	MM_CHECK(ptp != NULL && ptp->p_kind == PG_PTP, "RM_STALE: not a table page");
	MM_CHECK(va_in_user(ptp_entry_va(ptp, entry)), "RM_STALE: kernel-half mapping listed");
	v = ptp_table(ptp)[entry];
	MM_CHECK((v & PTE_P) && pte_pfn(v) == pfn, "RM_STALE: table 0x%x entry %u is 0x%lx, "
		      "not a mapping of 0x%lx", ptp->p_pagenum, entry, (unsigned long)v,
		      (unsigned long)pfn);
	MM_CHECK((ptp->p_level == 2) == ((v & PTE_PS) != 0), "RM_STALE: level/PS mismatch");
}

/* One page's list; returns its mapping count. */
static uint64_t check_page_list(page_t *pp)
{
	uint64_t n = 0;
	hment_t *prev = NULL;

	if (pp->p_mapping == NULL) {
		MM_CHECK(pp->p_embed == 0 && pp->p_share == 0, "RM_EMBED: empty page 0x%x",
			      pp->p_pagenum);
		return 0;
	}
	if (pp->p_embed) {
		MM_CHECK(pp->p_share == 0, "RM_EMBED: share %u", pp->p_share);
		check_names_pte(pp->p_mapping, pp->p_mlentry, pp->p_pagenum);
		return 1;
	}
	for (hment_t *hm = pp->p_mapping; hm != NULL; prev = hm, hm = hm->hm_next) {
		MM_CHECK(n <= hment_hash.hh_count, "RM_LINKS: list of 0x%x loops", pp->p_pagenum);
		MM_CHECK(hm->hm_prev == prev, "RM_LINKS: bad prev in list of 0x%x", pp->p_pagenum);
		MM_CHECK(hm->hm_state == HM_STATE_LISTED, "RS_COUNT: listed hment state 0x%x",
			      hm->hm_state);
		MM_CHECK(hm->hm_pfn == pp->p_pagenum, "RM_PFN");
		check_names_pte(page_from_pfn(hm->hm_ptp), hm->hm_entry, pp->p_pagenum);
		MM_CHECK(in_bucket(hm), "HS_BUCKET: hment not in its bucket");
		for (hment_t *o = pp->p_mapping; o != hm; o = o->hm_next)
			MM_CHECK(o->hm_ptp != hm->hm_ptp || o->hm_entry != hm->hm_entry, "RM_DUP");
		n++;
	}
	MM_CHECK(n == pp->p_share && n >= 1, "RM_SHARE: page 0x%x has %lu, says %u",
		      pp->p_pagenum, (unsigned long)n, pp->p_share);
	return n;
}

/* Every page's list, the hash, the reserve, the table cache, the locks. */
static uint64_t check_lists(void)
{
	uint64_t mappings = 0, shares = 0, hashed = 0, reserved = 0, cached = 0;

	for (uint64_t pfn = 0; pfn < page_count; pfn++) {
		page_t *pp = &page_array[pfn];

		if (!page_pfn_managed(pfn)) {
			MM_CHECK(pp->p_mapping == NULL, "unmanaged page 0x%x has mappings", pp->p_pagenum);
			continue;
		}
		mappings += check_page_list(pp);
		shares += pp->p_embed ? 0 : pp->p_share;
	}
	for (uint32_t b = 0; b < hment_hash.hh_size; b++) {
		for (hment_t *hm = hment_hash.hh_buckets[b]; hm != NULL; hm = hm->hm_hashnext) {
			MM_CHECK(hment_hash_index(hm->hm_ptp, hm->hm_entry, hment_hash.hh_size) == b,
				      "HS_BUCKET: hment in bucket %u", b);
			MM_CHECK(hm->hm_state == HM_STATE_LISTED, "HS_ORPHAN: unlisted hment hashed");
			hashed++;
		}
	}
	MM_CHECK(hashed == shares && hashed == hment_hash.hh_count,
		      "HS_ORPHAN: %lu hashed, %lu shared, count %lu", (unsigned long)hashed,
		      (unsigned long)shares, (unsigned long)hment_hash.hh_count);
	for (hment_t *hm = hment_reserve.hr_pool; hm != NULL; hm = hm->hm_next) {
		MM_CHECK(hm->hm_state == HM_STATE_RESERVE, "RS_COUNT: reserve hment in use");
		reserved++;
	}
	MM_CHECK(reserved == hment_reserve.hr_count, "RS_COUNT: %lu on pool, count %u",
		      (unsigned long)reserved, hment_reserve.hr_count);
	for (page_t *pp = segtab_ptp_cache.pc_head; pp != NULL; pp = pp->p_next) {
		const pte_t *t = ptp_table(pp);

		MM_CHECK(pp->p_kind == PG_CACHE, "ST_FREE_ZERO: cached page kind %u", pp->p_kind);
		for (unsigned i = 0; i < MM_PTES; i++)
			MM_CHECK(t[i] == 0, "ST_FREE_ZERO: cached table not zero");
		cached++;
	}
	ck_assert_uint_eq(cached, segtab_ptp_cache.pc_count);
	ck_assert_uint_eq(cached, mm_count_kind(PG_CACHE));
	for (unsigned i = 0; i < HMENT_MLIST_NLOCK; i++)
		MM_CHECK(hment_mlist_locks[i].ml_locked == 0, "LK_QUIESCENT: mlist lock %u", i);
	for (unsigned i = 0; i < HMENT_HASH_NLOCK; i++)
		MM_CHECK(hment_hash_locks[i].ml_locked == 0, "LK_QUIESCENT: hash lock %u", i);
	ck_assert(hment_reserve.hr_lock.ml_locked == 0 && segtab_ptp_cache.pc_lock.ml_locked == 0);
	return mappings;
}

void mm_check_all(void)
{
	uint64_t tracked = check_hats();
	uint64_t listed = check_lists();

	MM_CHECK(tracked == listed, "RM_MISSING/RM_STALE: %lu tracked leaves, %lu listed",
		      (unsigned long)tracked, (unsigned long)listed);
}

int main(void)
{
	SRunner *sr = srunner_create(page_suite());
	int failed;

	srunner_add_suite(sr, segtab_suite());
	srunner_add_suite(sr, hment_suite());
	srunner_add_suite(sr, hat_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
