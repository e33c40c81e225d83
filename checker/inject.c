/* SPDX-License-Identifier: BSD-2-Clause */
/* Plants one corruption per invariant ID at deterministic targets, so that the checker reports exactly that ID, and restores the original bytes afterwards. */
/*
 * What each ID plants ("first" = lowest pfn, or hat_list order; every
 * other count the corruption would upset is adjusted so that only the
 * named invariant breaks):
 *
 *   PT_PTP_RANGE    a free user-half PML4 slot of the first space points past RAM; p_valid +1
 *   PT_PTP_OWNER    the same slot points at the lowest PG_USER page;                 p_valid +1
 *   PT_RSVD         PS set in the first present user-half PML4 entry of any space
 *   PT_LARGE_ALIGN  bit 13 set in the first user 2 MiB leaf (else hat_kas's direct map)
 *   PT_VALID_CNT    p_valid +1 on the first space's PML4
 *   PT_KERNEL_HALF  PTE_U on the first present kernel-half PML4 entry of the first space
 *   RM_MISSING      the first embedded mapping dropped from its page_t
 *   RM_STALE        the first embedded mapping's PTE made non-present;  p_valid -1, h_nmap4k -1
 *   RM_EMBED        p_share 1 on the first embedded page
 *   RM_SHARE        p_share +1 on the first listed page
 *   RM_LINKS        the first list's head hment: hm_prev points at itself
 *   RM_PFN          the first list's head hment: hm_pfn +1
 *   RM_DUP          the first list of two: the second hment names the head's PTE, moved to
 *                   that hash bucket (a long list); its own PTE made non-present;
 *                                                                       p_valid -1, h_nmap -1
 *   HS_BUCKET       the first list's head hment moved to the next hash bucket, or, the list
 *                   short (HMENT_SHORT_LIST or fewer), put on its own bucket's chain
 *   HS_ORPHAN       the first list's (not of HMENT_SHORT_LIST + 1) head hment unlinked from
 *                   the list (p_share -1), left in the hash (a short list's: put there, and
 *                   counted off CPU 0's short lists); its PTE made non-present;
 *                                                                       p_valid -1, h_nmap -1
 *                   (a list emptied so: its page's steal-index bit and counts too)
 *                   (reported twice: the orphan, and the stripes' count against the lists' total)
 *   RS_COUNT        hr_count +1
 *   ST_FREE_ZERO    a non-zero word in the first page on segtab_ptp_cache
 *   ST_ACCOUNT      h_nptp +1 on the first space
 *   LK_QUIESCENT    hment_mlist_locks[0] marked held by CPU 0
 *   MD_LOG          the HAT operation log's ol_drained set past ol_next
 *   MD_EXTRA        pfn 1 mapped in a free entry of the first embedded mapping's table;
 *                   p_valid +1, h_nmap4k +1
 *   MD_MISSING      the first embedded mapping removed with its PTE, p_valid, page_t record
 *                   and the space's leaf count: consistent, but not what was asked
 *   MD_ATTR         W flipped in the first embedded mapping's leaf
 *   MD_FLUSH        the newest unload/chgprot record the model has not applied, of a loaded
 *                   space that flushed, says it flushed nothing (needs such a fresh record)
 *                   (the MD_* need a model following the log: vmm --check=checkpoints)
 *   PT_NONLEAF      W cleared in the first present user-half PML4 entry of the first space
 *                   having one; else NX set in the first non-leaf entry of hat_kas's first
 *                   kernel-half PDPT
 *   PT_MEMTYPE      PWT flipped in the mapping of the first list of two that the walk meets last
 *   ST_NMAP         h_nmap4k +1 on the first space
 *   ST_LOCKED       h_nlocked +1 on the first space
 *   RM_LISTED       the steal index's summary bit of its first page word flipped
 *                   (needs a guest exporting hment_listed)
 *   MD_RESULT       the newest unapplied getpfnum answer of a user VA: its pfn's low bit flipped
 *   RS_TARGET       the reserve's target set to its count + 1, settled, no cap
 *   MD_AD           the newest unapplied pagesync record: it cleared A/D in one leaf (of no
 *                   loaded space) and answered neither REF nor MOD
 *   PT_DIRTY_ACCESSED  D set, A cleared in the first embedded mapping's leaf (an A it had
 *                   handed to its page's p_attr, as an unload would)
 *   PG_FREE_COUNT   page_pool's nfree -1 and ninuse +1 (their sum, the managed pages, kept)
 *   PG_INUSE        page_pool's ninuse +1
 *                   (the PG_* need a guest exporting page_pool)
 *   MD_PRUNE        the first page on segtab_ptp_cache hung, empty, under a free entry of
 *                   the first user PD (cache, owner, h_nptp, p_valid kept), and an unload
 *                   over it appended to the log (needs room in the ring; the model
 *                   restarts after the repair)
 *   OC_LEAK         the hment cache's oc_inuse +1: one hment out that no list or pool holds
 *                   (else the address-space cache's: a space off hat_list; needs a guest
 *                   exporting hment_cache or hat_cache)
 *   OC_FREE         the hment cache's oc_nfree +1 (else the address-space cache's): a free
 *                   object no partial page holds
 *   ST_CPUS         the first space's h_cpus claims CPU 63, which has not loaded it (needs a
 *                   guest exporting hat_cpu)
 *   TLB_STALE       h_tlb_gen +1 on the space the lowest running CPU has loaded (needs a guest
 *                   exporting hat_cpu and hat_tlb_flushed, and a CPU with a space loaded)
 *   PT_WALK_AGREE   not injectable: a walker mismatch is between the host and the CPU,
 *                   nothing in guest memory can plant one (inject_supported() says so)
 *
 * "The first space" is the first after hat_kas on hat_list, else hat_kas.
 */
#include "inject.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "oplog_read.h"

#define FIND_TABLE_BUDGET 4096u   /* table pages read while looking for a 2 MiB leaf */
#define CHAIN_LIMIT       (1u << 20)

/* One injection in progress. */
struct inj {
	struct mm_view *v;
	struct inject_undo *u;
	char *what;
	size_t what_len;
	bool write_failed;
};

/* A mapping the injector picked: page pfn mapped by (table ptp, entry). */
struct target {
	uint64_t pfn, ptp;
	unsigned entry;
	uint64_t space, va;
	hment_ref_t head_ref, second_ref;   /* listed pages: the first two hments */
	struct hment head, second;
};

/* Writes len bytes at pa, remembering the ones replaced. */
static bool put_pa(struct inj *j, uint64_t pa, const void *src, uint32_t len)
{
	struct inject_write *w = &j->u->w[j->u->n];

	if (j->u->n == INJECT_MAX_WRITES || len > sizeof(w->old) ||
	    !reader_read_pa(&j->v->rd, pa, w->old, len) || !reader_write_pa(&j->v->rd, pa, src, len)) {
		j->write_failed = true;
		return false;
	}
	w->pa = pa;
	w->len = len;
	j->u->n++;
	return true;
}

/* put_pa() at a guest VA (fields of at most 8 aligned bytes never straddle pages). */
static bool put_va(struct inj *j, uint64_t va, const void *src, uint32_t len)
{
	uint64_t pa;

	if (!reader_translate(&j->v->rd, va, &pa)) {
		j->write_failed = true;
		return false;
	}
	return put_pa(j, pa, src, len);
}

#define PUT_FIELD(j, base_va, type, field, value) do {                         \
		__typeof__(((type *)0)->field) put_value_ = (value);              \
		put_va((j), (base_va) + offsetof(type, field), &put_value_,       \
		       sizeof(put_value_));                                         \
	} while (0)

#define PUT_PAGE(j, pfn, field, value) \
	PUT_FIELD(j, view_page_va((j)->v, (pfn)), struct page, field, value)

/* Sets a field of the hment ref names (hments are reached by PA). */
#define PUT_HMENT(j, ref, field, value) do {                                   \
		__typeof__(((struct hment *)0)->field) put_value_ = (value);      \
		put_pa((j), hment_ref_pa(ref) + offsetof(struct hment, field),    \
		       &put_value_, sizeof(put_value_));                            \
	} while (0)

