/* SPDX-License-Identifier: BSD-2-Clause */
/* Mapping lists (ideas from illumos hment.c): embedded first mapping, doubly linked hment lists, a hashed index of the long ones, reserves, stealing. */
#include "hment.h"

#include "hat.h"
#include "objcache.h"

#define HMENT_PFN_NONE UINT32_MAX
/* how far ahead of an hment a list walk prefetches: two lines, about five hments (hment_walk) */
#define HMENT_WALK_PREFETCH 128

struct hment_hash hment_hash;
struct hment_hash_stripe hment_hash_locks[HMENT_HASH_NLOCK] __attribute__((aligned(MM_CACHE_LINE)));
struct mm_lock_line hment_mlist_locks[HMENT_MLIST_NLOCK] __attribute__((aligned(MM_CACHE_LINE)));
struct hment_reserve hment_reserve;
struct hment_stats hment_stats;

struct objcache hment_cache __attribute__((aligned(MM_CACHE_LINE)));
struct objcache_cpu hment_cache_cpus[HAT_MAX_CPUS] __attribute__((aligned(MM_CACHE_LINE)));
static uint64_t steal_cursor;   /* pfn where the last steal succeeded: spread the pain */
struct hment_short_count hment_short_listed[HAT_MAX_CPUS] __attribute__((aligned(MM_CACHE_LINE)));

/*
 * The steal index (struct hment_listed): a steal finds the next page
 * with a list after a bounded number of loads however sparse the lists
 * are, instead of peeking at every page_t. Atomic: pages under different
 * list locks share its words.
 */
struct hment_listed hment_listed;

