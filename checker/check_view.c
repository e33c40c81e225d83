/* SPDX-License-Identifier: BSD-2-Clause */
/* Loads what the checker and the injector look at: the MM's globals by symbol, the page_t array (in place or copied), the address spaces. */
#include "check_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Reads the kernel's struct hat and points the reader at its PML4. */
static void load_kas(struct mm_view *v, const struct check_mem *mem, struct check_sink *s)
{
	struct hat_rec *kas = &v->hats[0];
	uint64_t cr3;

	*kas = (struct hat_rec){ .va = v->sym.hat_kas };
	v->have_kas = reader_read_va(&v->rd, v->sym.hat_kas, &kas->h, sizeof(kas->h));
	if (!v->have_kas) {
		sink_violation(s, INV_ST_ACCOUNT, REPORT_NONE, v->sym.hat_kas, REPORT_NONE,
			       "hat_kas cannot be read: the kernel half is not checked");
		v->nhats = 0;
	}
	cr3 = mem->kernel_cr3 ? mem->kernel_cr3 : (v->have_kas ? kas->h.h_top_pa : 0);
	reader_set_cr3(&v->rd, cr3);
}

/*
 * The page_t array read in place when RAM is mapped in this process and
 * the array is physically contiguous and aligned (as boot carving makes
 * it); NULL otherwise.
 */
static const struct page *pages_in_place(struct mm_view *v, uint64_t va, uint64_t bytes)
{
	uint64_t pa0, pa;

	if (!reader_translate(&v->rd, va, &pa0) || (pa0 & 7) || !reader_direct(&v->rd, pa0, bytes))
		return NULL;
	for (uint64_t off = MM_PAGE_SIZE - (va & (MM_PAGE_SIZE - 1)); off < bytes; off += MM_PAGE_SIZE)
		if (!reader_translate(&v->rd, va + off, &pa) || pa != pa0 + off)
			return NULL;
	return reader_direct(&v->rd, pa0, bytes);
}

/* The page_t array copied into host memory; false when out of memory. */
static bool copy_pages(struct mm_view *v, struct check_sink *s, uint64_t array, uint64_t count)
{
	struct page *copy = malloc(count * sizeof(struct page));

	if (copy == NULL)
		return false;
	if (!reader_read_va(&v->rd, array, copy, count * sizeof(struct page))) {
		sink_violation(s, INV_RM_MISSING, REPORT_NONE, array, REPORT_NONE,
			       "page_array (%" PRIu64
			       " page_t) does not translate: mapping lists and "
			       "table ownership not checked", count);
		free(copy);
		v->npages = 0;
		v->first_managed = 0;
		return true;
	}
	v->pages = copy;
	v->pages_owned = true;
	return true;
}

/* Words of a map with one bit per page_t. */
static uint64_t page_map_words(const struct mm_view *v)
{
	return v->npages / 64 + 1;
}

/* Bits of one map word: pages [w * 64, w * 64 + 64) below npages. */
static void index_word(struct mm_view *v, uint64_t w)
{
	uint64_t ptp = 0, busy = 0, end = w * 64 + 64 < v->npages ? w * 64 + 64 : v->npages;

	for (uint64_t pfn = w * 64; pfn < end; pfn++) {
		const struct page *pg = &v->pages[pfn];
		uint64_t bit = 1ull << (pfn & 63);

		v->free_kind += pg->p_kind == PG_FREE;
		v->ordinary_kind += pg->p_kind == PG_KERNEL || pg->p_kind == PG_USER;

		if (pg->p_kind == PG_PTP) {
			ptp |= bit;
			v->ptp_top += pg->p_level == MM_LEVELS;
		}
		if (!page_plain(pg, pfn))
			busy |= bit;
	}
	v->ptp_map[w] = ptp;
	v->busy_map[w] = busy;
	v->pages_read = end;
}

/*
 * The one pass over page_t that the check makes for every page: table
 * pages (ST_ACCOUNT), pages with mapping state (the mapping-list pass),
 * level-4 table pages (the hat_list bound). Later passes visit only the
 * pages these maps name. False when out of memory.
 */