/* Sets where the checker must report it, and `what`. */
__attribute__((format(printf, 5, 6)))
static void describe(struct inj *j, uint64_t space, uint64_t va, uint64_t pfn, const char *fmt, ...)
{
	char detail[256], sp[24], vs[24], pf[24];
	va_list ap;

	j->u->space = space;
	j->u->va = va;
	j->u->pfn = pfn;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(sp, sizeof(sp), space == REPORT_NONE ? "-" : "%" PRIu64, space);
	snprintf(vs, sizeof(vs), va == REPORT_NONE ? "-" : "0x%016" PRIx64, va);
	snprintf(pf, sizeof(pf), pfn == REPORT_NONE ? "-" : "0x%" PRIx64, pfn);
	snprintf(j->what, j->what_len, "space=%s va=%s pfn=%s: %s", sp, vs, pf, detail);
}

/* The first address space after hat_kas; with kas_ok, hat_kas when there is no other. */
static struct hat_rec *first_space(struct mm_view *v, bool kas_ok)
{
	size_t first_user = v->have_kas ? 1 : 0;

	if (v->nhats > first_user)
		return &v->hats[first_user];
	return kas_ok && v->have_kas ? &v->hats[0] : NULL;
}

/* Space and VA of entry `entry` of table page ptp, from its page_t. */
static bool table_loc(const struct mm_view *v, uint64_t ptp, unsigned entry, uint64_t *space,
		      uint64_t *va)
{
	const struct page *pg = ptp < v->npages ? &v->pages[ptp] : NULL;

	if (pg == NULL || pg->p_kind != PG_PTP || pg->p_level < 1 || pg->p_level > MM_LEVELS ||
	    entry >= MM_PTES)
		return false;
	*space = view_space_id(v, pg->p_hat);
	*va = x86_table_entry_va(pg->p_ptva, pg->p_level, entry);
	return *space != REPORT_NONE;
}

/* The first page (lowest pfn) with an embedded mapping. */
static bool find_embedded(struct inj *j, struct target *t)
{
	const struct mm_view *v = j->v;

	for (uint64_t pfn = v->first_managed; pfn < v->npages; pfn++) {
		const struct page *pg = &v->pages[pfn];

		t->ptp = pg->p_mapping;
		if (pg->p_embed == 1 && table_loc(v, t->ptp, pg->p_mlentry, &t->space, &t->va)) {
			t->pfn = pfn;
			t->entry = pg->p_mlentry;
			return true;
		}
	}
	return false;
}

/*
 * The first page with a list of at least min_len hments, and not of
 * exactly `avoid` (0: any); its head (and second) hment.
 */
static bool find_listed_but(struct inj *j, unsigned min_len, unsigned avoid, struct target *t)
{
	struct mm_view *v = j->v;

	for (uint64_t pfn = v->first_managed; pfn < v->npages; pfn++) {
		const struct page *pg = &v->pages[pfn];

		if (pg->p_embed != 0 || pg->p_mapping == 0 || pg->p_share < min_len ||
		    pg->p_share == avoid)
			continue;
		t->head_ref = pg->p_mapping;
		if (!reader_read_pa(&v->rd, hment_ref_pa(t->head_ref), &t->head, sizeof(t->head)))
			continue;
		t->second_ref = t->head.hm_next;
		if (min_len >= 2 && (t->second_ref == HMENT_REF_NONE ||
				     !reader_read_pa(&v->rd, hment_ref_pa(t->second_ref), &t->second,
						     sizeof(t->second))))
			continue;
		if (!table_loc(v, t->head.hm_ptp, t->head.hm_entry, &t->space, &t->va))
			continue;
		t->pfn = pfn;
		t->ptp = t->head.hm_ptp;
		t->entry = t->head.hm_entry;
		return true;
	}
	return false;
}

static bool find_listed(struct inj *j, unsigned min_len, struct target *t)
{
	return find_listed_but(j, min_len, 0, t);
}

/* Whether the target's list is long enough for the MM to keep it on the hash. */
static bool target_hashed(const struct inj *j, const struct target *t)
{
	return j->v->pages[t->pfn].p_share > HMENT_SHORT_LIST;
}

/* Adds delta to the h_nmap4k / h_nmap2m that counts a user leaf of table page ptp (ST_NMAP). */
static void count_leaf(struct inj *j, uint64_t ptp, int delta)
{
	const struct page *pg = &j->v->pages[ptp];
	const struct hat_rec *h = view_hat_at(j->v, pg->p_hat);

	if (h == NULL || h->va == j->v->sym.hat_kas) {
		j->write_failed = true;
		return;
	}
	if (pg->p_level == 2)
		PUT_FIELD(j, h->va, struct hat, h_nmap2m, h->h.h_nmap2m + (uint64_t)(int64_t)delta);
	else
		PUT_FIELD(j, h->va, struct hat, h_nmap4k, h->h.h_nmap4k + (uint64_t)(int64_t)delta);
}

/*
 * Clears P of (ptp, entry) and takes one off the table's p_valid and its
 * space's leaf count, so only list invariants notice. Each planter calls
 * it once at most: the counts it writes are the view's plus one change.
 */
static void unmap_pte(struct inj *j, uint64_t ptp, unsigned entry)
{
	uint64_t pa = (ptp << MM_PAGE_SHIFT) + 8ull * entry, pte;

	if (ptp >= j->v->npages || j->v->pages[ptp].p_kind != PG_PTP || entry >= MM_PTES ||
	    !reader_read_u64_pa(&j->v->rd, pa, &pte)) {
		j->write_failed = true;
		return;
	}
	pte &= ~PTE_P;
	put_pa(j, pa, &pte, sizeof(pte));
	PUT_PAGE(j, ptp, p_valid, (uint16_t)(j->v->pages[ptp].p_valid - 1));
	count_leaf(j, ptp, -1);
}

/* PA of bucket b's chain head, through the hash directory. */
static bool bucket_pa(struct inj *j, uint32_t b, uint64_t *pa)
{
	uint32_t pfn;

	if (!reader_read_va(&j->v->rd, j->v->hash.hh_dir + 4ull * (b / HMENT_HASH_PAGE_BUCKETS), &pfn,
			    sizeof(pfn)))
		return false;
	*pa = ((uint64_t)pfn << MM_PAGE_SHIFT) + 4ull * (b % HMENT_HASH_PAGE_BUCKETS);
	return true;
}

/* Unhooks the hment ref (whose hm_hashnext is next) from bucket b's chain. */
static bool hash_unlink(struct inj *j, uint32_t b, hment_ref_t ref, hment_ref_t next)
{
	uint64_t link;
	hment_ref_t node;

	if (!bucket_pa(j, b, &link))
		return false;
	for (unsigned n = 0; n < CHAIN_LIMIT; n++) {
		if (!reader_read_pa(&j->v->rd, link, &node, sizeof(node)) || node == HMENT_REF_NONE)
			return false;
		if (node == ref)
			return put_pa(j, link, &next, sizeof(next));
		link = hment_ref_pa(node) + offsetof(struct hment, hm_hashnext);
	}
	return false;
}

/* Pushes the hment ref on bucket b's chain. */
static bool hash_push(struct inj *j, uint32_t b, hment_ref_t ref)
{
	uint64_t bucket;
	hment_ref_t head;

	if (!bucket_pa(j, b, &bucket) || !reader_read_pa(&j->v->rd, bucket, &head, sizeof(head)))
		return false;
	PUT_HMENT(j, ref, hm_hashnext, head);
	return put_pa(j, bucket, &ref, sizeof(ref));
}

/* Adds delta to the hment count of bucket b's stripe (as read at planting: once per stripe). */
static void stripe_count_add(struct inj *j, uint32_t b, int64_t delta)
{
	uint32_t i = hment_hash_lock_index(b);

	PUT_FIELD(j, j->v->sym.hment_hash_locks + i * sizeof(struct hment_hash_stripe), struct hment_hash_stripe,
		  hs_count, j->v->stripes[i].hs_count + (uint64_t)delta);
}

/* Adds delta to CPU 0's count of hments on short lists (when the guest exports the counts). */
static void short_count_add(struct inj *j, int64_t delta)
{
	uint64_t va = j->v->sym.hment_short_listed;
	int64_t count;

	if (va == 0)
		return;
	if (!reader_read_va(&j->v->rd, va, &count, sizeof(count))) {
		j->write_failed = true;
		return;
	}
	count += delta;
	put_va(j, va, &count, sizeof(count));
}