static void stat_inc(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/*
 * The counts a page's second mapping moves, per CPU on a line of its
 * own: in hment_stats they were a locked add on one shared line per
 * hment, and two CPUs mapping pages of their own twice each ran no
 * faster than one.
 */
static struct hment_cpu_stats {
	uint64_t alloc, promotions;
} __attribute__((aligned(MM_CACHE_LINE))) cpu_stats[HAT_MAX_CPUS];

/* One of this CPU's counts: only this CPU writes them, so a plain add (atomic for readers). */
static void cpu_stat_inc(uint64_t *n)
{
	__atomic_store_n(n, __atomic_load_n(n, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

uint64_t hment_stats_allocs(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < HAT_MAX_CPUS; i++)
		sum += __atomic_load_n(&cpu_stats[i].alloc, __ATOMIC_RELAXED);
	return sum;
}

uint64_t hment_stats_promotions(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < HAT_MAX_CPUS; i++)
		sum += __atomic_load_n(&cpu_stats[i].promotions, __ATOMIC_RELAXED);
	return sum;
}

/* n zeroed words. */
static uint64_t *boot_words(uint64_t n)
{
	return pa_to_kva(page_boot_alloc((n * sizeof(uint64_t) + MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT));
}

void hment_init(uint64_t npages)
{
	uint32_t dir_size = hment_hash_dir_size(npages);
	uint32_t *dir = pa_to_kva(page_boot_alloc(((uint64_t)dir_size * sizeof(uint32_t) +
						   MM_PAGE_SIZE - 1) >> MM_PAGE_SHIFT));

	for (uint32_t k = 0; k < HMENT_HASH_MIN / HMENT_HASH_PAGE_BUCKETS; k++)
		dir[k] = (uint32_t)(page_boot_alloc(1) >> MM_PAGE_SHIFT);
	hment_hash = (struct hment_hash){
		.hh_dir = dir,
		.hh_dir_size = dir_size,
		.hh_nbuckets = HMENT_HASH_MIN,
	};
	memset(hment_hash_locks, 0, sizeof(hment_hash_locks));
	memset(hment_mlist_locks, 0, sizeof(hment_mlist_locks));
	hment_reserve = (struct hment_reserve){ .hr_amount = HMENT_RESERVE_DEFAULT, .hr_slack = HR_UNSETTLED,
						.hr_cap = UINT32_MAX };
	hment_stats = (struct hment_stats){ 0 };
	memset(cpu_stats, 0, sizeof(cpu_stats));
	memset(hment_short_listed, 0, sizeof(hment_short_listed));
	objcache_init(&hment_cache, "hment", sizeof(hment_t));
	objcache_per_cpu(&hment_cache, hment_cache_cpus);
	steal_cursor = 0;
	hment_listed.npages = npages;
	for (unsigned i = 0; i < LISTED_LEVELS; i++)
		hment_listed.level[i] = boot_words((npages >> listed_word_shift(i)) + 1);
	hment_listed.large = (uint32_t *)boot_words(listed_large_groups(npages) / 2 + 1);
}

/*
 * p_mapping and p_embed change under pp's list lock, but hment_steal()
 * peeks at them without it: store them atomically.
 */
static bool has_list(const page_t *pp)
{
	return pp->p_mapping != 0 && !pp->p_embed;
}

/*
 * Keeps the steal index right after a change to pp that had a list or
 * not (`had`): pp's bit, then the summary bit above each word that this
 * turned zero or not zero (see struct hment_listed for why those add).
 * pp's list lock is held, so its own bit changes only here.
 */
static void listed_note(const page_t *pp, bool had)
{
	bool has = has_list(pp);
	uint32_t pfn = pp->p_pagenum;
	uint64_t *word, bit, old, now;

	if (has == had || pfn >= hment_listed.npages)
		return;
	word = &hment_listed.level[0][pfn >> 6];
	bit = 1ull << (pfn & 63);
	old = has ? __atomic_fetch_or(word, bit, __ATOMIC_RELAXED) : __atomic_fetch_and(word, ~bit, __ATOMIC_RELAXED);
	MM_ASSERT(RM_LISTED, ((old & bit) != 0) == had);
	now = has ? old | bit : old & ~bit;
	for (unsigned i = 1; i < LISTED_LEVELS && (old == 0) != (now == 0); i++) {
		uint64_t entry = pfn >> listed_bit_shift(i);

		word = &hment_listed.level[i][entry >> 6];
		bit = 1ull << (entry & 63);
		old = now != 0 ? __atomic_fetch_add(word, bit, __ATOMIC_RELAXED)
			       : __atomic_fetch_sub(word, bit, __ATOMIC_RELAXED);
		now = now != 0 ? old + bit : old - bit;
	}
}

/* The steal index's count of 2 MiB mappings of pp's group; NULL past the pages it covers. */
static uint32_t *large_slot(const page_t *pp)
{
	if (pp->p_pagenum >= hment_listed.npages)
		return NULL;
	return &hment_listed.large[pp->p_pagenum >> (MM_LARGE_SHIFT - MM_PAGE_SHIFT)];
}

/* A 2 MiB mapping of pp (its table ptp at level 2) comes (+1) or goes (-1): its group's count follows. pp's lock held. */
static void large_note(const page_t *pp, const page_t *ptp, int delta)
{
	uint32_t *count = ptp->p_level == 2 ? large_slot(pp) : NULL;

	if (count == NULL)
		return;
	MM_ASSERT(RM_LISTED, delta > 0 || *count > 0);
	__atomic_store_n(count, *count + (uint32_t)delta, __ATOMIC_RELAXED);   /* hment_large_peek() reads without the lock */
}

unsigned hment_large_count(page_t *lead)
{
	const uint32_t *count = large_slot(lead);

	MM_REQUIRE(hment_held(lead));
	return count == NULL ? 0 : *count;
}

unsigned hment_large_peek(const page_t *lead)
{
	const uint32_t *count = large_slot(lead);

	return count == NULL ? 0 : __atomic_load_n(count, __ATOMIC_RELAXED);
}

static void set_mapping(page_t *pp, uint32_t mapping)
{
	bool had = has_list(pp);

	__atomic_store_n(&pp->p_mapping, mapping, __ATOMIC_RELAXED);
	listed_note(pp, had);
}

static void set_embed(page_t *pp, uint8_t embed)
{
	bool had = has_list(pp);

	__atomic_store_n(&pp->p_embed, embed, __ATOMIC_RELAXED);
	listed_note(pp, had);
}

void hment_hold_switch(struct hment_hold *hd, page_t *pp)
{
	struct mm_lock *lk = hment_mlist_lock(pp);

	hment_hold_end(hd);
	mm_lock_enter(lk);
	hd->hd_lock = lk;
	hd->hd_left = HMENT_HOLD_MAX - 1;
}

void hment_hold_end(struct hment_hold *hd)
{
	if (hd->hd_stripe != NULL)
		mm_lock_exit(&hd->hd_stripe->hs_lock);
	if (hd->hd_lock != NULL)
		mm_lock_exit(hd->hd_lock);
	hd->hd_stripe = NULL;
	hd->hd_lock = NULL;
}

/*
 * hr_count is written under hr_lock but read without it (reserve_count):
 * the stores are atomic so the lockless read sees a whole value.
 */
static void reserve_count_set(uint32_t count)
{
	__atomic_store_n(&hment_reserve.hr_count, count, __ATOMIC_RELAXED);
}

/* Puts one hment (any bytes: a fresh one is not zeroed) on the reserve pool. */
static void reserve_put(hment_t *hm)
{
	stat_inc(&hment_stats.reserve_put);
	mm_lock_enter(&hment_reserve.hr_lock);
	*hm = (hment_t){ .hm_next = hment_reserve.hr_pool, .hm_state = HM_STATE_RESERVE };
	hment_reserve.hr_pool = hment_ref(hm);
	reserve_count_set(hment_reserve.hr_count + 1);
	mm_lock_exit(&hment_reserve.hr_lock);
}

/* Takes one hment off the reserve pool, or NULL when it is empty. */
static hment_t *reserve_get(void)
{
	hment_t *hm = NULL;

	mm_lock_enter(&hment_reserve.hr_lock);
	if (hment_reserve.hr_count != 0) {
		hm = hment_at(hment_reserve.hr_pool);
		MM_GUARD(RS_COUNT, hm != NULL && hm->hm_state == HM_STATE_RESERVE);
		hment_reserve.hr_pool = hm->hm_next;
		reserve_count_set(hment_reserve.hr_count - 1);
		stat_inc(&hment_stats.reserve_get);
	}
	mm_lock_exit(&hment_reserve.hr_lock);
	return hm;
}

static uint32_t reserve_count(void)
{
	return __atomic_load_n(&hment_reserve.hr_count, __ATOMIC_RELAXED);
}

static uint32_t reserve_amount(void)
{
	return __atomic_load_n(&hment_reserve.hr_amount, __ATOMIC_RELAXED);
}

#define HMENT_ALLOC_ATTEMPTS 8

static hment_t *hment_steal(page_t *avoid);
static hment_t *steal_from(page_t *pp);

/*
 * One attempt at a clean hment for a mapping of pp. Fresh ones are donated
 * to the reserve while it is below target. When the cache refuses: steal
 * another page's mapping, then tap the reserve, then steal one of pp's
 * own mappings. NULL when none of these worked.
 */
static hment_t *hment_alloc_once(page_t *pp)
{
	hment_t *hm;

	for (;;) {
		hm = objcache_alloc_uninit(&hment_cache);
		if (hm == NULL || reserve_count() >= reserve_amount())
			break;
		stat_inc(&hment_stats.donated);
		reserve_put(hm);
	}
	if (hm == NULL)
		hm = hment_steal(pp);
	if (hm == NULL)
		hm = reserve_get();
	if (hm == NULL && (hm = steal_from(pp)) != NULL)
		stat_inc(&hment_stats.steals);
	return hm;
}

/*
 * hm, counted and made a clean, unlinked hment, every byte set: the
 * cache hands hments out as the last free left them (zeroing them there
 * too was a guest `rep stosq` of three words per hment: 4-6 ns on this
 * host's CPU, natively, against 0.5 for three stores).
 */
static hment_t *hment_fresh(hment_t *hm)
{
	cpu_stat_inc(&cpu_stats[cpu_slot()].alloc);
	*hm = (hment_t){ .hm_pfn = HMENT_PFN_NONE, .hm_state = HM_STATE_ALLOC };
	return hm;
}

/*
 * Returns a clean hment for a mapping of pp (unlocked), or NULL. An
 * attempt can fail because other CPUs hold every hment, and they may free
 * theirs between our cache miss and our steal scan (the cache then has
 * room, but no list is left to steal from): try again a few times. It
 * also fails for good when every mapping left is one a steal may not
 * take (locked, in a busy table, the kernel's): then the caller's
 * memload fails cleanly, as it does when no page is left for a table.
 */
static hment_t *hment_alloc(page_t *pp)
{
	hment_t *hm = NULL;

	for (unsigned attempt = 0; hm == NULL && attempt < HMENT_ALLOC_ATTEMPTS; attempt++) {
		if (attempt > 0)
			mm_cpu_relax();
		hm = hment_alloc_once(pp);
	}
	if (hm == NULL) {
		cpu_stat_inc(&cpu_stats[cpu_slot()].alloc);
		stat_inc(&hment_stats.alloc_fails);
		return NULL;
	}
	return hment_fresh(hm);
}

/*
 * An hment straight from the cache, for a caller holding a mapping-list
 * lock: the cache's and the reserve's locks are taken under any lock, so
 * this saves dropping and retaking pp's lock. NULL when hment_alloc()
 * must run instead: the reserve wants the fresh hments, or the cache
 * refuses (then a steal, which takes other pages' list locks).
 */
static hment_t *hment_alloc_quick(void)
{
	hment_t *hm;

	if (reserve_count() < reserve_amount() || (hm = objcache_alloc_uninit(&hment_cache)) == NULL)
		return NULL;
	return hment_fresh(hm);
}

void hment_free(hment_t *hm)
{
	struct hment_frees f;

	hment_frees_init(&f);
	hment_free_later(&f, hm);
	hment_free_now(&f);
}

void hment_free_later(struct hment_frees *f, hment_t *hm)
{
	MM_REQUIRE(hm != NULL && hm != HMENT_EMBEDDED);
	MM_ASSERT(RS_COUNT, hm->hm_state == HM_STATE_ALLOC);
	*hm = (hment_t){ 0 };   /* stale users see zeroes, not a plausible hment; 3 stores, no memset call */
	if (f->hf_n == HMENT_FREES_MAX)
		hment_free_now(f);
	f->hf_hm[f->hf_n++] = hm;
}

void hment_free_now(struct hment_frees *f)
{
	unsigned k = 0;

	while (k < f->hf_n && reserve_count() < reserve_amount())
		reserve_put(f->hf_hm[k++]);
	objcache_free_n(&hment_cache, &f->hf_hm[k], f->hf_n - k);
	f->hf_n = 0;
}

/* Bucket b's chain head. */
static hment_ref_t *bucket_slot(uint32_t b)
{
	uint32_t pfn = __atomic_load_n(&hment_hash.hh_dir[b / HMENT_HASH_PAGE_BUCKETS], __ATOMIC_ACQUIRE);
	hment_ref_t *page = pa_to_kva((uint64_t)pfn << MM_PAGE_SHIFT);

	return &page[b % HMENT_HASH_PAGE_BUCKETS];
}

static uint32_t nbuckets(void)
{
	return __atomic_load_n(&hment_hash.hh_nbuckets, __ATOMIC_ACQUIRE);
}

static struct hment_hash_stripe *hash_stripe(uint32_t h)
{
	return &hment_hash_locks[hment_hash_lock_index(h)];
}

uint64_t hment_hash_count(void)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < HMENT_HASH_NLOCK; i++)
		n += __atomic_load_n(&hment_hash_locks[i].hs_count, __ATOMIC_RELAXED);
	return n;
}

/* Only this CPU writes its count: a plain add, no locked instruction. */
static void short_add(int64_t delta)
{
	int64_t *n = &hment_short_listed[cpu_slot()].sc_count;

	__atomic_store_n(n, __atomic_load_n(n, __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
}

uint64_t hment_listed_count(void)
{
	int64_t n = 0;

	for (unsigned i = 0; i < HAT_MAX_CPUS; i++)
		n += __atomic_load_n(&hment_short_listed[i].sc_count, __ATOMIC_RELAXED);
	return hment_hash_count() + (uint64_t)n;
}

/*
 * Makes sure bucket b has its bucket page: the first bucket of a page
 * allocates it. Another CPU may race us to the directory slot; the loser
 * frees its page. False when no page is left.
 */
static bool bucket_page_ready(uint32_t b)
{
	uint32_t *slot = &hment_hash.hh_dir[b / HMENT_HASH_PAGE_BUCKETS], none = 0;
	page_t *pp;

	if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) != 0)
		return true;
	if ((pp = page_alloc(PG_KERNEL)) == NULL)
		return false;
	if (!__atomic_compare_exchange_n(slot, &none, pp->p_pagenum, false, __ATOMIC_RELEASE,
					 __ATOMIC_ACQUIRE))
		page_free(pp);
	return true;
}

/*
 * Moves the hments of bucket `from` whose hash names `to` to that (empty)
 * new bucket. The two share a lock: they differ only above the lock bits.
 */
static void split_chain(uint32_t from, uint32_t to, uint32_t mask)
{
	hment_ref_t *link = bucket_slot(from), *dest = bucket_slot(to), ref;

	while ((ref = *link) != HMENT_REF_NONE) {
		hment_t *hm = hment_at(ref);

		if ((hment_hash_key(hm->hm_ptp, hm->hm_entry) & mask) != to) {
			link = &hm->hm_hashnext;
			continue;
		}
		*link = hm->hm_hashnext;
		hm->hm_hashnext = *dest;
		*dest = ref;
	}
}

/*
 * Grows the hash by one bucket (linear hashing): splits the next bucket
 * in line, so the cost of growing is spread over the inserts and no chain
 * is ever rehashed twice at once. Gives up quietly when another CPU split
 * first or no page is left for a bucket page: a longer chain, not an error.
 */
static void hash_split(void)
{
	uint32_t n = nbuckets(), half, from;
	struct mm_lock *lk;

	if (n / HMENT_HASH_PAGE_BUCKETS >= hment_hash.hh_dir_size)
		return;
	if (!bucket_page_ready(n)) {
		stat_inc(&hment_stats.split_fails);
		return;
	}
	half = 1u << (31 - __builtin_clz(n));   /* the largest power of two <= n */
	from = n - half;
	lk = &hash_stripe(from)->hs_lock;
	mm_lock_enter(lk);
	if (nbuckets() == n) {
		split_chain(from, n, 2 * half - 1);
		__atomic_store_n(&hment_hash.hh_nbuckets, n + 1, __ATOMIC_RELEASE);
		stat_inc(&hment_stats.splits);
	}
	mm_lock_exit(lk);
}

/*
 * Puts hm on its hash chain; grows the hash when the chains got too
 * long. The stripe's count stands for its share of the whole (the keys
 * spread evenly over the stripes): no CPU adds up all of them per insert.
 */
static void hash_insert(hment_t *hm)
{
	uint32_t h = hment_hash_key(hm->hm_ptp, hm->hm_entry);
	struct hment_hash_stripe *st = hash_stripe(h);
	hment_ref_t *slot;
	uint64_t count;

	mm_lock_enter(&st->hs_lock);
	slot = bucket_slot(hment_hash_bucket(h, nbuckets()));
	hm->hm_hashnext = *slot;
	*slot = hment_ref(hm);
	count = st->hs_count + 1;
	__atomic_store_n(&st->hs_count, count, __ATOMIC_RELAXED);   /* hment_hash_count() reads without the lock */
	mm_lock_exit(&st->hs_lock);
	if (count * HMENT_HASH_NLOCK > (uint64_t)nbuckets() * HMENT_HASH_LOAD)
		hash_split();
}

/* Every hment of pp's list onto the hash: the list just grew past HMENT_SHORT_LIST. */
static void list_hash_all(page_t *pp)
{
	for (hment_t *hm = hment_at(pp->p_mapping); hm != NULL; hm = hment_at(hm->hm_next))
		hash_insert(hm);
}

/* Adds a filled-in hment to pp's list (at the head), and to the hash once the list is long. pp's lock held. */
static void hment_insert(hment_t *hm, page_t *pp)
{
	hment_t *head = hment_at(pp->p_mapping);

	MM_ASSERT(RM_EMBED, pp->p_embed == 0);
	pp->p_share++;
	hm->hm_prev = HMENT_REF_NONE;
	hm->hm_next = pp->p_mapping;
	if (head != NULL) {
		MM_ASSERT(RM_LINKS, head->hm_prev == HMENT_REF_NONE);
		head->hm_prev = hment_ref(hm);
	}
	set_mapping(pp, hment_ref(hm));
	hm->hm_state = HM_STATE_LISTED;
	hm->hm_hashnext = HMENT_REF_NONE;
	if (pp->p_share <= HMENT_SHORT_LIST) {
		short_add(1);
	} else if (pp->p_share == HMENT_SHORT_LIST + 1) {
		short_add(-(int64_t)HMENT_SHORT_LIST);
		list_hash_all(pp);
	} else {
		hash_insert(hm);
	}
}

/* Moves pp's embedded mapping into hm, making pp's list. pp's lock held. */
static void hment_promote(page_t *pp, hment_t *hm)
{
	page_t *eptp = page_from_pfn(pp->p_mapping);

	MM_GUARD(RM_EMBED, pp->p_share == 0 && eptp != NULL && eptp->p_kind == PG_PTP);
	hm->hm_ptp = eptp->p_pagenum;
	hm->hm_entry = pp->p_mlentry;
	hm->hm_pfn = pp->p_pagenum;
	set_mapping(pp, 0);
	pp->p_mlentry = 0;
	set_embed(pp, 0);
	hment_insert(hm, pp);
	cpu_stat_inc(&cpu_stats[cpu_slot()].promotions);
}

/*
 * The four cases of the seed: first mapping (embed, no hment), refault
 * on the embedded mapping (nothing to do), second mapping (promote the
 * embedded one, then one more hment), later mappings (one hment). Since
 * allocating drops pp's lock, the state is re-examined after every
 * allocation or free until the hment in hand matches what is needed.
 */
int hment_prepare(page_t *ptp, unsigned entry, page_t *pp, hment_t **hmp)
{
	hment_t *hm = NULL;

	MM_REQUIRE(hment_held(pp));
	for (;;) {
		bool need;

		if (pp->p_mapping == 0) {
			MM_ASSERT(RM_EMBED, pp->p_embed == 0 && pp->p_share == 0);
			need = false;
		} else if (pp->p_embed && pp->p_mapping == ptp->p_pagenum && pp->p_mlentry == entry) {
			need = false;
		} else if (pp->p_embed) {
			if (hm != NULL) {
				hment_promote(pp, hm);
				hm = NULL;
			}
			need = true;
		} else {
			need = true;
		}
		if (need == (hm != NULL))
			break;
		if (need && (hm = hment_alloc_quick()) != NULL)
			continue;
		hment_exit(pp);
		if (hm != NULL) {
			hment_free(hm);
			hm = NULL;
		} else if ((hm = hment_alloc(pp)) == NULL) {
			hment_enter(pp);
			return -1;
		}
		hment_enter(pp);
	}
	*hmp = hm;
	return 0;
}

void hment_assign(page_t *ptp, unsigned entry, page_t *pp, hment_t *hm)
{
	MM_REQUIRE(hment_held(pp));
	MM_REQUIRE(ptp->p_kind == PG_PTP && entry < MM_PTES);
	if (pp->p_mapping == 0) {
		MM_REQUIRE(hm == NULL);
		MM_ASSERT(RM_EMBED, pp->p_embed == 0 && pp->p_share == 0);
		set_embed(pp, 1);
		set_mapping(pp, ptp->p_pagenum);
		pp->p_mlentry = (uint16_t)entry;
		large_note(pp, ptp, 1);
		return;
	}
	MM_ASSERT(RM_EMBED, pp->p_embed == 0);
	MM_REQUIRE(hm != NULL && hm->hm_state == HM_STATE_ALLOC);
	hm->hm_ptp = ptp->p_pagenum;
	hm->hm_entry = (uint16_t)entry;
	hm->hm_pfn = pp->p_pagenum;
	hment_insert(hm, pp);
	large_note(pp, ptp, 1);
}

/* The table page a mapping names, checked to be one. */
static page_t *mapping_table(uint32_t ptp_pfn)
{
	page_t *ptp = page_from_pfn(ptp_pfn);

	MM_GUARD(RM_STALE, ptp != NULL && ptp->p_kind == PG_PTP);
	return ptp;
}

/* Where hm, an hment on pp's list that a walk reached, maps: *ptpp, *entryp. */
static void walk_step(const page_t *pp, const hment_t *hm, page_t **ptpp, unsigned *entryp)
{
	/*
	 * The cache carves hments in order, so a space that mapped a run of
	 * pages holds their hments side by side: a walk of the next pages'
	 * lists (pagesync, pageunload over a range) will want the lines after
	 * this one. Halves a 256-space pagesync; a hint, never a fault.
	 */
	__builtin_prefetch((const char *)hm + HMENT_WALK_PREFETCH);
	MM_ASSERT(RM_PFN, hm->hm_pfn == pp->p_pagenum);
	*ptpp = mapping_table(hm->hm_ptp);
	*entryp = hm->hm_entry;
}

hment_t *hment_walk(page_t *pp, page_t **ptpp, unsigned *entryp, hment_t *prev)
{
	hment_t *hm;

	MM_REQUIRE(hment_held(pp));
	if (pp->p_embed) {
		if (prev != NULL) {
			MM_REQUIRE(prev == HMENT_EMBEDDED);
			return NULL;
		}
		*ptpp = page_from_pfn(pp->p_mapping);
		*entryp = pp->p_mlentry;
		return HMENT_EMBEDDED;
	}
	MM_REQUIRE(prev != HMENT_EMBEDDED);
	hm = hment_at(prev == NULL ? pp->p_mapping : prev->hm_next);
	if (hm != NULL)
		walk_step(pp, hm, ptpp, entryp);
	return hm;
}

/* Takes st's lock, or keeps it in hd when hd already holds it (hd: a hold or NULL). */
static void stripe_enter(struct hment_hash_stripe *st, struct hment_hold *hd)
{
	if (hd != NULL && hd->hd_stripe == st)
		return;
	if (hd != NULL && hd->hd_stripe != NULL)
		mm_lock_exit(&hd->hd_stripe->hs_lock);
	mm_lock_enter(&st->hs_lock);
	if (hd != NULL)
		hd->hd_stripe = st;
}

/* Unhooks the hment of (ptp pfn, entry, pfn) from its hash chain; NULL when absent. */
static hment_t *hash_unlink(uint32_t ptp_pfn, unsigned entry, uint32_t pfn, uint32_t *bucket,
			    struct hment_hold *hd)
{
	uint32_t h = hment_hash_key(ptp_pfn, entry);
	struct hment_hash_stripe *st = hash_stripe(h);
	hment_ref_t *link;
	hment_t *hm;

	stripe_enter(st, hd);
	*bucket = hment_hash_bucket(h, nbuckets());
	for (link = bucket_slot(*bucket); (hm = hment_at(*link)) != NULL; link = &hm->hm_hashnext)
		if (hm->hm_ptp == ptp_pfn && hm->hm_entry == entry && hm->hm_pfn == pfn)
			break;
	if (hm != NULL) {
		*link = hm->hm_hashnext;
		__atomic_store_n(&st->hs_count, st->hs_count - 1, __ATOMIC_RELAXED);
	}
	if (hd == NULL)
		mm_lock_exit(&st->hs_lock);
	return hm;
}

/* pp's only mapping, the embedded one, goes. pp's lock held. */
static void embed_clear(page_t *pp)
{
	MM_ASSERT(RM_EMBED, pp->p_share == 0);
	set_mapping(pp, 0);
	pp->p_mlentry = 0;
	set_embed(pp, 0);
}

/* Unhooks hm, off its hash chain already, from pp's doubly linked list in O(1). pp's lock held. */
static void list_unlink(page_t *pp, hment_t *hm)
{
	MM_ASSERT(RM_LINKS, hm->hm_state == HM_STATE_LISTED);
	if (hm->hm_next != HMENT_REF_NONE) {
		MM_ASSERT(RM_LINKS, hment_at(hm->hm_next)->hm_prev == hment_ref(hm));
		hment_at(hm->hm_next)->hm_prev = hm->hm_prev;
	}
	if (hm->hm_prev != HMENT_REF_NONE) {
		MM_ASSERT(RM_LINKS, hment_at(hm->hm_prev)->hm_next == hment_ref(hm));
		hment_at(hm->hm_prev)->hm_next = hm->hm_next;
	} else {
		MM_ASSERT(RM_LINKS, pp->p_mapping == hment_ref(hm));
		set_mapping(pp, hm->hm_next);
	}
	pp->p_share--;
	hm->hm_hashnext = HMENT_REF_NONE;
	hm->hm_next = HMENT_REF_NONE;
	hm->hm_prev = HMENT_REF_NONE;
	hm->hm_state = HM_STATE_ALLOC;
}

/* hash_unlink() of (ptp pfn, entry) of pp, which must find it: the list unlink after it needs the hment. */
static hment_t *hash_unlink_found(page_t *pp, uint32_t ptp_pfn, unsigned entry, struct hment_hold *hd)
{
	uint32_t bucket;
	hment_t *hm = hash_unlink(ptp_pfn, entry, pp->p_pagenum, &bucket, hd);

	if (hm == NULL)   /* panics even without MM asserts */
		panic("ASSERT HS_BUCKET failed: removing a mapping of pfn 0x%x: no hment for table "
		      "pfn 0x%x entry %u in hash bucket %u", pp->p_pagenum, ptp_pfn, entry, bucket);
	return hm;
}

/* Every hment of pp's list off the hash: the list just shrank to HMENT_SHORT_LIST. pp's lock held. */
static void list_unhash_all(page_t *pp, struct hment_hold *hd)
{
	for (hment_t *hm = hment_at(pp->p_mapping); hm != NULL; hm = hment_at(hm->hm_next)) {
		MM_GUARD(HS_BUCKET, hash_unlink_found(pp, hm->hm_ptp, hm->hm_entry, hd) == hm);
		hm->hm_hashnext = HMENT_REF_NONE;
	}
}

/* The hment of (table pfn, entry) on pp's short list, by walking it. pp's lock held. */
static hment_t *list_find(page_t *pp, uint32_t ptp_pfn, unsigned entry)
{
	unsigned n = 0;

	for (hment_t *hm = hment_at(pp->p_mapping); hm != NULL; hm = hment_at(hm->hm_next)) {
		MM_GUARD(RM_SHARE, n++ < pp->p_share);   /* a bound: a list that loops would never end */
		if (hm->hm_ptp == ptp_pfn && hm->hm_entry == entry)
			return hm;
	}
	/* panics even without MM asserts: the caller needs the hment */
	panic("ASSERT RM_MISSING failed: removing a mapping of pfn 0x%x: no hment for table pfn 0x%x "
	      "entry %u on its list", pp->p_pagenum, ptp_pfn, entry);
}

hment_t *hment_remove(page_t *pp, page_t *ptp, unsigned entry, struct hment_hold *hd)
{
	hment_t *hm;
	bool hashed;

	MM_REQUIRE(hment_held(pp));
	if (pp->p_embed) {
		if (pp->p_mapping != ptp->p_pagenum || pp->p_mlentry != entry)
			MM_PANIC(RM_STALE, "hment_remove: pfn 0x%x's embedded mapping is not table "
				 "pfn 0x%x entry %u", pp->p_pagenum, ptp->p_pagenum, entry);
		embed_clear(pp);
		large_note(pp, ptp, -1);
		return NULL;
	}
	MM_ASSERT(RM_SHARE, pp->p_share != 0);
	MM_REQUIRE(hd == NULL || hd->hd_lock == hment_mlist_lock(pp));
	hashed = pp->p_share > HMENT_SHORT_LIST;
	hm = hashed ? hash_unlink_found(pp, ptp->p_pagenum, entry, hd) : list_find(pp, ptp->p_pagenum, entry);
	list_unlink(pp, hm);
	if (!hashed) {
		short_add(-1);
	} else if (pp->p_share == HMENT_SHORT_LIST) {
		list_unhash_all(pp, hd);
		short_add(HMENT_SHORT_LIST);
	}
	large_note(pp, ptp, -1);
	return hm;
}

unsigned hment_remove_all(page_t *pp, hment_leaf_fn *leaf, void *arg, struct hment_frees *f)
{
	hment_ref_t ref, prev = HMENT_REF_NONE;
	unsigned n, share;
	bool hashed;

	MM_REQUIRE(hment_held(pp));
	if (pp->p_mapping == 0)
		return 0;
	if (pp->p_embed) {
		page_t *ptp = mapping_table(pp->p_mapping);
		unsigned entry = pp->p_mlentry;

		embed_clear(pp);
		large_note(pp, ptp, -1);
		leaf(pp, ptp, entry, arg);
		return 1;
	}
	ref = pp->p_mapping;
	share = pp->p_share;
	hashed = share > HMENT_SHORT_LIST;
	pp->p_share = 0;
	set_mapping(pp, 0);   /* the list goes as a whole: no neighbour's links rewritten per mapping */
	for (n = 0; ref != HMENT_REF_NONE; n++) {
		hment_t *hm = hment_at(ref);
		page_t *ptp;
		unsigned entry;

		/* a bound, not only a check: a list that loops would never end */
		MM_GUARD(RM_SHARE, n < share);
		MM_ASSERT(RM_LINKS, hm->hm_state == HM_STATE_LISTED && hm->hm_prev == prev);
		walk_step(pp, hm, &ptp, &entry);
		large_note(pp, ptp, -1);
		leaf(pp, ptp, entry, arg);
		if (hashed)
			MM_GUARD(HS_BUCKET, hash_unlink_found(pp, hm->hm_ptp, entry, NULL) == hm);
		prev = ref;
		ref = hm->hm_next;
		hm->hm_state = HM_STATE_ALLOC;
		hment_free_later(f, hm);
	}
	MM_ASSERT(RM_SHARE, n == share);
	if (!hashed)
		short_add(-(int64_t)n);
	return n;
}

/* pp's mappings, by its own list; takes its lock. */
static unsigned mapcnt_own(page_t *pp)
{
	unsigned cnt;

	hment_enter(pp);
	cnt = pp->p_mapping == 0 ? 0 : pp->p_embed ? 1 : pp->p_share;
	hment_exit(pp);
	return cnt;
}

unsigned hment_mapcnt(page_t *pp)
{
	page_t *lead = hment_large_leader(pp);
	unsigned cnt = mapcnt_own(pp);

	if (lead != NULL)
		cnt += hment_large_peek(lead);
	return cnt;
}

/*
 * A mapping a steal may take (the seed's test): not the kernel's, not in
 * a busy table (an operation holds it), not in a table holding locked
 * leaves, and not locked itself. pp's lock held: the leaf cannot go.
 */
static bool steal_eligible(const page_t *ptp, unsigned entry)
{
	return !(ptp->p_hat->h_flags & HAT_F_KERNEL) && !ptp_busy(ptp) && !ptp_locked(ptp) &&
	       !(pte_load(&ptp_table(ptp)[entry]) & PTE_LOCKED);
}

/*
 * Unloads the first mapping on pp's list that a steal may take and
 * returns its hment; NULL when pp has no list or none of it may go.
 */
static hment_t *steal_from(page_t *pp)
{
	hment_t *hm = NULL;

	hment_enter(pp);
	if (pp->p_mapping != 0 && !pp->p_embed) {
		page_t *ptp;
		unsigned entry = 0;
		hment_t *got;

		while ((hm = hment_walk(pp, &ptp, &entry, hm)) != NULL && !steal_eligible(ptp, entry))
			stat_inc(&hment_stats.steal_skipped);
		if (hm != NULL) {
			got = hat_mapping_unload(pp, ptp, entry);
			MM_ASSERT(RM_LINKS, got == hm);
		}
	}
	hment_exit(pp);
	return hm;
}

/*
 * The first page at or after pfn, before hi, whose bit is set (hi when
 * none). Climbs a level while the words it reads are empty (the top
 * level's words are read in turn), descends through the first set bit:
 * a few loads however far the next page is. Every step either moves pfn
 * on or descends, so a summary briefly off costs a step, never a loop.
 */
static uint64_t next_listed(uint64_t pfn, uint64_t hi)
{
	unsigned level = 0;
	uint64_t exam = 0;

	while (pfn < hi) {
		unsigned shift = listed_bit_shift(level);
		uint64_t entry = pfn >> shift, word;

		exam++;
		word = __atomic_load_n(&hment_listed.level[level][entry >> 6], __ATOMIC_RELAXED) &
		       (~0ull << (entry & 63));
		if (word == 0) {
			pfn = ((entry | 63) + 1) << shift;
			if (level + 1 < LISTED_LEVELS)
				level++;
			continue;
		}
		entry = (entry & ~63ull) + (uint64_t)__builtin_ctzll(word);
		if (level == 0) {
			pfn = entry;
			break;
		}
		if ((entry << shift) > pfn)
			pfn = entry << shift;
		level--;
	}
	/* one shared add per search: an atomic per step would cost more than the step */
	__atomic_fetch_add(&hment_stats.steal_exam, exam, __ATOMIC_RELAXED);
	return pfn < hi ? pfn : hi;
}

/*
 * Steals from the first page in [lo, hi) with a list. The bits and the
 * page are peeked at unlocked; steal_from() decides under the page's lock.
 */
static hment_t *steal_range(uint64_t lo, uint64_t hi, page_t *avoid)
{
	for (uint64_t pfn = next_listed(lo, hi); pfn < hi; pfn = next_listed(pfn + 1, hi)) {
		page_t *pp = &page_array[pfn];
		hment_t *hm;

		if (pp == avoid)
			continue;
		if ((hm = steal_from(pp)) != NULL) {
			__atomic_store_n(&steal_cursor, pfn, __ATOMIC_RELAXED);
			return hm;
		}
	}
	return NULL;
}

/*
 * Steals an hment: looks for a page with a list, from just after where
 * the last steal stopped (to spread the pain) round to it, and unloads its
 * first mapping a steal may take through the hat (steal_eligible). Skips `avoid`, the page being mapped:
 * taking one of its own mappings to add another gains nothing. NULL when
 * no other page has a list.
 */
static hment_t *hment_steal(page_t *avoid)
{
	uint64_t first = page_first_managed;
	uint64_t n = page_count < hment_listed.npages ? page_count : hment_listed.npages;
	uint64_t start;
	hment_t *hm;

	stat_inc(&hment_stats.steal_tries);
	if (first >= n)
		return NULL;
	start = __atomic_load_n(&steal_cursor, __ATOMIC_RELAXED);
	if (start < first || start >= n)
		start = first;
	hm = steal_range(start + 1, n, avoid);
	if (hm == NULL)
		hm = steal_range(first, start + 1, avoid);
	if (hm != NULL)
		stat_inc(&hment_stats.steals);
	return hm;
}

void hment_set_reserve_amount(uint32_t amount)
{
	__atomic_store_n(&hment_reserve.hr_amount, amount, __ATOMIC_RELAXED);
	__atomic_store_n(&hment_reserve.hr_slack, HR_UNSETTLED, __ATOMIC_RELAXED);   /* RS_TARGET */
}

void hment_reserve_fill(uint32_t extra)
{
	uint64_t target = (uint64_t)reserve_amount() + extra;
	uint32_t above = reserve_count() > reserve_amount() ? reserve_count() - reserve_amount() : 0;

	while (reserve_count() < target) {
		hment_t *hm = objcache_alloc_uninit(&hment_cache);

		if (hm == NULL)
			break;
		reserve_put(hm);
	}
	/* RS_TARGET: from here frees and donations never take it past its target (plus extra) */
	__atomic_store_n(&hment_reserve.hr_slack, above > extra ? above : extra, __ATOMIC_RELAXED);
}

void hment_adjust_reserve(void)
{
	while (reserve_count() > reserve_amount()) {
		hment_t *hm = reserve_get();

		if (hm == NULL)
			return;
		*hm = (hment_t){ 0 };
		objcache_free(&hment_cache, hm);
	}
	/* RS_TARGET: a trim ends a fill's extra; after a new target only a fill settles */
	if (__atomic_load_n(&hment_reserve.hr_slack, __ATOMIC_RELAXED) != HR_UNSETTLED)
		__atomic_store_n(&hment_reserve.hr_slack, 0, __ATOMIC_RELAXED);
}

void hment_set_limit(uint64_t max_in_use)
{
	objcache_set_limit(&hment_cache, max_in_use);
	/* RS_TARGET: a new cap settles only at the next fill or trim */
	__atomic_store_n(&hment_reserve.hr_cap, max_in_use > UINT32_MAX ? UINT32_MAX : (uint32_t)max_in_use,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&hment_reserve.hr_slack, HR_UNSETTLED, __ATOMIC_RELAXED);
}

uint64_t hment_cache_inuse(void)
{
	return __atomic_load_n(&hment_cache.oc_inuse, __ATOMIC_RELAXED) - objcache_on_cpus(&hment_cache);
}

void hment_assert_accounted(void)
{
	uint64_t out = hment_cache_inuse();
	uint64_t listed = hment_listed_count();
	uint32_t reserved = __atomic_load_n(&hment_reserve.hr_count, __ATOMIC_RELAXED);

	if (out != listed + reserved)
		MM_PANIC(OC_LEAK, "the hment cache has %" PRIu64 " out, %" PRIu64
			 " are on mapping lists and %u on the reserve", out, listed, reserved);
}