static bool index_pages(struct mm_view *v)
{
	uint64_t words = page_map_words(v);

	v->ptp_map = calloc(words, sizeof(uint64_t));
	v->busy_map = calloc(words, sizeof(uint64_t));
	if (v->ptp_map == NULL || v->busy_map == NULL)
		return false;
	for (uint64_t w = 0; w < words; w++) {
		if (w % (CHECK_POLL_UNITS / 64) == 0 && checker_stop_requested()) {
			v->stopped = true;
			return true;
		}
		index_word(v, w);
	}
	return true;
}

/* Reads page_count / page_first_managed / page_array and the array itself. */
static bool load_pages(struct mm_view *v, struct check_sink *s)
{
	uint64_t count, first, array;

	if (!reader_read_u64_va(&v->rd, v->sym.page_count, &count) ||
	    !reader_read_u64_va(&v->rd, v->sym.page_first_managed, &first) ||
	    !reader_read_u64_va(&v->rd, v->sym.page_array, &array)) {
		sink_violation(s, INV_RM_MISSING, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "page_count, page_first_managed or page_array cannot be read");
		return true;
	}
	if (count > v->ram_pages) {
		sink_violation(s, INV_RM_MISSING, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "page_count %" PRIu64 " exceeds the %" PRIu64 " pages of RAM",
			       count, v->ram_pages);
		count = v->ram_pages;
	}
	if (first > count) {
		sink_violation(s, INV_RM_MISSING, REPORT_NONE, REPORT_NONE, REPORT_NONE,
			       "page_first_managed %" PRIu64 " is above page_count %" PRIu64,
			       first, count);
		first = count;
	}
	v->page_array_va = array;
	v->first_managed = first;
	if (count == 0)
		return true;
	v->npages = count;
	v->pages = pages_in_place(v, array, count * sizeof(struct page));
	if (v->pages == NULL && !copy_pages(v, s, array, count))
		return false;
	return v->pages == NULL || index_pages(v);
}

/* Appends one hat record; false when out of memory. */
static bool push_hat(struct mm_view *v, size_t *cap, uint64_t va, const struct hat *h)
{
	if (v->nhats == *cap) {
		size_t ncap = *cap * 2;
		struct hat_rec *grown = realloc(v->hats, ncap * sizeof(*grown));

		if (grown == NULL)
			return false;
		v->hats = grown;
		*cap = ncap;
	}
	v->hats[v->nhats++] = (struct hat_rec){ .va = va, .h = *h };
	return true;
}

/* Nodes walked past an exact legitimate count so that the first excess ones are reported singly. */
#define LIMIT_SLACK 1024u

/* The bounds of one check, from RAM's pages and page_count (once load_pages has run). */
static void view_limits(struct mm_view *v)
{
	uint64_t pages = v->npages ? v->npages : v->ram_pages;
	uint64_t managed = v->npages ? v->npages - v->first_managed : v->ram_pages;

	v->limits = (struct check_limits){
		.hash_dir = hment_hash_dir_size(pages),
		.spaces = managed + 1,
		.hments = v->ram_pages * MM_PAGE_SIZE / sizeof(struct hment),
		.slack = LIMIT_SLACK,
	};
}

/* Spaces on hat_list before the bound is tightened to the level-4 table pages page_t accounts for. */
#define LIMIT_SPACES_CHEAP 64u

/*
 * Every space's PML4 is a distinct page_t-accounted level-4 table page:
 * once hat_list is long enough to matter, the spaces are bounded by how
 * many there are (plus the slack of a few misaccounted tops, which are
 * still walked and reported PT_PTP_OWNER). index_pages() counted them.
 */
static void tighten_space_limit(struct mm_view *v)
{
	if (v->pages != NULL && !v->stopped && v->ptp_top + LIMIT_SPACES_CHEAP < v->limits.spaces)
		v->limits.spaces = v->ptp_top + LIMIT_SPACES_CHEAP;
}

/* True (and v->stopped set) when a stop request is seen; polled every CHECK_POLL_UNITS nodes. */
static bool view_poll_stop(struct mm_view *v, uint64_t n)
{
	if (n % CHECK_POLL_UNITS == CHECK_POLL_UNITS - 1 && checker_stop_requested())
		v->stopped = true;
	return v->stopped;
}

