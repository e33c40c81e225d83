/* SPDX-License-Identifier: BSD-2-Clause */
/* Mapping-list invariants: embedded mappings, hment lists, the hash and the reserve pool (RM_*, HS_*, RS_*); the hments found, for OC_LEAK. */
#include "check_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Which hments the passes met, as marks over RAM for each 8-byte slot
 * (hments are 8-byte aligned): keyed by PA, so aliases of one hment are
 * one, and every hment is visited at most once per pass. A slot's four
 * marks share a nibble, so a node's tests touch one cache line (and one
 * page of the map) rather than four: hostile chains that wander over RAM
 * cost a fault per node, not five. The map is sparse (hments sit together
 * in object-cache pages), so its untouched parts cost neither memory nor
 * cache.
 */
enum rmap_mark {
	MARK_LISTED = 1,   /* on some page's mapping list */
	MARK_LONG = 2,     /* on a list longer than HMENT_SHORT_LIST: the hash must hold it */
	MARK_RESERVED = 4, /* on the reserve pool */
	MARK_HASHED = 8,   /* on some hash chain */
};

struct rmap {
	struct checker *c;
	uint8_t *marks;         /* a nibble of enum rmap_mark per slot */
	uint64_t long_lo, long_hi; /* the slots marked MARK_LONG lie in [long_lo, long_hi] */
	uint64_t nlisted;       /* hments on all lists together */
	uint64_t nlong;         /* those on lists longer than HMENT_SHORT_LIST */
	uint64_t nhashed;       /* hments met on hash chains */
	uint64_t stripe_hashed[HMENT_HASH_NLOCK]; /* of those, in the buckets of each stripe */
	uint64_t nlong_hashed;  /* long-listed ones among those */
	uint64_t nshort_hashed; /* ones of shorter lists among those (HS_BUCKET) */
	uint64_t norphans;      /* hashed ones neither listed nor reserved (HS_ORPHAN) */
	uint64_t max_hments;    /* RAM holds no more hments than this */
	uint64_t max_listed;    /* bound on nlisted (see rmap_init) */
	bool hash_cut;          /* the chains were not all followed: what they miss is unknown */
	bool lists_cut;         /* a list walk stopped early: nlisted is a lower bound */
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Bytes of the marks: a nibble per slot, in whole words (check_listed_hashed reads words). */
static size_t marks_bytes(const struct checker *c)
{
	return (c->view.rd.ram_size / 8 / 16 + 1) * sizeof(uint64_t);
}

static bool rmap_init(struct rmap *m, struct checker *c)
{
	const struct check_limits *l = &c->view.limits;

	/*
	 * Every listed hment must name its own present tracked leaf (RM_DUP,
	 * RM_STALE), so a legitimate MM lists at most as many hments as the
	 * walk found such leaves; the slack still reports the first excess
	 * ones singly before the walk stops (RM_STALE).
	 */
	*m = (struct rmap){ .c = c, .max_hments = l->hments,
			    .max_listed = min_u64(l->hments, c->stats.mappings + l->slack),
			    .long_lo = UINT64_MAX };
	m->marks = check_map_zalloc(marks_bytes(c));
	return m->marks != NULL;
}

static void rmap_free(struct rmap *m)
{
	check_map_free(m->marks, marks_bytes(m->c));
}

/* The marks of slot (< RAM / 8: callers read the hment there first). */
static unsigned marks_of(const struct rmap *m, uint64_t slot)
{
	return (m->marks[slot >> 1] >> (slot & 1) * 4) & 0xf;
}

static void mark(struct rmap *m, uint64_t slot, enum rmap_mark what)
{
	m->marks[slot >> 1] |= (uint8_t)(what << (slot & 1) * 4);
}

/* Reads the hment ref names (by PA: no translation); false when it lies outside RAM. */
static bool read_hment(struct checker *c, hment_ref_t ref, uint64_t *pa, struct hment *hm)
{
	*pa = hment_ref_pa(ref);
	return reader_read_pa(&c->view.rd, *pa, hm, sizeof(*hm));
}

/* Where the mapping (table pfn, entry) is, for reports: space and VA, or REPORT_NONE. */
static void mapping_where(const struct checker *c, uint64_t ptp, unsigned entry, uint64_t *space,
			  uint64_t *va)
{
	const struct table_info *t = checker_table(c, ptp);

	*space = t && entry < MM_PTES ? t->space : REPORT_NONE;
	*va = t && entry < MM_PTES ? x86_table_entry_va(t->ptva, t->level, entry) : REPORT_NONE;
}

/* RM_STALE: true when (ptp, entry) is a present, tracked leaf that maps pfn; else `why` says what it is. */
static bool names_mapping_of(struct checker *c, uint64_t ptp, unsigned entry, uint64_t pfn,
			     char *why, size_t whylen)
{
	const struct table_info *t = checker_table(c, ptp);
	uint64_t pte, mapped;

	if (t == NULL || entry >= MM_PTES) {
		snprintf(why, whylen, "table pfn 0x%" PRIx64
		         " entry %u is no entry of any walked table",
			 ptp, entry);
		return false;
	}
	if (!bit_test(t->leaf, entry)) {
		snprintf(why, whylen, "level-%u table pfn 0x%" PRIx64
		         " entry %u is no present user leaf of a "
			 "managed page", t->level, ptp, entry);
		return false;
	}
	if (!reader_read_u64_pa(&c->view.rd, (ptp << MM_PAGE_SHIFT) + 8ull * entry, &pte)) {
		snprintf(why, whylen, "table pfn 0x%" PRIx64 " cannot be read", ptp);
		return false;
	}
	mapped = (pte & c->frame_mask & ~((1ull << MM_LEVEL_SHIFT(t->level)) - 1)) >> MM_PAGE_SHIFT;
	if (mapped != pfn) {
		snprintf(why, whylen, "table pfn 0x%" PRIx64 " entry %u maps pfn 0x%" PRIx64,
			 ptp, entry, mapped);
		return false;
	}
	return true;
}

/* RM_DUP: marks (ptp, entry) as named; false when something named it before. */
static bool claim_mapping(struct checker *c, uint64_t ptp, unsigned entry)
{
	struct table_info *t = checker_table(c, ptp);

	if (bit_test(t->tracked, entry))
		return false;
	bit_set(t->tracked, entry);
	return true;
}

/* RM_EMBED / RM_STALE of an embedded mapping the walk did not find. */
static void check_embedded(struct checker *c, uint64_t pfn, const struct page *pg)
{
	uint64_t ptp, space, va;
	char why[160];

	if (pg->p_share != 0)
		sink_violation(&c->sink, INV_RM_EMBED, REPORT_NONE, REPORT_NONE, pfn,
			       "pfn 0x%" PRIx64 " is embedded but p_share is %u", pfn, pg->p_share);
	if (bit_test(c->embed_ok, pfn))
		return;
	ptp = pg->p_mapping;
	if (ptp >= c->view.npages || pg->p_mlentry >= MM_PTES || c->view.pages[ptp].p_kind != PG_PTP) {
		sink_violation(&c->sink, INV_RM_EMBED, REPORT_NONE, REPORT_NONE, pfn,
			       "pfn 0x%" PRIx64 " is embedded but p_mapping (table pfn) 0x%" PRIx64
			       " / p_mlentry %u names no table-page entry",
			       pfn, ptp, pg->p_mlentry);
		return;
	}
	mapping_where(c, ptp, pg->p_mlentry, &space, &va);
	if (!names_mapping_of(c, ptp, pg->p_mlentry, pfn, why, sizeof(why)))
		sink_violation(&c->sink, INV_RM_STALE, space, va, pfn,
			       "embedded mapping of pfn 0x%" PRIx64 ": %s", pfn, why);
	else if (!claim_mapping(c, ptp, pg->p_mlentry))
		sink_violation(&c->sink, INV_RM_DUP, space, va, pfn,
			       "embedded mapping of pfn 0x%" PRIx64 " names table pfn 0x%" PRIx64
			       " entry %u, named before",
			       pfn, ptp, pg->p_mlentry);
}

/* The checks of one listed hment, reporting each failure. */
static void report_listed_hment(struct rmap *m, uint64_t pfn, uint64_t node, hment_ref_t prev,
			       const struct hment *hm)
{
	struct checker *c = m->c;
	uint64_t space, va;
	char why[160];

	mapping_where(c, hm->hm_ptp, hm->hm_entry, &space, &va);
	if (hm->hm_prev != prev)
		sink_violation(&c->sink, INV_RM_LINKS, space, va, pfn,
			       "hment 0x%" PRIx64 " on pfn 0x%" PRIx64
			       "'s list: hm_prev is 0x%" PRIx64 ", not 0x%" PRIx64,
			       node, pfn, hment_ref_pa(hm->hm_prev), hment_ref_pa(prev));
	if (hm->hm_state == HM_STATE_RESERVE)
		sink_violation(&c->sink, INV_RS_COUNT, space, va, pfn,
			       "hment 0x%" PRIx64 " on pfn 0x%" PRIx64
			       "'s list is in the reserve state",
			       node, pfn);
	else if (hm->hm_state != HM_STATE_LISTED)
		sink_violation(&c->sink, INV_RM_LINKS, space, va, pfn,
			       "hment 0x%" PRIx64 " on pfn 0x%" PRIx64
			       "'s list has hm_state 0x%x, not listed",
			       node, pfn, hm->hm_state);
	if (hm->hm_pfn != pfn)
		sink_violation(&c->sink, INV_RM_PFN, space, va, pfn,
			       "hment 0x%" PRIx64 " on pfn 0x%" PRIx64 "'s list has hm_pfn 0x%x",
			       node, pfn, hm->hm_pfn);
	if (!names_mapping_of(c, hm->hm_ptp, hm->hm_entry, pfn, why, sizeof(why)))
		sink_violation(&c->sink, INV_RM_STALE, space, va, pfn, "hment 0x%" PRIx64
		               " of pfn 0x%" PRIx64 ": %s",
			       node, pfn, why);
	else if (!claim_mapping(c, hm->hm_ptp, hm->hm_entry))
		sink_violation(&c->sink, INV_RM_DUP, space, va, pfn,
			       "hment 0x%" PRIx64 " of pfn 0x%" PRIx64
			       " names table pfn 0x%x entry %u, named before",
			       node, pfn, hm->hm_ptp, hm->hm_entry);
}

/*
 * The common case of check_listed_hment: everything holds. Claims the
 * mapping and returns true; false (nothing claimed) sends the hment down
 * the reporting path. Keeps the per-hment cost at one PTE read.
 */
static bool listed_hment_fine(struct checker *c, uint64_t pfn, hment_ref_t prev, const struct hment *hm)
{
	struct table_info *t = checker_table(c, hm->hm_ptp);
	uint64_t pte, frame_mask;

	if (hm->hm_prev != prev || hm->hm_state != HM_STATE_LISTED || hm->hm_pfn != pfn ||
	    t == NULL || hm->hm_entry >= MM_PTES || !bit_test(t->leaf, hm->hm_entry) ||
	    bit_test(t->tracked, hm->hm_entry) ||
	    !reader_read_u64_pa(&c->view.rd, ((uint64_t)hm->hm_ptp << MM_PAGE_SHIFT) + 8ull * hm->hm_entry,
				&pte))
		return false;
	frame_mask = c->frame_mask & ~((1ull << MM_LEVEL_SHIFT(t->level)) - 1);
	if ((pte & frame_mask) >> MM_PAGE_SHIFT != pfn)
		return false;
	bit_set(t->tracked, hm->hm_entry);
	return true;
}

/* Everything one listed hment must satisfy (RM_LINKS, RM_PFN, RM_STALE, RM_DUP, RS_COUNT). */
static void check_listed_hment(struct rmap *m, uint64_t pfn, uint64_t node, hment_ref_t prev,
			       const struct hment *hm)
{
	if (!listed_hment_fine(m->c, pfn, prev, hm))
		report_listed_hment(m, pfn, node, prev, hm);
}

/*
 * Marks a listed hment (at PA node). False (the walk stops) when it was
 * met before: a loop in this list, another page's list, the reserve pool.
 */
static bool record_listed(struct rmap *m, uint64_t pfn, uint64_t node, const struct hment *hm)
{
	struct checker *c = m->c;
	uint64_t slot = node >> HMENT_REF_SHIFT, space, va;
	unsigned marks = marks_of(m, slot);

	if (!(marks & (MARK_LISTED | MARK_RESERVED))) {
		mark(m, slot, MARK_LISTED);
		return true;
	}
	mapping_where(c, hm->hm_ptp, hm->hm_entry, &space, &va);
	if (marks & MARK_RESERVED)
		sink_violation(&c->sink, INV_RS_COUNT, space, va, pfn,
			       "hment 0x%" PRIx64 " on pfn 0x%" PRIx64
			       "'s list is on the reserve pool too",
			       node, pfn);
	else
		sink_violation(&c->sink, INV_RM_LINKS, space, va, pfn,
			       "pfn 0x%" PRIx64 "'s list reaches hment 0x%" PRIx64
			       " a second time (a loop, or another "
			       "page's list)", pfn, node);
	return false;
}

static void mark_long(struct rmap *m, uint64_t slot)
{
	mark(m, slot, MARK_LONG);
	m->long_lo = slot < m->long_lo ? slot : m->long_lo;
	m->long_hi = slot > m->long_hi ? slot : m->long_hi;
}

/*
 * Marks the hment at slot, number len of its list, when the list is
 * longer than HMENT_SHORT_LIST; `first` keeps a list's first ones until
 * its length tells.
 */
static void note_length(struct rmap *m, uint64_t first[HMENT_SHORT_LIST], uint64_t len, uint64_t slot)
{
	if (len < HMENT_SHORT_LIST) {
		first[len] = slot;
		return;
	}
	if (len == HMENT_SHORT_LIST)
		for (unsigned i = 0; i < HMENT_SHORT_LIST; i++)
			mark_long(m, first[i]);
	mark_long(m, slot);
	m->nlong += len == HMENT_SHORT_LIST ? HMENT_SHORT_LIST + 1 : 1;
}

/* Walks one page's hment list (Brent; each hment once); returns its length. Reports name hments by PA. */
static uint64_t walk_list(struct rmap *m, uint64_t pfn, const struct page *pg)
{
	struct checker *c = m->c;
	hment_ref_t node = pg->p_mapping, prev = HMENT_REF_NONE;
	uint64_t pa, len = 0, first[HMENT_SHORT_LIST];
	struct brent b;

	brent_init(&b);
	while (node != HMENT_REF_NONE) {
		struct hment hm;

		if (brent_step(&b, node)) {
			sink_violation(&c->sink, INV_RM_LINKS, REPORT_NONE, REPORT_NONE, pfn,
				       "pfn 0x%" PRIx64 "'s list loops back to hment 0x%" PRIx64,
				       pfn, hment_ref_pa(node));
			break;
		}
		if (m->nlisted + len >= m->max_listed) {
			sink_violation(&c->sink, INV_RM_STALE, REPORT_NONE, REPORT_NONE, pfn,
				       "pfn 0x%" PRIx64 "'s list: the lists hold more than %" PRIu64
				       " hments, more than the %" PRIu64 " mappings they can name; stopped",
				       pfn, m->max_listed, c->stats.mappings);
			break;
		}
		if (check_work(c, 1))
			break;
		if (!read_hment(c, node, &pa, &hm)) {
			sink_violation(&c->sink, INV_RM_LINKS, REPORT_NONE, REPORT_NONE, pfn,
				       "pfn 0x%" PRIx64 "'s list: hment reference 0x%x (PA 0x%" PRIx64
				       ") is outside RAM", pfn, node, pa);
			break;
		}
		if (!record_listed(m, pfn, pa, &hm))
			break;
		check_listed_hment(m, pfn, pa, prev, &hm);
		note_length(m, first, len, pa >> HMENT_REF_SHIFT);
		len++;
		prev = node;
		node = hm.hm_next;
	}
	if (node != HMENT_REF_NONE)
		m->lists_cut = true;
	return len;
}

/* RM_PFN of the page_t itself, RM_EMBED, and the list (RM_SHARE and per hment). */
static void check_page_mappings(struct rmap *m, uint64_t pfn, const struct page *pg)
{
	struct checker *c = m->c;
	uint64_t len;

	if (pg->p_pagenum != pfn)
		sink_violation(&c->sink, INV_RM_PFN, REPORT_NONE, REPORT_NONE, pfn,
			       "page_t of pfn 0x%" PRIx64 " has p_pagenum 0x%x", pfn, pg->p_pagenum);
	if (pg->p_embed > 1)
		sink_violation(&c->sink, INV_RM_EMBED, REPORT_NONE, REPORT_NONE, pfn,
			       "pfn 0x%" PRIx64 " has p_embed %u", pfn, pg->p_embed);
	if (pg->p_embed != 0) {
		check_embedded(c, pfn, pg);
		return;
	}
	if (pg->p_mapping == 0) {
		if (pg->p_share != 0)
			sink_violation(&c->sink, INV_RM_EMBED, REPORT_NONE, REPORT_NONE, pfn,
				       "pfn 0x%" PRIx64 " has no mappings but p_share is %u",
				       pfn, pg->p_share);
		return;
	}
	len = walk_list(m, pfn, pg);
	m->nlisted += len;
	c->stats.hments += len;
	if (len != pg->p_share)
		sink_violation(&c->sink, INV_RM_SHARE, REPORT_NONE, REPORT_NONE, pfn,
			       "pfn 0x%" PRIx64 " has p_share %u, its list holds %" PRIu64
			       " hments",
			       pfn, pg->p_share, len);
}

/* RS_COUNT: the reserve pool (Brent; each hment once). Its length, or -1 when it does not end well. */
static int64_t check_reserve(struct rmap *m)
{
	struct checker *c = m->c;
	const struct hment_reserve *r = &c->view.reserve;
	uint64_t n = 0, pa;
	hment_ref_t node;
	struct brent b;

	if (!c->view.reserve_ok)
		return -1;
	brent_init(&b);
	for (node = r->hr_pool; node != HMENT_REF_NONE; n++) {
		struct hment hm;

		if (check_work(c, 1))
			return -1;
		if (brent_step(&b, node) || n >= m->max_hments || !read_hment(c, node, &pa, &hm) ||
		    marks_of(m, node) & MARK_RESERVED) {
			sink_violation(&c->sink, INV_RS_COUNT, REPORT_NONE, REPORT_NONE, REPORT_NONE,
				       "the reserve pool does not end well: entry %" PRIu64
				       ", hment 0x%" PRIx64 ", loops back, lies outside RAM or exceeds it",
				       n, hment_ref_pa(node));
			return -1;
		}
		mark(m, node, MARK_RESERVED);
		if (hm.hm_state != HM_STATE_RESERVE)
			sink_violation(&c->sink, INV_RS_COUNT, REPORT_NONE, REPORT_NONE, REPORT_NONE,
				       "reserved hment 0x%" PRIx64
				       " has hm_state 0x%x, not reserved",
				       pa, hm.hm_state);
		node = hm.hm_next;
	}
	if (n != r->hr_count)
		sink_violation(&c->sink, INV_RS_COUNT, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "hr_count is %u, the reserve pool holds %" PRIu64
			       " hments", r->hr_count,
			       n);
	return (int64_t)n;
}

/*
 * RS_TARGET: settled (hr_slack not HR_UNSETTLED), the reserve pool (its
 * length n, which RS_COUNT compares with hr_count) is at most its target
 * plus the slack the last fill left, and below its target only when the
 * hment cache can give no more: hments out (on lists, the `listed` the
 * walk of every list found, -1 when not all were walked; plus the pool's)
 * at the cap. At a checkpoint no hment is in flight, so frees have
 * refilled the pool and allocations donated to it.
 */
static void check_target(struct checker *c, int64_t n, int64_t listed)
{
	const struct hment_reserve *r = &c->view.reserve;
	uint64_t out;

	if (n < 0 || r->hr_slack == HR_UNSETTLED)
		return;
	out = (uint64_t)listed + (uint64_t)n;
	if ((uint64_t)n > (uint64_t)r->hr_amount + r->hr_slack)
		sink_violation(&c->sink, INV_RS_TARGET, REPORT_NONE, c->view.sym.hment_reserve, REPORT_NONE,
			       "the reserve pool holds %" PRId64 " hments, above its target %u plus the slack"
			       " of the last fill %u", n, r->hr_amount, r->hr_slack);
	else if (listed >= 0 && (uint64_t)n < r->hr_amount && out < r->hr_cap)
		sink_violation(&c->sink, INV_RS_TARGET, REPORT_NONE, c->view.sym.hment_reserve, REPORT_NONE,
			       "the reserve pool holds %" PRId64 " hments, below its target %u, while the hment"
			       " cache has room (%" PRIu64 " out, cap %u)", n, r->hr_amount, out, r->hr_cap);
}

/* The bucket the MM files the hment of (table pfn, entry) in. */
static uint32_t home_bucket(const struct checker *c, uint32_t ptp, uint32_t entry)
{
	return hment_hash_bucket(hment_hash_key(ptp, entry), c->view.hash.hh_nbuckets);
}

/* One hash-chain node: met once, listed, in the bucket its hash names. False ends the chain. */
static bool hash_node(struct rmap *m, uint32_t bucket, hment_ref_t node, hment_ref_t *next)
{
	struct checker *c = m->c;
	uint64_t pa, space, va;
	uint32_t home;
	struct hment hm;
	unsigned marks;

	/* a legitimate hash holds exactly the listed hments: the excess is HS_ORPHAN */
	if (m->nhashed >= min_u64(m->max_hments, m->nlisted + c->view.limits.slack)) {
		sink_violation(&c->sink, INV_HS_ORPHAN, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "hash bucket %u: the chains hold more than the %" PRIu64
			       " listed hments; stopped", bucket, m->nlisted);
		m->hash_cut = true;
		return false;
	}
	if (check_work(c, 1))
		return false;
	if (!read_hment(c, node, &pa, &hm) || marks_of(m, node) & MARK_HASHED) {
		sink_violation(&c->sink, INV_HS_BUCKET, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "hash bucket %u: chain reference 0x%x (PA 0x%" PRIx64
			       ") lies outside RAM or was met before in the hash", bucket, node, pa);
		return false;
	}
	marks = marks_of(m, node);
	mark(m, node, MARK_HASHED);
	m->nhashed++;
	m->stripe_hashed[hment_hash_lock_index(bucket)]++;
	*next = hm.hm_hashnext;
	home = home_bucket(c, hm.hm_ptp, hm.hm_entry);
	if ((marks & MARK_LONG) && home == bucket) {
		m->nlong_hashed++;
		return true;
	}
	mapping_where(c, hm.hm_ptp, hm.hm_entry, &space, &va);
	if (marks & MARK_RESERVED) {
		sink_violation(&c->sink, INV_RS_COUNT, space, va, hm.hm_pfn,
			       "reserved hment 0x%" PRIx64 " is in hash bucket %u", pa, bucket);
	} else if (!(marks & MARK_LISTED)) {
		m->norphans++;
		sink_violation(&c->sink, INV_HS_ORPHAN, space, va, hm.hm_pfn,
			       "hment 0x%" PRIx64
			       " (table pfn 0x%x entry %u, pfn 0x%x) in hash bucket %u is on "
			       "no page's list", pa, hm.hm_ptp, hm.hm_entry,
			       hm.hm_pfn, bucket);
	} else if (!(marks & MARK_LONG)) {
		m->nshort_hashed++;
		sink_violation(&c->sink, INV_HS_BUCKET, space, va, hm.hm_pfn,
			       "hment 0x%" PRIx64 " (table pfn 0x%x entry %u) is in hash bucket %u, but its "
			       "list is %u long or shorter: such lists stay off the hash", pa, hm.hm_ptp,
			       hm.hm_entry, bucket, HMENT_SHORT_LIST);
	} else {
		m->nlong_hashed++;
		sink_violation(&c->sink, INV_HS_BUCKET, space, va, hm.hm_pfn,
			       "hment 0x%" PRIx64
			       " (table pfn 0x%x entry %u) is in bucket %u, its hash "
			       "names %u", pa, hm.hm_ptp, hm.hm_entry, bucket, home);
	}
	return true;
}

/* Follows one hash chain (Brent; each hment once). */
static void walk_chain(struct rmap *m, uint32_t bucket, hment_ref_t node)
{
	struct brent b;

	brent_init(&b);
	while (node != HMENT_REF_NONE) {
		if (brent_step(&b, node)) {
			sink_violation(&m->c->sink, INV_HS_BUCKET, REPORT_NONE, REPORT_NONE, REPORT_NONE,
				       "hash bucket %u loops back to hment 0x%" PRIx64, bucket,
				       hment_ref_pa(node));
			return;
		}
		if (!hash_node(m, bucket, node, &node))
			return;
	}
}

/*
 * HS_BUCKET for hments of long lists no chain reached: a sweep of the
 * marks between the first and last long-listed slot, only when some are
 * missing.
 */
static void check_listed_hashed(struct rmap *m)
{
	const uint64_t nibble_low = 0x1111111111111111ull;
	struct checker *c = m->c;

	if (m->nlong_hashed == m->nlong || m->long_lo > m->long_hi)
		return;
	for (uint64_t w = m->long_lo / 16; w <= m->long_hi / 16; w++) {
		uint64_t word, missing;

		/* a unit here is a cache line of the marks (8 words), about one page_t's cost */
		if ((w - m->long_lo / 16) % (8 * CHECK_POLL_UNITS) == 0 && check_work(c, CHECK_POLL_UNITS))
			return;
		memcpy(&word, m->marks + w * sizeof(word), sizeof(word));
		missing = (word >> 1) & ~(word >> 3) & nibble_low;   /* MARK_LONG without MARK_HASHED */
		while (missing != 0) {
			uint64_t pa = hment_ref_pa((hment_ref_t)(w * 16 + (uint64_t)__builtin_ctzll(missing) / 4));
			uint64_t space, va;
			struct hment hm = { 0 };

			missing &= missing - 1;
			reader_read_pa(&c->view.rd, pa, &hm, sizeof(hm));
			mapping_where(c, hm.hm_ptp, hm.hm_entry, &space, &va);
			sink_violation(&c->sink, INV_HS_BUCKET, space, va, hm.hm_pfn,
				       "hment at PA 0x%" PRIx64
				       " (table pfn 0x%x entry %u) is on a list longer than %u but in no "
				       "hash chain; its bucket is %u", pa, hm.hm_ptp, hm.hm_entry,
				       HMENT_SHORT_LIST, home_bucket(c, hm.hm_ptp, hm.hm_entry));
		}
	}
}

/*
 * True when the directory is no larger than the MM makes it for this RAM
 * and hh_nbuckets fits in it; reported otherwise (HS_BUCKET: the buckets
 * themselves are wrong) and the hash not walked.
 */
static bool hash_shape_sane(struct checker *c)
{
	const struct hment_hash *h = &c->view.hash;

	if (h->hh_dir_size <= c->view.limits.hash_dir && h->hh_nbuckets >= HMENT_HASH_MIN &&
	    h->hh_nbuckets <= (uint64_t)h->hh_dir_size * HMENT_HASH_PAGE_BUCKETS)
		return true;
	sink_violation(&c->sink, INV_HS_BUCKET, REPORT_NONE, REPORT_NONE, REPORT_NONE,
		       "hh_nbuckets %u does not fit a directory of %u bucket pages, or the directory "
		       "exceeds the %" PRIu64 " pages this RAM calls for",
		       h->hh_nbuckets, h->hh_dir_size, c->view.limits.hash_dir);
	return false;
}

/* Reads bucket page k (HS_BUCKET when the directory names no kernel page); false to skip it. */
static bool read_bucket_page(struct checker *c, uint32_t k, uint32_t pfn, hment_ref_t *heads)
{
	struct mm_view *v = &c->view;
	uint8_t kind = pfn < v->npages ? v->pages[pfn].p_kind : PG_FREE;

	if ((kind == PG_KERNEL || kind == PG_RESERVED) &&
	    reader_read_pa(&v->rd, (uint64_t)pfn << MM_PAGE_SHIFT, heads, MM_PAGE_SIZE))
		return true;
	sink_violation(&c->sink, INV_HS_BUCKET, REPORT_NONE, REPORT_NONE, pfn,
		       "hash directory entry %u names pfn 0x%x, no kernel page of RAM", k, pfn);
	return false;
}

/* Follows every chain: the directory a chunk at a time, then each bucket page in use. */
static void walk_buckets(struct rmap *m)
{
	struct checker *c = m->c;
	const struct hment_hash *h = &c->view.hash;
	uint32_t npages = (h->hh_nbuckets + HMENT_HASH_PAGE_BUCKETS - 1) / HMENT_HASH_PAGE_BUCKETS;
	uint32_t dir[1024];
	hment_ref_t heads[HMENT_HASH_PAGE_BUCKETS];

	for (uint32_t k = 0; k < npages; k++) {
		uint32_t first = k * HMENT_HASH_PAGE_BUCKETS;
		uint32_t n = h->hh_nbuckets - first < HMENT_HASH_PAGE_BUCKETS ?
			     h->hh_nbuckets - first : HMENT_HASH_PAGE_BUCKETS;

		/* a unit here is a cache line of chain heads: scanning empty buckets is a memory sweep */
		if (check_work(c, n / 16 + 1) || m->hash_cut)
			return;
		if (k % 1024 == 0 &&
		    !reader_read_va(&c->view.rd, h->hh_dir + 4ull * k, dir,
				    4 * (npages - k < 1024 ? npages - k : 1024))) {
			sink_violation(&c->sink, INV_HS_BUCKET, REPORT_NONE, h->hh_dir + 4ull * k, REPORT_NONE,
				       "hash directory entries %u.. (array at 0x%" PRIx64
				       ") do not translate", k, h->hh_dir);
			return;
		}
		if (!read_bucket_page(c, k, dir[k % 1024], heads))
			continue;
		for (uint32_t i = 0; i < n; i++)
			if (heads[i] != HMENT_REF_NONE)
				walk_chain(m, first + i, heads[i]);
	}
}

/* HS_BUCKET / HS_ORPHAN: every chain, then what no chain held, then the totals. False: not every chain was followed. */
static bool check_hash(struct rmap *m)
{
	struct checker *c = m->c;

	if (!c->view.hash_ok || !hash_shape_sane(c))
		return false;
	walk_buckets(m);
	if (c->stats.stopped || m->hash_cut)
		return false;
	check_listed_hashed(m);
	for (unsigned i = 0; i < HMENT_HASH_NLOCK; i++)
		if (m->stripe_hashed[i] != c->view.stripes[i].hs_count)
			sink_violation(&c->sink, INV_HS_ORPHAN, REPORT_NONE, REPORT_NONE, REPORT_NONE,
				       MM_SYM_HASH_LOCKS "[%u].hs_count is %" PRIu64 ", the stripe's buckets hold %"
				       PRIu64 " hments", i, c->view.stripes[i].hs_count, m->stripe_hashed[i]);
	/* a short list's hment in the hash is HS_BUCKET's already (hash_node) */
	if (m->nlong + m->nshort_hashed != c->view.hash_count)
		sink_violation(&c->sink, INV_HS_ORPHAN, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "the hash's stripes count %" PRIu64 " hments, the mapping lists longer than %u "
			       "hold %" PRIu64, c->view.hash_count, HMENT_SHORT_LIST, m->nlong);
	return true;
}

/*
 * What OC_LEAK compares with the hment cache's count (check_objcache.c): the
 * hments found on lists, on the reserve pool and only on hash chains
 * (orphans); -1 unless every list, the pool and every chain were
 * followed to their ends (else what they miss is unknown).
 */
static int64_t hments_found(const struct rmap *m, int64_t nreserved, bool hash_walked)
{
	if (nreserved < 0 || !hash_walked || m->lists_cut || m->c->stats.stopped)
		return -1;
	return (int64_t)(m->nlisted + (uint64_t)nreserved + m->norphans);
}

/*
 * OC_LEAK: the CPUs' counts of hments on short lists (when the guest
 * exports them) add up to what the lists of HMENT_SHORT_LIST or fewer hold.
 */
static void check_short_count(struct rmap *m)
{
	struct checker *c = m->c;
	struct hment_short_count counts[HAT_MAX_CPUS];
	uint64_t va = c->view.sym.hment_short_listed, on_short = m->nlisted - m->nlong;
	int64_t sum = 0;

	if (va == 0 || m->lists_cut || c->stats.stopped)
		return;
	if (!reader_read_va(&c->view.rd, va, counts, sizeof(counts))) {
		sink_violation(&c->sink, INV_OC_LEAK, REPORT_NONE, va, REPORT_NONE,
			       MM_SYM_SHORT_LISTED " cannot be read");
		return;
	}
	for (unsigned i = 0; i < HAT_MAX_CPUS; i++)
		if (__builtin_add_overflow(sum, counts[i].sc_count, &sum))
			break;   /* hostile counts: the sum so far is wrong enough */
	if (sum != (int64_t)on_short)
		sink_violation(&c->sink, INV_OC_LEAK, REPORT_NONE, va, REPORT_NONE,
			       "the CPUs count %" PRId64 " hments on lists of %u or fewer, those lists hold %" PRIu64,
			       sum, HMENT_SHORT_LIST, on_short);
}

/* Every page's mapping state; the common empty page costs one compare. */
static void check_all_pages(struct rmap *m)
{
	const struct mm_view *v = &m->c->view;

	for (uint64_t w = 0; w <= v->npages / 64; w++) {
		uint64_t busy = v->busy_map[w];

		if (check_work(m->c, (uint64_t)__builtin_popcountll(busy)))
			return;
		for (; busy != 0; busy &= busy - 1) {
			uint64_t pfn = w * 64 + (uint64_t)__builtin_ctzll(busy);

			check_page_mappings(m, pfn, &v->pages[pfn]);
		}
	}
}

/* RM_MISSING for entry e of table t: a tracked leaf nothing named. */
static void report_untracked(struct checker *c, const struct table_info *t, unsigned e)
{
	uint64_t pte = 0, size_mask = (1ull << MM_LEVEL_SHIFT(t->level)) - 1, pfn;

	reader_read_u64_pa(&c->view.rd, ((uint64_t)t->pfn << MM_PAGE_SHIFT) + 8ull * e, &pte);
	pfn = (pte & c->frame_mask & ~size_mask) >> MM_PAGE_SHIFT;
	sink_violation(&c->sink, INV_RM_MISSING, t->space,
		       x86_table_entry_va(t->ptva, t->level, e), pfn,
		       "level-%u table pfn 0x%x entry %u maps pfn 0x%" PRIx64
		       ", which has no record of it",
		       t->level, t->pfn, e, pfn);
}

/* RM_MISSING: tracked leaves that no embedded mapping or list named. */
static void check_untracked(struct checker *c)
{
	for (size_t i = 0; i < c->ntables; i++) {
		const struct table_info *t = &c->tables[i];

		if (i % CHECK_POLL_UNITS == 0 && check_work(c, CHECK_POLL_UNITS))
			return;
		for (unsigned w = 0; w < 8; w++) {
			uint64_t missing = t->leaf[w] & ~t->tracked[w];

			for (; missing != 0; missing &= missing - 1)
				report_untracked(c, t, w * 64 + (unsigned)__builtin_ctzll(missing));
		}
	}
}

bool check_mapping_lists(struct checker *c)
{
	struct rmap m;
	bool ok = rmap_init(&m, c);

	c->hments_found = -1;
	if (ok) {
		int64_t nreserved = check_reserve(&m);
		bool hash_walked = false;

		if (c->view.pages != NULL && !c->stats.stopped) {
			check_all_pages(&m);
			check_short_count(&m);
		}
		check_target(c, nreserved, c->view.pages != NULL && !c->stats.stopped && !m.lists_cut ?
					   (int64_t)m.nlisted : -1);
		if (c->view.pages != NULL && !c->stats.stopped)
			hash_walked = check_hash(&m);
		if (c->view.pages != NULL && !c->stats.stopped)
			check_untracked(c);
		c->hments_found = hments_found(&m, nreserved, hash_walked);
	}
	rmap_free(&m);
	return ok;
}