/* Moves the hment ref (whose hm_hashnext is next) from bucket `from`'s chain to `to`'s, the stripes' counts with it. */
static bool hash_move(struct inj *j, uint32_t from, uint32_t to, hment_ref_t ref, hment_ref_t next)
{
	if (!hash_unlink(j, from, ref, next) || !hash_push(j, to, ref))
		return false;
	if (hment_hash_lock_index(from) != hment_hash_lock_index(to)) {
		stripe_count_add(j, from, -1);
		stripe_count_add(j, to, 1);
	}
	return true;
}

/* The bucket the MM files the hment of (table pfn, entry) in. */
static uint32_t home_bucket(const struct inj *j, uint32_t ptp, uint32_t entry)
{
	return hment_hash_bucket(hment_hash_key(ptp, entry), j->v->hash.hh_nbuckets);
}

/* Reads a space's PML4. */
static bool read_pml4(struct inj *j, const struct hat_rec *s, uint64_t *pml4)
{
	return (s->h.h_top_pa & (MM_PAGE_SIZE - 1)) == 0 &&
	       reader_read_pa(&j->v->rd, s->h.h_top_pa, pml4, MM_PTES * sizeof(uint64_t));
}

/*
 * Fills a free user-half PML4 slot of the first space with a present
 * entry to target_pa and counts it in p_valid: only the entry itself is wrong.
 */
static int plant_pml4_entry(struct inj *j, uint64_t target_pa, const char *what)
{
	struct hat_rec *s = first_space(j->v, true);
	uint64_t pml4[MM_PTES], top_pfn, entry;
	unsigned e = 0;

	if (s == NULL || !read_pml4(j, s, pml4))
		return -1;
	while (e < MM_PML4_KERNEL && (pml4[e] & PTE_P))
		e++;
	top_pfn = s->h.h_top_pa >> MM_PAGE_SHIFT;
	if (e == MM_PML4_KERNEL || top_pfn >= j->v->npages)
		return 1;
	entry = target_pa | PTE_P | PTE_W | PTE_U;
	put_pa(j, s->h.h_top_pa + 8ull * e, &entry, sizeof(entry));
	PUT_PAGE(j, top_pfn, p_valid, (uint16_t)(j->v->pages[top_pfn].p_valid + 1));
	describe(j, s->h.h_id, (uint64_t)e << MM_LEVEL_SHIFT(MM_LEVELS), target_pa >> MM_PAGE_SHIFT,
		 "PML4 entry %u (pfn 0x%" PRIx64 ") now points at %s 0x%" PRIx64 "; p_valid counts it", e,
		 top_pfn, what, target_pa);
	return 0;
}

/* PT_PTP_RANGE: a new user-half PML4 entry pointing just past RAM. */
static int plant_ptp_range(struct inj *j)
{
	uint64_t past = (j->v->rd.ram_size + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);

	return plant_pml4_entry(j, past, "PA past the end of RAM");
}

/* PT_PTP_OWNER: a new user-half PML4 entry pointing at the lowest PG_USER page. */
static int plant_ptp_owner(struct inj *j)
{
	for (uint64_t pfn = j->v->first_managed; pfn < j->v->npages; pfn++)
		if (j->v->pages[pfn].p_kind == PG_USER)
			return plant_pml4_entry(j, pfn << MM_PAGE_SHIFT, "the user page at");
	return 1;
}

/*
 * The first present user-half PML4 entry of the first space (after
 * hat_kas) having one, rewritten as `set` | (its value & ~clear) and
 * described with `what` ("... entry %u"). False when no space has one.
 */
static bool rewrite_user_pml4e(struct inj *j, uint64_t set, uint64_t clear, const char *what)
{
	uint64_t pml4[MM_PTES];

	for (size_t i = j->v->have_kas ? 1 : 0; i < j->v->nhats; i++) {
		const struct hat_rec *s = &j->v->hats[i];

		if (!read_pml4(j, s, pml4))
			continue;
		for (unsigned e = 0; e < MM_PML4_KERNEL; e++) {
			uint64_t v = (pml4[e] & ~clear) | set;

			if (!(pml4[e] & PTE_P))
				continue;
			put_pa(j, s->h.h_top_pa + 8ull * e, &v, sizeof(v));
			describe(j, s->h.h_id, (uint64_t)e << MM_LEVEL_SHIFT(MM_LEVELS),
				 (pml4[e] & j->v->rd.frame_mask) >> MM_PAGE_SHIFT, "%s %u", what, e);
			return true;
		}
	}
	return false;
}

/* PT_RSVD: PS set in the first present user-half PML4 entry of the first space having one. */
static int plant_rsvd(struct inj *j)
{
	return rewrite_user_pml4e(j, PTE_PS, 0, "PS set in PML4 entry") ? 0 : 1;
}

/* A present 2 MiB leaf found in a space's tables. */
struct large_leaf {
	uint64_t pd_pa, value, va;
	unsigned entry;
};

/* The first 2 MiB leaf below PML4 entries [lo, hi) of s, reading at most *budget tables. */
static bool find_large(struct inj *j, const struct hat_rec *s, unsigned lo, unsigned hi,
		       struct large_leaf *out)
{
	uint64_t pml4[MM_PTES], pdpt[MM_PTES], pd[MM_PTES];
	unsigned budget = FIND_TABLE_BUDGET;
	uint64_t mask = j->v->rd.frame_mask;

	if (!read_pml4(j, s, pml4))
		return false;
	for (unsigned e4 = lo; e4 < hi; e4++) {
		if (!(pml4[e4] & PTE_P) || budget-- == 0 ||
		    !reader_read_pa(&j->v->rd, pml4[e4] & mask, pdpt, sizeof(pdpt)))
			continue;
		for (unsigned e3 = 0; e3 < MM_PTES; e3++) {
			if (!(pdpt[e3] & PTE_P) || (pdpt[e3] & PTE_PS) || budget-- == 0 ||
			    !reader_read_pa(&j->v->rd, pdpt[e3] & mask, pd, sizeof(pd)))
				continue;
			for (unsigned e2 = 0; e2 < MM_PTES; e2++) {
				if ((pd[e2] & (PTE_P | PTE_PS)) != (PTE_P | PTE_PS))
					continue;
				*out = (struct large_leaf){
					.pd_pa = pdpt[e3] & mask, .value = pd[e2], .entry = e2,
					.va = x86_va_sign_extend(((uint64_t)e4 << 39) | ((uint64_t)e3 << 30) |
						       ((uint64_t)e2 << 21)),
				};
				return true;
			}
		}
	}
	return false;
}

/* PT_LARGE_ALIGN: bit 13 set in the first user 2 MiB leaf, else in hat_kas's first kernel one. */
static int plant_large_align(struct inj *j)
{
	struct large_leaf l;
	const struct hat_rec *s = NULL;
	uint64_t v;

	for (size_t i = j->v->have_kas ? 1 : 0; i < j->v->nhats && s == NULL; i++)
		if (find_large(j, &j->v->hats[i], 0, MM_PML4_KERNEL, &l))
			s = &j->v->hats[i];
	if (s == NULL && j->v->have_kas && find_large(j, &j->v->hats[0], MM_PML4_KERNEL, MM_PTES, &l))
		s = &j->v->hats[0];
	if (s == NULL)
		return 1;
	v = l.value | (1ull << 13);
	put_pa(j, l.pd_pa + 8ull * l.entry, &v, sizeof(v));
	describe(j, s->h.h_id, l.va, (l.value & j->v->rd.frame_mask & PTE_LFRAME) >> MM_PAGE_SHIFT,
		 "2 MiB leaf (entry %u of table pfn 0x%" PRIx64 ") now has frame bit 13 set", l.entry,
		 (l.pd_pa >> MM_PAGE_SHIFT));
	return 0;
}

/* PT_VALID_CNT: one more in the p_valid of the first space's PML4. */
static int plant_valid_cnt(struct inj *j)
{
	struct hat_rec *s = first_space(j->v, true);
	uint64_t pfn;

	if (s == NULL || (pfn = s->h.h_top_pa >> MM_PAGE_SHIFT) >= j->v->npages)
		return -1;
	PUT_PAGE(j, pfn, p_valid, (uint16_t)(j->v->pages[pfn].p_valid + 1));
	describe(j, s->h.h_id, 0, pfn, "PML4 pfn 0x%" PRIx64 ": p_valid %u -> %u", pfn,
		 j->v->pages[pfn].p_valid, j->v->pages[pfn].p_valid + 1u);
	return 0;
}