/*
 * Follows hat_list (Brent) and records every space but hat_kas. Capped
 * at limits.spaces: every space owns a PML4 page, a managed page, so a
 * longer list cannot be legitimate (ST_ACCOUNT: hat_list accounts for
 * more spaces than there are), and walking it would let the guest set
 * the check's time and the host memory it takes.
 */
static bool load_hat_list(struct mm_view *v, size_t *cap, struct check_sink *s)
{
	uint64_t node, prev = 0, n = 0;
	bool found_kas = false;
	struct brent b;

	if (!reader_read_u64_va(&v->rd, v->sym.hat_list, &node)) {
		sink_violation(s, INV_ST_ACCOUNT, REPORT_NONE, REPORT_NONE, REPORT_NONE, "hat_list cannot be read");
		return true;
	}
	brent_init(&b);
	for (; node != 0; n++) {
		struct hat h;

		if (brent_step(&b, node)) {
			sink_violation(s, INV_ST_ACCOUNT, REPORT_NONE, node, REPORT_NONE,
				       "hat_list does not end: it loops back to 0x%" PRIx64
				       " after %" PRIu64 " spaces",
				       node, n);
			break;
		}
		if (n == LIMIT_SPACES_CHEAP)
			tighten_space_limit(v);
		if (n >= v->limits.spaces) {
			sink_violation(s, INV_ST_ACCOUNT, REPORT_NONE, node, REPORT_NONE,
				       "hat_list holds more than %" PRIu64
				       " spaces, more than there are PML4 pages for; the rest is not checked",
				       v->limits.spaces);
			break;
		}
		if (view_poll_stop(v, n))
			break;
		if (!reader_read_va(&v->rd, node, &h, sizeof(h))) {
			sink_violation(s, INV_ST_ACCOUNT, REPORT_NONE, node, REPORT_NONE,
				       "hat_list entry 0x%" PRIx64 " does not translate", node);
			break;
		}
		if (h.h_prev != prev)
			sink_violation(s, INV_ST_ACCOUNT, h.h_id, node, REPORT_NONE,
				       "hat_list: h_prev of space %u is 0x%" PRIx64
				       ", not 0x%" PRIx64, h.h_id,
				       h.h_prev, prev);
		if (node == v->sym.hat_kas)
			found_kas = true;
		else if (!push_hat(v, cap, node, &h))
			return false;
		prev = node;
		node = h.h_next;
	}
	if (!found_kas && !v->stopped)
		sink_violation(s, INV_ST_ACCOUNT, REPORT_NONE, v->sym.hat_kas, REPORT_NONE, "hat_kas is not on hat_list");
	v->hat_list_whole = node == 0 && found_kas;
	return true;
}

static int cmp_hat_key(const void *a, const void *b)
{
	const struct hat_key *x = a, *y = b;

	return x->va < y->va ? -1 : x->va > y->va;
}

/* Builds hat_sorted for view_hat_at(). */
static bool sort_hats(struct mm_view *v)
{
	v->hat_sorted = malloc((v->nhats ? v->nhats : 1) * sizeof(*v->hat_sorted));
	if (v->hat_sorted == NULL)
		return false;
	for (size_t i = 0; i < v->nhats; i++)
		v->hat_sorted[i] = (struct hat_key){ .va = v->hats[i].va, .idx = (uint32_t)i };
	qsort(v->hat_sorted, v->nhats, sizeof(*v->hat_sorted), cmp_hat_key);
	return true;
}

/* An object cache the guest exports at va (0: it does not); false when there is none to read. */
static bool load_objcache(struct mm_view *v, uint64_t va, struct objcache *oc, const char *name,
			  struct check_sink *s)
{
	if (va == 0)
		return false;
	if (reader_read_va(&v->rd, va, oc, sizeof(*oc)))
		return true;
	sink_violation(s, INV_OC_LEAK, REPORT_NONE, va, REPORT_NONE, "%s cannot be read", name);
	return false;
}