/* PT_KERNEL_HALF: PTE_U on the first present kernel-half PML4 entry of the first space. */
static int plant_kernel_half(struct inj *j)
{
	struct hat_rec *s = first_space(j->v, true);
	uint64_t pml4[MM_PTES];

	if (s == NULL || !read_pml4(j, s, pml4))
		return -1;
	for (unsigned e = MM_PML4_KERNEL; e < MM_PTES; e++) {
		uint64_t v = pml4[e] | PTE_U;

		if (!(pml4[e] & PTE_P))
			continue;
		put_pa(j, s->h.h_top_pa + 8ull * e, &v, sizeof(v));
		describe(j, s->h.h_id, x86_va_sign_extend((uint64_t)e << 39),
			 (pml4[e] & j->v->rd.frame_mask) >> MM_PAGE_SHIFT,
			 "kernel-half PML4 entry %u made user-accessible", e);
		return 0;
	}
	return 1;
}

/* RM_MISSING: the first embedded mapping forgotten (page_t says: no mappings). */
static int plant_rm_missing(struct inj *j)
{
	struct target t;

	if (!find_embedded(j, &t))
		return 1;
	PUT_PAGE(j, t.pfn, p_mapping, 0);
	PUT_PAGE(j, t.pfn, p_embed, 0);
	PUT_PAGE(j, t.pfn, p_mlentry, 0);
	describe(j, t.space, t.va, t.pfn,
		 "embedded mapping (table pfn 0x%" PRIx64 " entry %u) dropped from the page_t",
		 t.ptp, t.entry);
	return 0;
}

/* RM_STALE: the PTE of the first embedded mapping cleared (p_valid follows). */
static int plant_rm_stale(struct inj *j)
{
	struct target t;

	if (!find_embedded(j, &t))
		return 1;
	unmap_pte(j, t.ptp, t.entry);
	describe(j, t.space, t.va, t.pfn, "PTE of the embedded mapping (table pfn 0x%" PRIx64 " entry %u) "
		 "made non-present", t.ptp, t.entry);
	return 0;
}

/* RM_EMBED: p_share 1 on the first embedded page. */
static int plant_rm_embed(struct inj *j)
{
	struct target t;

	if (!find_embedded(j, &t))
		return 1;
	PUT_PAGE(j, t.pfn, p_share, 1);
	describe(j, REPORT_NONE, REPORT_NONE, t.pfn, "embedded page given p_share 1");
	return 0;
}

/* RM_SHARE: p_share one too high on the first listed page. */
static int plant_rm_share(struct inj *j)
{
	struct target t;
	uint32_t share;

	if (!find_listed(j, 1, &t))
		return 1;
	share = j->v->pages[t.pfn].p_share;
	PUT_PAGE(j, t.pfn, p_share, share + 1);
	describe(j, REPORT_NONE, REPORT_NONE, t.pfn, "p_share %u -> %u", share, share + 1);
	return 0;
}

/* RM_LINKS: the head hment of the first list points back at itself through hm_prev. */
static int plant_rm_links(struct inj *j)
{
	struct target t;

	if (!find_listed(j, 1, &t))
		return 1;
	PUT_HMENT(j, t.head_ref, hm_prev, t.head_ref);
	describe(j, t.space, t.va, t.pfn, "head hment 0x%" PRIx64 ": hm_prev set to itself",
		 hment_ref_pa(t.head_ref));
	return 0;
}

/* RM_PFN: the head hment of the first list names the next pfn. */
static int plant_rm_pfn(struct inj *j)
{
	struct target t;

	if (!find_listed(j, 1, &t))
		return 1;
	PUT_HMENT(j, t.head_ref, hm_pfn, t.head.hm_pfn + 1);
	describe(j, t.space, t.va, t.pfn, "head hment 0x%" PRIx64 ": hm_pfn 0x%x -> 0x%x",
		 hment_ref_pa(t.head_ref), t.head.hm_pfn, t.head.hm_pfn + 1);
	return 0;
}

/*
 * RM_DUP: the second hment of the first list of two takes the head's
 * (table, entry); it moves to that hash bucket and its old PTE is cleared,
 * so nothing but the duplicate is wrong.
 */
static int plant_rm_dup(struct inj *j)
{
	uint32_t from, to;
	struct target t;

	if (!j->v->hash_ok || !find_listed(j, 2, &t))
		return 1;
	from = home_bucket(j, t.second.hm_ptp, t.second.hm_entry);
	to = home_bucket(j, t.head.hm_ptp, t.head.hm_entry);
	if (target_hashed(j, &t) && from != to && !hash_move(j, from, to, t.second_ref, t.second.hm_hashnext))
		return -1;
	unmap_pte(j, t.second.hm_ptp, t.second.hm_entry);
	PUT_HMENT(j, t.second_ref, hm_ptp, t.head.hm_ptp);
	PUT_HMENT(j, t.second_ref, hm_entry, t.head.hm_entry);
	describe(j, t.space, t.va, t.pfn, "hment 0x%" PRIx64 " now names the head's table pfn 0x%x entry %u "
		 "too", hment_ref_pa(t.second_ref), t.head.hm_ptp, t.head.hm_entry);
	return 0;
}

/*
 * HS_BUCKET: the head hment of the first list moved to the next bucket,
 * or, the list being short, put on its own bucket's chain.
 */
static int plant_hs_bucket(struct inj *j)
{
	uint32_t n = j->v->hash.hh_nbuckets, from, to;
	struct target t;

	if (!j->v->hash_ok || n < 2 || !find_listed(j, 1, &t))
		return 1;
	from = home_bucket(j, t.head.hm_ptp, t.head.hm_entry);
	if (!target_hashed(j, &t)) {
		if (!hash_push(j, from, t.head_ref))
			return -1;
		stripe_count_add(j, from, 1);
		describe(j, t.space, t.va, t.pfn, "hment 0x%" PRIx64 " of a list of %u put in hash bucket %u",
			 hment_ref_pa(t.head_ref), j->v->pages[t.pfn].p_share, from);
		return 0;
	}
	to = (from + 1) % n;
	if (!hash_move(j, from, to, t.head_ref, t.head.hm_hashnext))
		return -1;
	describe(j, t.space, t.va, t.pfn, "hment 0x%" PRIx64 " moved from hash bucket %u to %u",
		 hment_ref_pa(t.head_ref), from, to);
	return 0;
}

/* The steal index's bits of pfn, whose list the injection emptied (when the guest exports it): as hment.c's listed_note would. */
static void listed_drop(struct inj *j, uint64_t pfn)
{
	struct hment_listed h;

	if (j->v->sym.hment_listed == 0 || !reader_read_va(&j->v->rd, j->v->sym.hment_listed, &h, sizeof(h)))
		return;
	for (unsigned i = 0; i < LISTED_LEVELS; i++) {
		uint64_t entry = pfn >> listed_bit_shift(i);
		uint64_t at = h.level[i] + (entry >> 6) * 8, word;

		if (!reader_read_va(&j->v->rd, at, &word, sizeof(word)))
			return;
		word &= ~(1ull << (entry & 63));
		put_va(j, at, &word, sizeof(word));
		if (word != 0)
			return;
	}
}

/*
 * HS_ORPHAN: the head hment of the first list unlinked from it (its PTE
 * cleared) but left in the hash, or, the list being short, put there. Not
 * from a list one longer than HMENT_SHORT_LIST: the rest of it would be
 * hashed too short.
 */
static int plant_hs_orphan(struct inj *j)
{
	struct target t;

	if (!j->v->hash_ok || !find_listed_but(j, 1, HMENT_SHORT_LIST + 1, &t))
		return 1;
	if (!target_hashed(j, &t)) {
		uint32_t home = home_bucket(j, t.head.hm_ptp, t.head.hm_entry);

		if (!hash_push(j, home, t.head_ref))
			return -1;
		stripe_count_add(j, home, 1);
		short_count_add(j, -1);   /* off its short list, counted in the hash */
	}
	PUT_PAGE(j, t.pfn, p_mapping, t.head.hm_next);
	PUT_PAGE(j, t.pfn, p_share, j->v->pages[t.pfn].p_share - 1);
	if (t.head.hm_next != HMENT_REF_NONE)
		PUT_HMENT(j, t.head.hm_next, hm_prev, HMENT_REF_NONE);
	else
		listed_drop(j, t.pfn);
	unmap_pte(j, t.ptp, t.entry);
	describe(j, t.space, t.va, t.pfn, "hment 0x%" PRIx64 " taken off the list, left in the hash",
		 hment_ref_pa(t.head_ref));
	return 0;
}

/* RS_COUNT: hr_count one too high. */
static int plant_rs_count(struct inj *j)
{
	uint32_t count = j->v->reserve.hr_count;

	if (!j->v->reserve_ok)
		return -1;
	PUT_FIELD(j, j->v->sym.hment_reserve, struct hment_reserve, hr_count, count + 1);
	describe(j, REPORT_NONE, REPORT_NONE, REPORT_NONE, "hr_count %u -> %u", count, count + 1);
	return 0;
}

/* ST_FREE_ZERO: a non-zero (non-present) entry written into the first cached table page. */
static int plant_free_zero(struct inj *j)
{
	uint64_t pfn, junk = 0xdead0000ull;

	if (!j->v->cache_ok || !view_pfn_of_page_va(j->v, j->v->cache.pc_head, &pfn))
		return 1;
	put_pa(j, (pfn << MM_PAGE_SHIFT) + 8, &junk, sizeof(junk));
	describe(j, REPORT_NONE, REPORT_NONE, pfn,
		 "entry 1 of cached table page pfn 0x%" PRIx64 " set to 0x%" PRIx64, pfn, junk);
	return 0;
}

/* One of the first space's uint64_t counts (at `field` of struct hat, named `name`) one too high. */
static int bump_space_count(struct inj *j, size_t field, const char *name)
{
	struct hat_rec *s = first_space(j->v, true);
	uint64_t was, now;

	if (s == NULL)
		return -1;
	memcpy(&was, (const char *)&s->h + field, sizeof(was));
	now = was + 1;
	put_va(j, s->va + field, &now, sizeof(now));
	describe(j, s->h.h_id, REPORT_NONE, REPORT_NONE, "%s %" PRIu64 " -> %" PRIu64, name, was, now);
	return 0;
}

/* ST_ACCOUNT: h_nptp one too high in the first space. */
static int plant_st_account(struct inj *j)
{
	return bump_space_count(j, offsetof(struct hat, h_nptp), "h_nptp");
}

/* LK_QUIESCENT: mapping-list lock 0 marked held by CPU 0. */
static int plant_lk_quiescent(struct inj *j)
{
	struct mm_lock held = { .ml_locked = 1, .ml_owner = 1 };
	uint64_t pa;

	if (!reader_translate(&j->v->rd, j->v->sym.hment_mlist_locks, &pa))
		return -1;
	put_pa(j, pa, &held, sizeof(held));
	describe(j, REPORT_NONE, REPORT_NONE, REPORT_NONE, "hment_mlist_locks[0] marked held by cpu 0");
	return 0;
}

/* The model's IDs need a model following the log (vmm --check=checkpoints); none yet: try later. */
static int model_ready(struct inj *j)
{
	if (j->v->sym.hat_oplog == 0)
		return -1;
	return checker_model_following() ? 0 : 1;
}

/* The PTE of the first embedded mapping, read. */
static bool embedded_pte(struct inj *j, struct target *t, uint64_t *pa, uint64_t *pte)
{
	if (!find_embedded(j, t))
		return false;
	*pa = (t->ptp << MM_PAGE_SHIFT) + 8ull * t->entry;
	return reader_read_u64_pa(&j->v->rd, *pa, pte);
}

/* MD_ATTR: the first embedded mapping's leaf loses W (or gains it): every structure stays consistent. */
static int plant_md_attr(struct inj *j)
{
	struct target t;
	uint64_t pa, pte;
	int rc = model_ready(j);

	if (rc != 0)
		return rc;
	if (!embedded_pte(j, &t, &pa, &pte))
		return 1;
	pte ^= PTE_W;
	put_pa(j, pa, &pte, sizeof(pte));
	describe(j, t.space, t.va, t.pfn, "W flipped in the leaf (table pfn 0x%" PRIx64 " entry %u)",
		 t.ptp, t.entry);
	return 0;
}

/*
 * PT_DIRTY_ACCESSED: the first embedded mapping's leaf made dirty and not
 * accessed; an A it had goes to its page's p_attr, as an unload would hand
 * it over, so no A/D information is lost (MD_AD).
 */
static int plant_dirty_accessed(struct inj *j)
{
	struct target t;
	uint64_t pa, pte;

	if (!embedded_pte(j, &t, &pa, &pte))
		return 1;
	if (pte & PTE_A)
		PUT_PAGE(j, t.pfn, p_attr, (uint8_t)(j->v->pages[t.pfn].p_attr | PG_ATTR_REF));
	pte = (pte | PTE_D) & ~PTE_A;
	put_pa(j, pa, &pte, sizeof(pte));
	describe(j, t.space, t.va, t.pfn, "D set and A cleared in the leaf (table pfn 0x%" PRIx64 " entry %u)",
		 t.ptp, t.entry);
	return 0;
}

/*
 * MD_EXTRA: a leaf nobody asked for, next to the first embedded 4 KiB
 * mapping: it maps pfn 1 (never managed, so no list expects it), p_valid +1.
 */
static int plant_md_extra(struct inj *j)
{
	struct target t;
	uint64_t pa, pte = 0, leaf = (1ull << MM_PAGE_SHIFT) | PTE_P | PTE_NX;
	unsigned e;
	int rc = model_ready(j);

	if (rc != 0)
		return rc;
	if (!embedded_pte(j, &t, &pa, &pte) || j->v->pages[t.ptp].p_level != 1)
		return 1;
	for (e = 0; e < MM_PTES; e++)
		if (reader_read_u64_pa(&j->v->rd, (t.ptp << MM_PAGE_SHIFT) + 8ull * e, &pte) && pte == 0)
			break;
	if (e == MM_PTES)
		return 1;
	put_pa(j, (t.ptp << MM_PAGE_SHIFT) + 8ull * e, &leaf, sizeof(leaf));
	PUT_PAGE(j, t.ptp, p_valid, (uint16_t)(j->v->pages[t.ptp].p_valid + 1));
	count_leaf(j, t.ptp, 1);
	describe(j, t.space, x86_table_entry_va(t.va & ~(MM_LARGE_SIZE - 1), 1, e), 1,
		 "entry %u of table pfn 0x%" PRIx64 " made to map pfn 1", e, t.ptp);
	return 0;
}

/*
 * MD_MISSING: the first embedded mapping taken away with every structure
 * kept consistent (PTE, p_valid, the page_t's embedded record, the space's
 * leaf count): only what the HAT was asked for says it should be there.
 */
static int plant_md_missing(struct inj *j)
{
	struct target t;
	uint64_t pa, pte;
	int rc = model_ready(j);

	if (rc != 0)
		return rc;
	if (!embedded_pte(j, &t, &pa, &pte))
		return 1;
	unmap_pte(j, t.ptp, t.entry);   /* the space's leaf count too */
	PUT_PAGE(j, t.pfn, p_mapping, 0);
	PUT_PAGE(j, t.pfn, p_embed, 0);
	PUT_PAGE(j, t.pfn, p_mlentry, 0);
	describe(j, t.space, t.va, t.pfn, "the mapping (table pfn 0x%" PRIx64 " entry %u) removed, "
		 "every record of it too", t.ptp, t.entry);
	return 0;
}

/*
 * MD_FLUSH: the newest operation the model has not seen yet that changed
 * a loaded space and flushed (o_loaded, o_flushes > 0) now says it
 * flushed nothing. No such fresh record: no target at this checkpoint.
 */
/*
 * The newest log record the model has not applied yet that `want`
 * accepts: its number, address and copy. 0; 1 when there is none; -1
 * when the log cannot be read (or no model follows it).
 */
static int newest_record(struct inj *j, bool (*want)(const struct hat_op *op), uint64_t *seqp,
			 uint64_t *vap, struct hat_op *opp)
{
	struct hat_oplog log;
	struct oplog_records r = { 0 };
	uint64_t first = checker_model_next_seq(), at;
	int rc = model_ready(j);

	if (rc != 0)
		return rc;
	if (!reader_read_va(&j->v->rd, j->v->sym.hat_oplog, &log, sizeof(log)) || first == 0 ||
	    oplog_read(&j->v->rd, &log, first, &r, &at) != NULL) {
		oplog_records_free(&r);
		return -1;
	}
	rc = 1;
	for (uint64_t k = r.n; rc == 1 && k-- > 0;)
		if (want(&r.op[k])) {
			*seqp = r.first + k;
			*vap = r.va[k];
			*opp = r.op[k];
			rc = 0;
		}
	oplog_records_free(&r);
	return rc;
}