/* The hash's descriptor and its stripes (locks and counts); false when either cannot be read. */
static bool load_hash(struct mm_view *v, struct check_sink *s)
{
	if (!reader_read_va(&v->rd, v->sym.hment_hash, &v->hash, sizeof(v->hash))) {
		sink_violation(s, INV_HS_BUCKET, REPORT_NONE, v->sym.hment_hash, REPORT_NONE, "hment_hash cannot be read");
		return false;
	}
	if (!reader_read_va(&v->rd, v->sym.hment_hash_locks, v->stripes, sizeof(v->stripes))) {
		sink_violation(s, INV_HS_ORPHAN, REPORT_NONE, v->sym.hment_hash_locks, REPORT_NONE,
			       MM_SYM_HASH_LOCKS " cannot be read");
		return false;
	}
	v->hash_count = 0;
	for (unsigned i = 0; i < HMENT_HASH_NLOCK; i++)
		if (__builtin_add_overflow(v->hash_count, v->stripes[i].hs_count, &v->hash_count))
			v->hash_count = UINT64_MAX;
	return true;
}

/* The hash, reserve, table-page cache and (when exported) page allocator and object cache descriptors. */
static void load_descriptors(struct mm_view *v, struct check_sink *s)
{
	v->hash_ok = load_hash(v, s);
	v->reserve_ok = reader_read_va(&v->rd, v->sym.hment_reserve, &v->reserve, sizeof(v->reserve));
	if (!v->reserve_ok)
		sink_violation(s, INV_RS_COUNT, REPORT_NONE, v->sym.hment_reserve, REPORT_NONE,
			       "hment_reserve cannot be read");
	v->cache_ok = reader_read_va(&v->rd, v->sym.segtab_ptp_cache, &v->cache, sizeof(v->cache));
	if (!v->cache_ok)
		sink_violation(s, INV_ST_FREE_ZERO, REPORT_NONE, v->sym.segtab_ptp_cache, REPORT_NONE,
			       "segtab_ptp_cache cannot be read");
	v->hcache_ok = load_objcache(v, v->sym.hment_cache, &v->hcache, "hment_cache", s);
	v->hatcache_ok = load_objcache(v, v->sym.hat_cache, &v->hatcache, "hat_cache", s);
	if (v->sym.page_pool == 0)
		return;
	v->pool_ok = reader_read_va(&v->rd, v->sym.page_pool, &v->pool, sizeof(v->pool));
	if (!v->pool_ok)
		sink_violation(s, INV_PG_FREE_COUNT, REPORT_NONE, v->sym.page_pool, REPORT_NONE,
			       "page_pool cannot be read");
}

bool mm_view_load(struct mm_view *v, const struct check_mem *mem, const struct mm_symbols *sym,
		  struct check_sink *sink)
{
	size_t cap = 16;

	memset(v, 0, sizeof(*v));
	reader_init(&v->rd, mem);
	v->sym = *sym;
	v->ram_pages = mem->ram_size >> MM_PAGE_SHIFT;
	v->hats = malloc(cap * sizeof(*v->hats));
	if (v->hats == NULL)
		return false;
	v->nhats = 1;
	load_kas(v, mem, sink);
	if (!load_pages(v, sink)) {
		mm_view_free(v);
		return false;
	}
	view_limits(v);
	if (!load_hat_list(v, &cap, sink) || !sort_hats(v)) {
		mm_view_free(v);
		return false;
	}
	load_descriptors(v, sink);
	return true;
}

void mm_view_free(struct mm_view *v)
{
	if (v->pages_owned)
		free((void *)v->pages);
	free(v->ptp_map);
	free(v->busy_map);
	v->ptp_map = v->busy_map = NULL;
	free(v->hats);
	free(v->hat_sorted);
	v->pages = NULL;
	v->hats = NULL;
	v->hat_sorted = NULL;
	v->npages = v->nhats = 0;
}

bool view_pfn_of_page_va(const struct mm_view *v, uint64_t va, uint64_t *pfn)
{
	uint64_t off = va - v->page_array_va;

	if (va < v->page_array_va || off % sizeof(struct page) != 0 ||
	    off / sizeof(struct page) >= v->npages)
		return false;
	*pfn = off / sizeof(struct page);
	return true;
}

struct hat_rec *view_hat_at(const struct mm_view *v, uint64_t va)
{
	size_t lo = 0, hi = v->nhats;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct hat_key *k = &v->hat_sorted[mid];

		if (k->va == va)
			return &v->hats[k->idx];
		if (k->va < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint64_t view_space_id(const struct mm_view *v, uint64_t hat_va)
{
	const struct hat_rec *h = view_hat_at(v, hat_va);

	return h ? h->h.h_id : REPORT_NONE;
}