static bool flushed_change(const struct hat_op *op)
{
	return (op->o_kind == HOP_UNLOAD || op->o_kind == HOP_CHGPROT) && op->o_loaded &&
	       op->o_flushes != 0 && op->o_space != 0;
}

static int plant_md_flush(struct inj *j)
{
	uint64_t seq, va;
	struct hat_op op;
	int rc = newest_record(j, flushed_change, &seq, &va, &op);

	if (rc != 0)
		return rc;
	PUT_FIELD(j, va, struct hat_op, o_flushes, 0);
	describe(j, op.o_space, op.o_va, REPORT_NONE, "operation %" PRIu64 "'s %u flushes set to 0",
		 seq, op.o_flushes);
	return 0;
}

static bool user_answer(const struct hat_op *op)
{
	return op->o_kind == HOP_GETPFNUM && op->o_space != 0 && op->o_va < USER_TOP;
}

/*
 * MD_RESULT: the newest unapplied getpfnum answer of a user VA one frame
 * off (as a 2 MiB page's first frame would be), or pfn 0 for "nothing".
 */
static int plant_md_result(struct inj *j)
{
	uint64_t seq, va;
	struct hat_op op;
	int rc = newest_record(j, user_answer, &seq, &va, &op);
	uint32_t pfn = op.o_result == 0 ? op.o_pfn ^ 1u : 0;

	if (rc != 0)
		return rc;
	PUT_FIELD(j, va, struct hat_op, o_pfn, pfn);
	PUT_FIELD(j, va, struct hat_op, o_result, 0);
	describe(j, op.o_space, op.o_va, pfn, "operation %" PRIu64 "'s answer %s0x%x -> pfn 0x%x", seq,
		 op.o_result == 0 ? "pfn " : "nothing ", op.o_result == 0 ? op.o_pfn : 0, pfn);
	return 0;
}

/* The first user-half PD (level-2 table) of a space other than hat_kas with a free entry: its pfn and that entry. */
static bool find_pd_slot(struct inj *j, uint64_t *pdp, unsigned *entryp)
{
	struct mm_view *v = j->v;

	for (uint64_t pd = v->first_managed; pd < v->npages; pd++) {
		const struct page *pg = &v->pages[pd];

		if (pg->p_kind != PG_PTP || pg->p_level != 2 || pg->p_ptva >= USER_TOP ||
		    pg->p_hat == v->sym.hat_kas || view_hat_at(v, pg->p_hat) == NULL)
			continue;
		for (unsigned e = 0; e < MM_PTES; e++) {
			uint64_t pte;

			if (!reader_read_u64_pa(&v->rd, (pd << MM_PAGE_SHIFT) + 8ull * e, &pte))
				return false;
			if (pte == 0) {
				*pdp = pd;
				*entryp = e;
				return true;
			}
		}
	}
	return false;
}

/* The log and its lane 0, when a record can be appended there (room in its ring): 0; 1 when full; -1 when unreadable. */
static int log_for_prune(struct inj *j, struct hat_oplog *log, struct hat_oplog_lane *lane)
{
	if (!reader_read_va(&j->v->rd, j->v->sym.hat_oplog, log, sizeof(*log)) || log->ol_size == 0 ||
	    log->ol_nlanes == 0 || log->ol_next == 0 ||
	    !reader_read_va(&j->v->rd, oplog_lane_va(log, 0), lane, sizeof(*lane)))
		return -1;
	return lane->l_next - lane->l_drained >= log->ol_size ? 1 : 0;
}

/* Appends an unload of [va, va + 4 KiB) in space to the log's lane 0 (log, lane: as read, with room). */
static void append_unload(struct inj *j, const struct hat_oplog *log, const struct hat_oplog_lane *lane,
			  uint64_t space, uint64_t va)
{
	struct hat_op op = { .o_kind = HOP_UNLOAD, .o_space = (uint32_t)space, .o_va = va,
			     .o_len = MM_PAGE_SIZE, .o_seq = (uint32_t)log->ol_next };
	uint64_t lva = oplog_lane_va(log, 0), slot = oplog_slot_va(log, lva, lane->l_next);
	uint64_t words[sizeof(op) / 8];

	memcpy(words, &op, sizeof(op));
	for (unsigned w = 0; w < sizeof(op) / 8; w++)
		put_va(j, slot + 8ull * w, &words[w], sizeof(words[w]));
	PUT_FIELD(j, lva, struct hat_oplog_lane, l_next, lane->l_next + 1);
	PUT_FIELD(j, j->v->sym.hat_oplog, struct hat_oplog, ol_next, log->ol_next + 1);
}

/*
 * MD_PRUNE: the first page on the table-page cache taken off it and hung,
 * empty, under a free entry of the first user PD as that space's table
 * (every count kept: cache, owner, h_nptp, the PD's p_valid), and an
 * unload over it appended to the log: an empty table left inside an
 * unload's range. The model applies the new record, so after the repair
 * it starts again (forget_model).
 */
static int plant_md_prune(struct inj *j)
{
	const struct mm_view *v = j->v;
	struct hat_oplog log;
	struct hat_oplog_lane lane;
	const struct hat_rec *owner;
	uint64_t pd, pt, va, pde;
	unsigned e;
	int rc = model_ready(j);

	if (rc == 0)
		rc = log_for_prune(j, &log, &lane);
	if (rc != 0)
		return rc;
	if (!v->cache_ok || v->cache.pc_count == 0 || !view_pfn_of_page_va(v, v->cache.pc_head, &pt) ||
	    !find_pd_slot(j, &pd, &e) || (owner = view_hat_at(v, v->pages[pd].p_hat)) == NULL)
		return 1;
	va = x86_table_entry_va(v->pages[pd].p_ptva, 2, e);
	PUT_FIELD(j, v->sym.segtab_ptp_cache, struct ptp_cache, pc_head, v->pages[pt].p_next);
	PUT_FIELD(j, v->sym.segtab_ptp_cache, struct ptp_cache, pc_count, v->cache.pc_count - 1);
	PUT_PAGE(j, pt, p_kind, (uint8_t)PG_PTP);
	PUT_PAGE(j, pt, p_hat, owner->va);
	PUT_PAGE(j, pt, p_level, 1);
	PUT_PAGE(j, pt, p_ptva, va);
	PUT_FIELD(j, owner->va, struct hat, h_nptp, owner->h.h_nptp + 1);
	pde = (pt << MM_PAGE_SHIFT) | PTE_P | PTE_W | PTE_U;
	put_pa(j, (pd << MM_PAGE_SHIFT) + 8ull * e, &pde, sizeof(pde));
	PUT_PAGE(j, pd, p_valid, (uint16_t)(v->pages[pd].p_valid + 1));
	append_unload(j, &log, &lane, owner->h.h_id, va);
	j->u->forget_model = true;
	describe(j, owner->h.h_id, va, pt, "cached page pfn 0x%" PRIx64 " hung empty at entry %u of PD pfn 0x%"
		 PRIx64 ", an unload over it logged as record %" PRIu64, pt, e, pd, log.ol_next);
	return 0;
}

static bool logged_sync(const struct hat_op *op)
{
	return op->o_kind == HOP_PAGESYNC;
}

/* MD_AD: the newest unapplied pagesync lost what it collected: one leaf cleared, nothing answered. */
static int plant_md_ad(struct inj *j)
{
	uint64_t seq, va;
	struct hat_op op;
	int rc = newest_record(j, logged_sync, &seq, &va, &op);

	if (rc != 0)
		return rc;
	PUT_FIELD(j, va, struct hat_op, o_result, 1);
	PUT_FIELD(j, va, struct hat_op, o_len, 0);
	PUT_FIELD(j, va, struct hat_op, o_loaded, 0);   /* no MD_FLUSH: no loaded space was touched */
	describe(j, REPORT_NONE, REPORT_NONE, op.o_pfn, "operation %" PRIu64 " (pagesync of pfn 0x%x): "
		 "%d leaves cleared -> 1, answer 0x%" PRIx64 " -> 0", seq, op.o_pfn, op.o_result, op.o_len);
	return 0;
}

/* RS_TARGET: the reserve's target one above its count, settled, with no cap: a free that did not refill it. */
static int plant_rs_target(struct inj *j)
{
	const struct hment_reserve *r = &j->v->reserve;
	uint64_t at = j->v->sym.hment_reserve;

	if (!j->v->reserve_ok)
		return -1;
	PUT_FIELD(j, at, struct hment_reserve, hr_amount, r->hr_count + 1);
	PUT_FIELD(j, at, struct hment_reserve, hr_slack, 0);
	PUT_FIELD(j, at, struct hment_reserve, hr_cap, UINT32_MAX);
	describe(j, REPORT_NONE, at, REPORT_NONE, "hr_amount %u -> %u, settled, no cap", r->hr_amount,
		 r->hr_count + 1);
	return 0;
}

/* MD_LOG: the operation log's ol_drained set past ol_next. */
static int plant_md_log(struct inj *j)
{
	struct hat_oplog log;
	int rc = model_ready(j);

	if (rc != 0)
		return rc;
	if (!reader_read_va(&j->v->rd, j->v->sym.hat_oplog, &log, sizeof(log)))
		return -1;
	PUT_FIELD(j, j->v->sym.hat_oplog, struct hat_oplog, ol_drained, log.ol_next + 1);
	describe(j, REPORT_NONE, j->v->sym.hat_oplog, REPORT_NONE, "ol_drained %" PRIu64 " -> %" PRIu64,
		 log.ol_drained, log.ol_next + 1);
	return 0;
}

/* PT_NONLEAF in the kernel half: NX set in the first non-leaf entry of hat_kas's first kernel-half PDPT. */
static int plant_nonleaf_kernel(struct inj *j)
{
	const struct hat_rec *kas = j->v->have_kas ? &j->v->hats[0] : NULL;
	uint64_t pml4[MM_PTES], pdpt[MM_PTES], mask = j->v->rd.frame_mask;

	if (kas == NULL || !read_pml4(j, kas, pml4))
		return -1;
	for (unsigned e4 = MM_PML4_KERNEL; e4 < MM_PTES; e4++) {
		if (!(pml4[e4] & PTE_P) || !reader_read_pa(&j->v->rd, pml4[e4] & mask, pdpt, sizeof(pdpt)))
			continue;
		for (unsigned e3 = 0; e3 < MM_PTES; e3++) {
			uint64_t v = pdpt[e3] | PTE_NX;

			if ((pdpt[e3] & (PTE_P | PTE_PS)) != PTE_P)
				continue;
			put_pa(j, (pml4[e4] & mask) + 8ull * e3, &v, sizeof(v));
			describe(j, kas->h.h_id,
				 x86_va_sign_extend(((uint64_t)e4 << 39) | ((uint64_t)e3 << 30)),
				 (pdpt[e3] & mask) >> MM_PAGE_SHIFT,
				 "NX set in kernel-half PDPT entry %u (under PML4 entry %u)", e3, e4);
			return 0;
		}
	}
	return 1;
}

/* PT_NONLEAF: W cleared in the first present user-half PML4 entry of the first space having one. */
static int plant_pt_nonleaf(struct inj *j)
{
	if (rewrite_user_pml4e(j, 0, PTE_W, "W cleared in user-half PML4 entry"))
		return 0;
	return plant_nonleaf_kernel(j);
}

/* A mapping (ptp, entry) and where the walk meets it: its space's place on the view's list, its VA. */
struct walk_pos {
	uint64_t ptp, space, va;
	unsigned entry;
	size_t order;
};

static bool walk_pos_of(const struct mm_view *v, uint64_t ptp, unsigned entry, struct walk_pos *p)
{
	const struct hat_rec *h;

	if (!table_loc(v, ptp, entry, &p->space, &p->va) || (h = view_hat_at(v, v->pages[ptp].p_hat)) == NULL)
		return false;
	p->ptp = ptp;
	p->entry = entry;
	p->order = (size_t)(h - v->hats);
	return true;
}

/* The mapping of the listed page t that the table walk meets last (spaces in order, VAs ascending). */
static bool last_walked_mapping(struct inj *j, const struct target *t, struct walk_pos *last)
{
	hment_ref_t ref = t->head_ref;
	bool found = false;

	for (unsigned n = 0; ref != HMENT_REF_NONE && n < CHAIN_LIMIT; n++) {
		struct hment hm;
		struct walk_pos p;

		if (!reader_read_pa(&j->v->rd, hment_ref_pa(ref), &hm, sizeof(hm)))
			return false;
		if (walk_pos_of(j->v, hm.hm_ptp, hm.hm_entry, &p) &&
		    (!found || p.order > last->order || (p.order == last->order && p.va > last->va))) {
			*last = p;
			found = true;
		}
		ref = hm.hm_next;
	}
	return found;
}

/* PT_MEMTYPE: PWT flipped in the mapping of the first list of two that the walk meets last. */
static int plant_pt_memtype(struct inj *j)
{
	struct target t;
	struct walk_pos last = { 0 };
	uint64_t pa, pte;

	if (!find_listed(j, 2, &t))
		return 1;
	if (!last_walked_mapping(j, &t, &last))
		return -1;
	pa = (last.ptp << MM_PAGE_SHIFT) + 8ull * last.entry;
	if (!reader_read_u64_pa(&j->v->rd, pa, &pte))
		return -1;
	pte ^= PTE_PWT;
	put_pa(j, pa, &pte, sizeof(pte));
	describe(j, last.space, last.va, t.pfn, "PWT flipped in one of the page's %u mappings (table pfn 0x%"
		 PRIx64 " entry %u)", j->v->pages[t.pfn].p_share, last.ptp, last.entry);
	return 0;
}

/* ST_LOCKED: h_nlocked one too high in the first space (as if a locked leaf went by a steal). */
static int plant_st_locked(struct inj *j)
{
	return bump_space_count(j, offsetof(struct hat, h_nlocked), "h_nlocked");
}

/* ST_NMAP: h_nmap4k one too high in the first space. */
static int plant_st_nmap(struct inj *j)
{
	return bump_space_count(j, offsetof(struct hat, h_nmap4k), "h_nmap4k");
}

/* RM_LISTED: the steal index's first summary word says the opposite of its first page word. */
static int plant_rm_listed(struct inj *j)
{
	struct hment_listed h;
	uint64_t word;

	if (j->v->sym.hment_listed == 0 ||
	    !reader_read_va(&j->v->rd, j->v->sym.hment_listed, &h, sizeof(h)) ||
	    !reader_read_va(&j->v->rd, h.level[1], &word, sizeof(word)))
		return -1;
	word ^= 1;
	put_va(j, h.level[1], &word, sizeof(word));
	describe(j, REPORT_NONE, REPORT_NONE, 0, "hment_listed level 1 word 0: bit 0 flipped (0x%" PRIx64 " -> 0x%"
		 PRIx64 ")", word ^ 1, word);
	return 0;
}

/* The object cache the OC_* injectors plant in: the hment cache, else the address-space cache. */
struct cache_target {
	uint64_t va;
	const struct objcache *oc;
	const char *name;
};

static bool cache_target(const struct inj *j, struct cache_target *t)
{
	if (j->v->hcache_ok)
		*t = (struct cache_target){ j->v->sym.hment_cache, &j->v->hcache, MM_SYM_HMENT_CACHE };
	else if (j->v->hatcache_ok)
		*t = (struct cache_target){ j->v->sym.hat_cache, &j->v->hatcache, MM_SYM_HAT_CACHE };
	else
		return false;
	return true;
}

/* One of the cache's counts (a uint64_t at `field` of struct objcache) one higher. */
static int bump_cache_count(struct inj *j, size_t field, const char *field_name)
{
	struct cache_target t;
	uint64_t count;

	if (!cache_target(j, &t))
		return -1;
	memcpy(&count, (const char *)t.oc + field, sizeof(count));
	count++;
	put_va(j, t.va + field, &count, sizeof(count));
	describe(j, REPORT_NONE, t.va, REPORT_NONE, "%s.%s %" PRIu64 " -> %" PRIu64, t.name, field_name,
		 count - 1, count);
	return 0;
}

/* OC_LEAK: the cache counts one object out that nothing holds. */
static int plant_oc_leak(struct inj *j)
{
	return bump_cache_count(j, offsetof(struct objcache, oc_inuse), "oc_inuse");
}

/* OC_FREE: the cache counts one free object no page holds. */
static int plant_oc_free(struct inj *j)
{
	return bump_cache_count(j, offsetof(struct objcache, oc_nfree), "oc_nfree");
}

/* ST_CPUS: the first space's CPU set flips CPU 63 (no guest here has that many, so it loaded nothing). */
static int plant_st_cpus(struct inj *j)
{
	struct hat_rec *s = first_space(j->v, true);
	uint64_t now;

	if (s == NULL || j->v->sym.hat_cpu == 0)
		return -1;
	now = s->h.h_cpus ^ (1ull << 63);
	PUT_FIELD(j, s->va, struct hat, h_cpus, now);
	describe(j, s->h.h_id, REPORT_NONE, REPORT_NONE, "h_cpus 0x%" PRIx64 " -> 0x%" PRIx64, s->h.h_cpus, now);
	return 0;
}

/*
 * TLB_STALE: the space the lowest running CPU has loaded (hat_kas: the
 * kernel's) is a generation ahead of every CPU's flushes: a change whose
 * flush never ran.
 */
static int plant_tlb_stale(struct inj *j)
{
	uint64_t loaded[HAT_MAX_CPUS];
	struct hat_rec *s = NULL;

	if (j->v->sym.hat_cpu == 0 || j->v->sym.hat_tlb_flushed == 0 ||
	    !reader_read_va(&j->v->rd, j->v->sym.hat_cpu, loaded, sizeof(loaded)))
		return -1;
	for (unsigned cpu = 0; cpu < HAT_MAX_CPUS && s == NULL; cpu++)
		s = loaded[cpu] != 0 ? view_hat_at(j->v, loaded[cpu]) : NULL;
	if (s == NULL)
		return 1;
	PUT_FIELD(j, s->va, struct hat, h_tlb_gen, s->h.h_tlb_gen + 1);
	describe(j, s->h.h_id, REPORT_NONE, REPORT_NONE, "h_tlb_gen %" PRIu64 " -> %" PRIu64,
		 s->h.h_tlb_gen, s->h.h_tlb_gen + 1);
	return 0;
}

/* PG_FREE_COUNT: one free page fewer counted, one more in use (their sum still the managed pages). */
static int plant_pg_free_count(struct inj *j)
{
	const struct page_pool *p = &j->v->pool;

	if (!j->v->pool_ok)
		return -1;
	if (p->nfree == 0 || p->ninuse >= p->limit)
		return 1;
	PUT_FIELD(j, j->v->sym.page_pool, struct page_pool, nfree, p->nfree - 1);
	PUT_FIELD(j, j->v->sym.page_pool, struct page_pool, ninuse, p->ninuse + 1);
	describe(j, REPORT_NONE, REPORT_NONE, REPORT_NONE, "page_pool nfree %" PRIu64 " -> %" PRIu64
		 ", ninuse +1", p->nfree, p->nfree - 1);
	return 0;
}

/* PG_INUSE: one more page counted in use than there is. */
static int plant_pg_inuse(struct inj *j)
{
	const struct page_pool *p = &j->v->pool;

	if (!j->v->pool_ok)
		return -1;
	if (p->ninuse >= p->limit)
		return 1;
	PUT_FIELD(j, j->v->sym.page_pool, struct page_pool, ninuse, p->ninuse + 1);
	describe(j, REPORT_NONE, REPORT_NONE, REPORT_NONE, "page_pool ninuse %" PRIu64 " -> %" PRIu64,
		 p->ninuse, p->ninuse + 1);
	return 0;
}

static int (*const planters[INV_COUNT])(struct inj *) = {
	[INV_PT_PTP_RANGE] = plant_ptp_range,
	[INV_PT_PTP_OWNER] = plant_ptp_owner,
	[INV_PT_RSVD] = plant_rsvd,
	[INV_PT_LARGE_ALIGN] = plant_large_align,
	[INV_PT_VALID_CNT] = plant_valid_cnt,
	[INV_PT_KERNEL_HALF] = plant_kernel_half,
	[INV_RM_MISSING] = plant_rm_missing,
	[INV_RM_STALE] = plant_rm_stale,
	[INV_RM_EMBED] = plant_rm_embed,
	[INV_RM_SHARE] = plant_rm_share,
	[INV_RM_LINKS] = plant_rm_links,
	[INV_RM_PFN] = plant_rm_pfn,
	[INV_RM_DUP] = plant_rm_dup,
	[INV_HS_BUCKET] = plant_hs_bucket,
	[INV_HS_ORPHAN] = plant_hs_orphan,
	[INV_RS_COUNT] = plant_rs_count,
	[INV_ST_FREE_ZERO] = plant_free_zero,
	[INV_ST_ACCOUNT] = plant_st_account,
	[INV_LK_QUIESCENT] = plant_lk_quiescent,
	[INV_MD_LOG] = plant_md_log,
	[INV_MD_EXTRA] = plant_md_extra,
	[INV_MD_MISSING] = plant_md_missing,
	[INV_MD_ATTR] = plant_md_attr,
	[INV_PT_NONLEAF] = plant_pt_nonleaf,
	[INV_PT_MEMTYPE] = plant_pt_memtype,
	[INV_ST_NMAP] = plant_st_nmap,
	[INV_ST_LOCKED] = plant_st_locked,
	[INV_RM_LISTED] = plant_rm_listed,
	[INV_PG_FREE_COUNT] = plant_pg_free_count,
	[INV_PG_INUSE] = plant_pg_inuse,
	[INV_MD_FLUSH] = plant_md_flush,
	[INV_MD_RESULT] = plant_md_result,
	[INV_RS_TARGET] = plant_rs_target,
	[INV_MD_AD] = plant_md_ad,
	[INV_PT_DIRTY_ACCESSED] = plant_dirty_accessed,
	[INV_MD_PRUNE] = plant_md_prune,
	[INV_OC_LEAK] = plant_oc_leak,
	[INV_OC_FREE] = plant_oc_free,
	[INV_ST_CPUS] = plant_st_cpus,
	[INV_TLB_STALE] = plant_tlb_stale,
};

/* Runs the planter of id over a loaded view; undoes partial work on failure. */
static int plant_with_view(struct inj *j, const struct check_mem *mem, enum invariant_id id)
{
	int rc;

	if (j->v->pages == NULL) {
		snprintf(j->what, j->what_len, "page_array cannot be read");
		return -1;
	}
	rc = planters[id](j);
	if (rc == 0 && j->write_failed)
		rc = -1;
	if (rc != 0) {
		inject_undo(mem, j->u);
		if (rc < 0)
			snprintf(j->what, j->what_len, "the MM state cannot be read or written as expected");
		else
			snprintf(j->what, j->what_len, "no target for this invariant at this point");
	}
	return rc;
}

bool inject_supported(enum invariant_id id)
{
	return (unsigned)id < INV_COUNT && planters[id] != NULL;
}

int inject_plant(const struct check_mem *mem, const struct mm_symbols *sym, enum invariant_id id,
		 struct inject_undo *undo, char *what, size_t what_len)
{
	struct inj j = { .u = undo, .what = what, .what_len = what_len };
	int rc;

	*undo = (struct inject_undo){ .id = id, .space = REPORT_NONE, .va = REPORT_NONE, .pfn = REPORT_NONE };
	if (!inject_supported(id)) {
		snprintf(what, what_len, "no injection for invariant %d", (int)id);
		return -1;
	}
	if (mem->write_phys == NULL) {
		snprintf(what, what_len, "guest memory is read-only here");
		return -1;
	}
	j.v = malloc(sizeof(*j.v));
	if (j.v == NULL || !mm_view_load(j.v, mem, sym, NULL)) {
		free(j.v);
		snprintf(what, what_len, "out of host memory");
		return -1;
	}
	rc = plant_with_view(&j, mem, id);
	mm_view_free(j.v);
	free(j.v);
	return rc;
}

bool inject_undo(const struct check_mem *mem, struct inject_undo *undo)
{
	bool ok = true;

	if (undo->forget_model)
		checker_model_forget();
	while (undo->n > 0) {
		const struct inject_write *w = &undo->w[--undo->n];

		if (mem->write_phys == NULL || w->pa > mem->ram_size || w->len > mem->ram_size - w->pa ||
		    !mem->write_phys(mem->ctx, w->pa, w->old, w->len))
			ok = false;
	}
	return ok;
}

bool inject_verify(const struct inject_undo *undo, const struct report *report)
{
	return report_last_check_has(report, undo->id, undo->space, undo->va, undo->pfn);
}
