/* SPDX-License-Identifier: BSD-2-Clause */
/* Address spaces on x86-64 page tables: building the kernel's, loading, unloading, protection, A/D sync (their TLB flushes: hat_tlb.c). */
#include "hat.h"

#include "hat_oplog.h"
#include "hat_tlb.h"
#include "objcache.h"

/*
 * The MM's lock order, outermost first (a CPU takes a lock only while
 * holding locks above it; spinlocks, interrupts left on):
 *
 *   h_lock            a space's, reader-writer: a page fault's 4 KiB load into an
 *                     empty entry takes it shared (hat_load_shared: tables and
 *                     leaf go in by compare-and-swap), everything else that
 *                     changes the tree exclusively; hat_dup holds two, the
 *                     lower h_id first
 *   mapping-list lock one page's (hment_mlist_locks, by pfn), one at a time:
 *                     hment_hold lets go of one before the next, hment_prepare
 *                     before it draws on the reserve or steals, and a steal
 *                     takes its victim's with no other list lock held
 *   hash lock         a bucket's stripe (hment_hash_locks, by key: 64
 *                     neighbouring entries of a table to a stripe), which
 *                     also guards the stripe's count, one at a time; a
 *                     split holds the one its two buckets share, a range
 *                     unload keeps one in its list-lock hold from leaf to
 *                     leaf (hment_remove) and lets it go first
 *   oa_lock           a CPU's own list of an object cache (objcache_cpu):
 *                     its CPU's, and objcache_set_limit's
 *   oc_lock           an object cache's (hments, spaces)
 *   pool.lock         the page allocator's, innermost
 *
 * Taken alone, under at most h_lock: hat_list_lock, the table-page
 * cache's pc_lock. The hment reserve's hr_lock takes no lock inside it
 * and is taken under any: a batch of frees that fills up under a list
 * lock and hash stripe (hment_free_later) empties into the reserve
 * there. The operation log takes none.
 * A TLB shootdown may wait for other CPUs while h_lock and a list lock
 * are held: their handlers take no MM lock, and a CPU spinning for a lock
 * keeps interrupts on, so it serves the request meanwhile.
 */

struct hat hat_kas;
struct hat *hat_list;
#ifndef HATVM_HOSTED
bool mm_direct_map_live;
#endif

struct mm_lock hat_list_lock;   /* exported: the checker's LK_QUIESCENT reads it */
struct objcache hat_cache __attribute__((aligned(MM_CACHE_LINE)));
static uint32_t hat_serial;

static void count(uint64_t *counter, int64_t delta)
{
	__atomic_fetch_add(counter, (uint64_t)delta, __ATOMIC_RELAXED);
}

/* A leaf count about to lose a leaf must have counted it (ST_NMAP). */
static bool counted(uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED) > 0;
}

/* --- what the TLB saw of an operation (MD_FLUSH) ----------------------------- */

/*
 * Where an operation on h starts, for its log record (MD_FLUSH): the CPUs
 * h is loaded on (HOP_LOADED_*), and h's TLB work so far, here (INVLPG,
 * full flushes) and for the others (shootdown requests).
 */
struct tlb_mark {
	uint16_t loaded;
	unsigned cpu;   /* the operation's, read once: a kernel thread here never migrates */
	uint64_t local, remote, pages;
};

static uint64_t tlb_work_local(const struct hat *h)
{
	return __atomic_load_n(&h->h_tlb_page, __ATOMIC_RELAXED) +
	       __atomic_load_n(&h->h_tlb_all, __ATOMIC_RELAXED);
}

static uint64_t tlb_work_remote(const struct hat *h)
{
	return __atomic_load_n(&h->h_tlb_remote, __ATOMIC_RELAXED);
}

/* Loaded: by h's own CPU set, not the mask the flushes use, so a wrong mask cannot hide itself. */
static uint16_t tlb_loaded(const struct hat *h, unsigned cpu)
{
	uint64_t cpus = __atomic_load_n(&h->h_cpus, __ATOMIC_SEQ_CST), self = 1ull << cpu;

	return (uint16_t)(((cpus & self) ? HOP_LOADED_HERE : 0) |
			  ((cpus & ~self) ? HOP_LOADED_ELSEWHERE : 0));
}

static struct tlb_mark tlb_mark(const struct hat *h)
{
	unsigned cpu = cpu_id();

	return (struct tlb_mark){ .loaded = tlb_loaded(h, cpu), .cpu = cpu, .local = tlb_work_local(h),
				  .remote = tlb_work_remote(h), .pages = tlb_remote_pages(cpu) };
}

/* The TLB work since m, as a log record's o_flushes. */
static uint16_t tlb_flushes_since(const struct hat *h, const struct tlb_mark *m)
{
	return hat_oplog_flushes(tlb_work_local(h) - m->local, tlb_work_remote(h) - m->remote);
}

/*
 * What the TLB saw of op since m (MD_FLUSH). Other CPUs count only when
 * h is loaded there at the end too: one that switched away meanwhile
 * flushed its TLB with the CR3 load.
 */
static void op_tlb_seen(struct hat_op *op, const struct hat *h, const struct tlb_mark *m)
{
	op->o_loaded = m->loaded & (tlb_loaded(h, m->cpu) | HOP_LOADED_HERE);
	op->o_flushes = tlb_flushes_since(h, m);
}

/* Puts op in the place reserved for it (seq), or appends it now (seq 0). */
static void log_put(uint64_t seq, const struct hat_op *op)
{
	if (seq != 0)
		hat_oplog_put(seq, op);
	else
		hat_oplog_append_n(op, 1);
}

/* Logs op with what the TLB saw of it since m (a pointer: see hat_oplog_append), at seq as log_put. */
static void log_op_at(uint64_t seq, struct hat_op *op, const struct hat *h, const struct tlb_mark *m)
{
	op_tlb_seen(op, h, m);
	if (op->o_kind == HOP_UNLOAD || op->o_kind == HOP_CHGPROT) {
		uint64_t pages = tlb_remote_pages(m->cpu) - m->pages;

		op->o_pfn = pages > HOP_FLUSH_PAGES_ALL ? HOP_FLUSH_PAGES_ALL : (uint32_t)pages;
	}
	log_put(seq, op);
}

static void log_op(struct hat_op *op, const struct hat *h, const struct tlb_mark *m)
{
	log_op_at(0, op, h, m);
}

/* --- leaves ---------------------------------------------------------------- */

static bool hat_is_kernel(const struct hat *h)
{
	return (h->h_flags & HAT_F_KERNEL) != 0;
}

/* The page whose mapping list records leaf v of h, or NULL: kernel mappings and unmanaged frames are not tracked. */
static page_t *hat_tracked_page(const struct hat *h, pte_t v)
{
	uint64_t pfn = pte_pfn(v);

	if (hat_is_kernel(h) || !page_pfn_managed(pfn))
		return NULL;
	return &page_array[pfn];
}

/* Accessed/dirty bits of leaf v into pp's attributes. */
static void page_attr_merge(page_t *pp, pte_t v)
{
	uint8_t bits = (uint8_t)(((v & PTE_A) ? PG_ATTR_REF : 0) | ((v & PTE_D) ? PG_ATTR_MOD : 0));

	MM_ASSERT(PT_DIRTY_ACCESSED, (v & (PTE_A | PTE_D)) != PTE_D);
	if (bits != 0)
		__atomic_fetch_or(&pp->p_attr, bits, __ATOMIC_RELAXED);
}

/* One locked leaf more (delta 1) or fewer (-1) in table ptp of h (ST_LOCKED). */
static void locked_count(struct hat *h, page_t *ptp, int delta)
{
	if (delta < 0)
		MM_ASSERT(ST_LOCKED, ptp->p_lockcnt > 0 && counted(&h->h_nlocked));
	__atomic_fetch_add(&ptp->p_lockcnt, (uint16_t)delta, __ATOMIC_ACQ_REL);
	count(&h->h_nlocked, delta);
}

/* A range unload on its walk (h's lock held), table by table. */
struct range_unload {
	struct tlb_batch batch;
	struct hment_hold hold;   /* the mapping-list lock kept from leaf to leaf */
	struct hment_frees frees; /* the hments of the leaves cleared, freed together */
	unsigned owed;            /* leaves cleared in the current table, not yet counted down */
};

/*
 * Clears the present leaf (ptp, idx): A/D bits go to pp, the TLB entry
 * is flushed now or through u's batch. pp is the tracked page, its list
 * lock held, or NULL; its list entry for the leaf is the caller's to
 * take (leaf_clear), under the same hold of the lock. An unload may take
 * a locked leaf (its counts go down); a steal (unload false) never may.
 * Without u (h's lock not held) the caller decrements ptp's valid count
 * (ptp_valid_dec) once done with ptp and its hat: a pruner may free both
 * right after. In a range unload u (h's lock held: nobody else prunes
 * ptp) the leaf and valid counts are owed instead and paid once per
 * table by counts_settle(). Inline: pageunload runs it once a mapping.
 */
static inline __attribute__((always_inline)) void leaf_zap(page_t *pp, page_t *ptp, unsigned idx,
							    struct range_unload *u, bool unload)
{
	struct hat *h = ptp->p_hat;
	uint64_t va = ptp_entry_va(ptp, idx);
	unsigned level = ptp->p_level;
	pte_t old = __atomic_exchange_n(&ptp_table(ptp)[idx], 0, __ATOMIC_ACQ_REL);

	MM_ASSERT(RM_STALE, (old & PTE_P) != 0);
	if (pp != NULL) {
		MM_ASSERT(RM_PFN, pte_pfn(old) == pp->p_pagenum);
		page_attr_merge(pp, old);
	}
	if ((old & PTE_LOCKED) && unload)
		locked_count(h, ptp, -1);
	else if (old & PTE_LOCKED)
		MM_PANIC(ST_LOCKED, "a steal took the locked mapping at 0x%" PRIx64 " of space %u",
			 va, h->h_id);
	if (u != NULL) {
		MM_REQUIRE(u->batch.h == h);
		tlb_batch_add(&u->batch, va);
		u->owed++;
		return;
	}
	MM_ASSERT(ST_NMAP, counted(level == 2 ? &h->h_nmap2m : &h->h_nmap4k));
	count(level == 2 ? &h->h_nmap2m : &h->h_nmap4k, -1);
	tlb_flush_page(h, va);
}

/* leaf_zap(), and pp's list loses the entry: returns the hment to free (NULL when embedded or untracked). */
static inline __attribute__((always_inline)) hment_t *leaf_clear(page_t *pp, page_t *ptp, unsigned idx,
								  struct range_unload *u, bool unload)
{
	leaf_zap(pp, ptp, idx, u, unload);
	return pp == NULL ? NULL : hment_remove(pp, ptp, idx, u != NULL ? &u->hold : NULL);
}

/*
 * Pays what a range unload owes for the leaves it cleared in ptp: one
 * atomic update of each count instead of two per leaf. Still before the
 * walk looks at ptp's valid count to prune it.
 */
static void counts_settle(struct hat *h, page_t *ptp, struct range_unload *u)
{
	uint64_t *nmap = ptp->p_level == 2 ? &h->h_nmap2m : &h->h_nmap4k;
	unsigned owed = u->owed;

	if (owed == 0)
		return;
	u->owed = 0;
	MM_ASSERT(ST_NMAP, __atomic_load_n(nmap, __ATOMIC_RELAXED) >= owed);
	count(nmap, -(int64_t)owed);
	MM_ASSERT(PT_VALID_CNT, __atomic_load_n(&ptp->p_valid, __ATOMIC_RELAXED) >= owed);
	__atomic_fetch_sub(&ptp->p_valid, (uint16_t)owed, __ATOMIC_RELEASE);
}

hment_t *hat_mapping_unload(page_t *pp, page_t *ptp, unsigned entry)
{
	struct hat *h = ptp->p_hat;
	struct tlb_mark m = tlb_mark(h);
	struct hat_op op = { .o_kind = HOP_STEAL, .o_space = h->h_id,
			     .o_va = ptp_entry_va(ptp, entry), .o_pfn = pp->p_pagenum };
	hment_t *hm;
	uint64_t seq;

	MM_REQUIRE(hment_held(pp));
	seq = hat_oplog_reserve();   /* before the leaf goes: as a pageunload's (pageunload_at) */
	hm = leaf_clear(pp, ptp, entry, NULL, false);
	log_op_at(seq, &op, h, &m);
	ptp_valid_dec(ptp);   /* the last access to ptp and h: their space's destroy may free them now */
	return hm;
}

/*
 * Unloads leaf idx of ptp in h (h's lock held). A tracked leaf is
 * re-read under its page's list lock: another CPU's pageunload or steal
 * may have cleared it meanwhile (only h's lock holder sets leaves).
 */
static void leaf_unload(struct hat *h, page_t *ptp, unsigned idx, struct range_unload *u)
{
	pte_t *pte = &ptp_table(ptp)[idx];
	pte_t v = pte_load(pte);
	page_t *pp;
	hment_t *hm;

	if ((v & PTE_P) == 0)
		return;
	pp = hat_tracked_page(h, v);
	if (pp == NULL) {
		leaf_clear(NULL, ptp, idx, u, true);
		return;
	}
	hment_hold(&u->hold, pp);
	v = pte_load(pte);
	if ((v & PTE_P) && pte_pfn(v) == pp->p_pagenum &&
	    (hm = leaf_clear(pp, ptp, idx, u, true)) != NULL)
		hment_free_later(&u->frees, hm);
}

/* Panics unless [va, eva) covers the whole 2 MiB leaf it touches. */
static void check_large_cover(const char *who, uint64_t va, uint64_t eva)
{
	uint64_t base = va & ~(MM_LARGE_SIZE - 1);

	if (va != base || eva != base + MM_LARGE_SIZE)
		panic("%s: range [0x%" PRIx64 ", 0x%" PRIx64
		      ") splits the 2 MiB mapping at 0x%" PRIx64, who,
		      va, eva, base);
}

/* Scan of the present leaves of the 4 KiB table ptp in [va, eva). */
static void leaf_scan_init(struct ptp_scan *s, const page_t *ptp, uint64_t va, uint64_t eva)
{
	ptp_scan_init(s, ptp, MM_VA_INDEX(va, 1), MM_VA_INDEX(eva - 1, 1) + 1);
}

static void unload_cb(struct hat *h, page_t *ptp, unsigned level, uint64_t va, uint64_t eva,
		      void *arg)
{
	struct range_unload *u = arg;
	struct ptp_scan s;
	pte_t v;
	int i;

	if (level == 2) {
		check_large_cover("hat_unload", va, eva);
		leaf_unload(h, ptp, MM_VA_INDEX(va, 2), u);
	} else {
		leaf_scan_init(&s, ptp, va, eva);
		while ((i = ptp_scan_next(&s, &v)) >= 0)
			leaf_unload(h, ptp, (unsigned)i, u);
	}
	hment_hold_end(&u->hold);
	hment_free_now(&u->frees);
	counts_settle(h, ptp, u);
}

/*
 * Unloads [sva, eva) of h; with prune, frees the tables left empty
 * (after flushing: paging-structure caches may still hold them), in the
 * same walk; with drain as well, waits for other CPUs' clears in h to
 * finish (segtab_process_prune). h's lock held. Returns the table pages
 * freed.
 */
static unsigned hat_unload_locked(struct hat *h, uint64_t sva, uint64_t eva, bool prune, bool drain)
{
	struct range_unload u;   /* no initializer: it would zero the arrays, which are filled before read */
	page_t *freed = NULL;

	u.hold = HMENT_HOLD_NONE;
	u.owed = 0;
	hment_frees_init(&u.frees);
	tlb_batch_init(&u.batch, h);
	if (prune)
		freed = segtab_process_prune(h, sva, eva, unload_cb, &u, drain);
	else
		segtab_process(h, sva, eva, unload_cb, &u);
	if (freed != NULL)
		u.batch.all = true;
	tlb_batch_flush(&u.batch);
	return segtab_free_list(freed);
}

/* --- loading ----------------------------------------------------------------- */

/* Leaf bits for attr at level (no frame). */
static pte_t hat_attr_pte(bool kernel, unsigned attr, unsigned level)
{
	pte_t v = PTE_P;

	MM_REQUIRE((attr & (HAT_READ | HAT_WRITE | HAT_EXEC)) != 0);
	MM_REQUIRE((attr & ~(HAT_PROT_MASK | HAT_NOCACHE | HAT_WRITETHRU | HAT_LARGE | HAT_LOCK)) == 0);
	if (attr & HAT_WRITE)
		v |= PTE_W;
	if (!(attr & HAT_EXEC))
		v |= PTE_NX;
	if (attr & HAT_USER) {
		if (kernel)
			MM_PANIC(PT_KERNEL_HALF, "HAT_USER asked for a kernel mapping");
		v |= PTE_U;
	}
	if (attr & HAT_NOCACHE)
		v |= PTE_PCD | PTE_PWT;
	else if (attr & HAT_WRITETHRU)
		v |= PTE_PWT;
	if (level == 2)
		v |= PTE_PS;
	if (attr & HAT_LOCK)
		v |= PTE_LOCKED;
	return v;
}

/* Panics unless [va, va + len) is page-aligned inside h's window (user half, or KMAP for the kernel). */
static void hat_check_range(const struct hat *h, uint64_t va, uint64_t len, const char *who)
{
	uint64_t lo = hat_is_kernel(h) ? KMAP_BASE : 0;
	uint64_t hi = hat_is_kernel(h) ? KMAP_END : USER_TOP;

	if (len == 0 || ((va | len) & (MM_PAGE_SIZE - 1)) != 0 || va < lo || va >= hi ||
	    len > hi - va)
		panic("%s: range [0x%" PRIx64 ", +0x%" PRIx64
		      ") is not page-aligned inside [0x%" PRIx64 ", 0x%" PRIx64 ")",
		      who, va, len,
		      lo, hi);
}

/*
 * Gives an existing leaf for the same frame and size the new bits,
 * keeping A/D. False when the leaf is gone or maps something else.
 */
static bool hat_refresh(struct hat *h, pte_t *pte, uint64_t va, pte_t bits)
{
	pte_t cur = pte_load(pte), nv;

	do {
		if ((cur & PTE_P) == 0 || pte_pfn(cur) != pte_pfn(bits))
			return false;
		nv = bits | (cur & (PTE_A | PTE_D));
		if (nv == cur)
			return true;
	} while (!__atomic_compare_exchange_n(pte, &cur, nv, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	tlb_flush_page(h, va);
	return true;
}

/*
 * Makes room for a level leaf `bits` at va (h's lock held). Returns true
 * when the same frame was already mapped at that size (it now has the
 * new bits); otherwise unloads whatever was there: another frame, the 2
 * MiB leaf holding va, or the 4 KiB table where a 2 MiB leaf goes. When
 * the entry was already there and empty, *freep and *ptpp name it (the
 * common case: no second walk to reserve it); else *freep is NULL.
 */
static bool hat_make_room(struct hat *h, uint64_t va, unsigned level, pte_t bits, pte_t **freep,
			  page_t **ptpp)
{
	unsigned l = level;
	page_t *ptp;
	pte_t *pte = segtab_walk(h, va, &l, &ptp);
	pte_t cur;
	uint64_t base;

	*freep = NULL;
	if (pte == NULL)
		return false;
	if (((cur = pte_load(pte)) & PTE_P) == 0) {
		/*
		 * Above the level asked for, the walk stopped at a 2 MiB leaf
		 * that another CPU's pageunload or steal has taken since: the
		 * table for va is made anew.
		 */
		if (l != level)
			return false;
		*freep = pte;
		*ptpp = ptp;
		return false;
	}
	/* a change of lock is a new mapping: its counts move with the unload and the install */
	if (l == level && (cur & PTE_PS) == (bits & PTE_PS) && pte_pfn(cur) == pte_pfn(bits) &&
	    ((cur ^ bits) & PTE_LOCKED) == 0 && hat_refresh(h, pte, va & ~(mm_level_size(l) - 1), bits))
		return true;
	base = va & ~(mm_level_size(l) - 1);
	hat_unload_locked(h, base, base + mm_level_size(l), false, false);
	if (level == 2 && !(cur & PTE_PS)) {
		/* a 4 KiB table where the 2 MiB leaf goes: let other CPUs' unloads in it finish, free it */
		hat_unload_locked(h, base, base + MM_LARGE_SIZE, true, true);
	}
	return false;
}

/*
 * Raises (delta > 0) or lowers the valid count of ptp and h's leaf count
 * by delta at once. Raised before leaves go in: a pageunload on another
 * CPU may take one of them at once, and may not find the counts below
 * what it removes.
 */
static void leaf_counts(struct hat *h, page_t *ptp, int delta)
{
	int valid;

	if (delta == 0)
		return;
	valid = __atomic_fetch_add(&ptp->p_valid, (uint16_t)delta, __ATOMIC_RELEASE) + delta;
	MM_ASSERT(PT_VALID_CNT, valid >= 0 && valid <= (int)MM_PTES);
	count(ptp->p_level == 2 ? &h->h_nmap2m : &h->h_nmap4k, delta);
}

/* leaf_install()'s answer when the leaf it copies went meanwhile: nothing installed, and no failure. */
#define LEAF_GONE 1

/*
 * True while the source leaf *src still maps the frame of `bits` (a
 * level-`level` leaf). Read under the page's list lock: a pageunload or
 * steal that took it has then finished with the page's list.
 */
static bool source_kept(const pte_t *src, pte_t bits, unsigned level)
{
	pte_t v = pte_load(src), frame = level == 2 ? PTE_LFRAME : PTE_FRAME;

	return (v & PTE_P) && ((v ^ bits) & frame) == 0;
}

/*
 * Writes leaf `bits` into the empty entry idx of the busy table ptp (a
 * steal for this very mapping leaves it alone) and puts it on its page's
 * list, whose lock hd then holds; the counts were raised for it
 * beforehand (leaf_counts). src, when not NULL, is the leaf this one
 * copies (hat_dup): checked under the list lock, so that a pageunload of
 * the page either ran before (the copy is not made: LEAF_GONE) or finds
 * the copy on the list. HAT_ERR_NOMEM when no hment could be had;
 * nothing written either way. A leaf of a tracked page takes its log
 * record's place (*seq) inside the list lock: a pageunload of the page on
 * another CPU is logged before it or after it as it ran.
 */
static int leaf_install(struct hat *h, page_t *ptp, unsigned idx, pte_t bits,
			struct hment_hold *hd, const pte_t *src, uint64_t *seq)
{
	page_t *pp = hat_tracked_page(h, bits);
	hment_t *hm = NULL;

	if (pp != NULL) {
		hment_hold(hd, pp);
		if (src != NULL && !source_kept(src, bits, ptp->p_level))
			return LEAF_GONE;
		if (hment_prepare(ptp, idx, pp, &hm) != 0)
			return HAT_ERR_NOMEM;
	}
	if (bits & PTE_LOCKED)
		locked_count(h, ptp, 1);
	pte_store(&ptp_table(ptp)[idx], bits);
	if (pp != NULL) {
		hment_assign(ptp, idx, pp, hm);
		if (cpu_count() > 1)   /* with one CPU nothing comes between: the record goes in later */
			*seq = hat_oplog_reserve();
	}
	return 0;
}

/*
 * Installs the leaf for va in the table segtab_reserve() gave (h's lock
 * held), holding the table busy meanwhile (src: as leaf_install's). When
 * nothing was installed, the tables the reserve made and left empty go
 * again: a failed memload leaves nothing behind.
 */
static int hat_fill(struct hat *h, uint64_t va, page_t *ptp, unsigned idx, pte_t bits,
		    const pte_t *src, uint64_t *seq)
{
	uint64_t size = mm_level_size(ptp->p_level);
	struct hment_hold hd = HMENT_HOLD_NONE;
	int rc;

	/* the walk found it empty: anything else is a table the counts do not describe */
	MM_ASSERT(PT_VALID_CNT, pte_load(&ptp_table(ptp)[idx]) == 0);
	ptp_busy_hold(ptp);
	leaf_counts(h, ptp, 1);
	rc = leaf_install(h, ptp, idx, bits, &hd, src, seq);
	hment_hold_end(&hd);
	if (rc != 0)
		leaf_counts(h, ptp, -1);
	ptp_busy_release(ptp);
	if (rc != 0)
		hat_unload_locked(h, va, va + size, true, false);
	return rc;
}

/*
 * segtab_reserve() found no page for a table below va: the tables it made
 * on the way down, left empty, go again (MD_PRUNE), as after hat_fill().
 */
static int hat_no_table(struct hat *h, uint64_t va, uint64_t size)
{
	hat_unload_locked(h, va, va + size, true, false);
	return HAT_ERR_NOMEM;
}

/*
 * Loads leaf `bits` at va, level 1 or 2 (h's lock held): keeps the same
 * frame's leaf (new bits), else unloads what is in the way, makes the
 * tables missing and installs it. src: the leaf it copies, or NULL; *seq:
 * its record's place when one was taken, else untouched (see
 * leaf_install). 0, LEAF_GONE or HAT_ERR_NOMEM.
 */
static int leaf_load(struct hat *h, uint64_t va, unsigned level, pte_t bits, const pte_t *src,
		     uint64_t *seq)
{
	page_t *ptp;
	pte_t *pte;

	if (hat_make_room(h, va, level, bits, &pte, &ptp))
		return 0;
	if (pte == NULL && (pte = segtab_reserve(h, va, level, &ptp)) == NULL)
		return hat_no_table(h, va, mm_level_size(level));
	return hat_fill(h, va, ptp, pte_index(pte), bits, src, seq);
}

/* shared_install()'s answer when another CPU's leaf went into the entry first. */
#define LEAF_LOST 2

/*
 * A leaf into the entry idx of ptp that was empty when walked, under h's
 * shared lock: other CPUs may be loading the same entry, so it goes in
 * by compare-and-swap (0; LEAF_LOST: theirs is there; HAT_ERR_NOMEM).
 * Its list and log place as leaf_install's, under the page's list lock.
 */
static int shared_install(struct hat *h, page_t *ptp, unsigned idx, pte_t bits, uint64_t *seq)
{
	page_t *pp = hat_tracked_page(h, bits);
	struct hment_hold hd = HMENT_HOLD_NONE;
	hment_t *hm = NULL;
	pte_t none = 0;
	int rc = 0;

	if (pp != NULL) {
		hment_hold(&hd, pp);
		if (hment_prepare(ptp, idx, pp, &hm) != 0)
			rc = HAT_ERR_NOMEM;
	}
	if (rc == 0 && !__atomic_compare_exchange_n(&ptp_table(ptp)[idx], &none, bits, false,
						    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		rc = LEAF_LOST;
	if (rc == 0 && pp != NULL) {
		hment_assign(ptp, idx, pp, hm);
		hm = NULL;
		if (cpu_count() > 1)
			*seq = hat_oplog_reserve();
	}
	hment_hold_end(&hd);
	if (hm != NULL)
		hment_free(hm);   /* outside the list lock: a free needs none */
	return rc;
}

/*
 * A page fault's load: a 4 KiB leaf, not locked, where the space has no
 * leaf yet. Many CPUs do these at once under h's shared lock: missing
 * tables go in by compare-and-swap (segtab_install: the loser frees its
 * page), the leaf too. Anything else (a leaf in the way, a 2 MiB one
 * above, no page for a table or hment, a lost race for the entry) is
 * left to the exclusive way, which decides it alone (false). seq and rc
 * as leaf_load's.
 */
static bool hat_load_shared(struct hat *h, uint64_t va, pte_t bits, uint64_t *seq, int *rc)
{
	unsigned level = 1;
	page_t *ptp;
	pte_t *pte = segtab_walk(h, va, &level, &ptp);

	if (pte == NULL && level == 1)
		pte = segtab_reserve(h, va, 1, &ptp);
	if (pte == NULL || level != 1 || pte_load(pte) != 0)
		return false;
	ptp_busy_hold(ptp);
	leaf_counts(h, ptp, 1);
	*rc = shared_install(h, ptp, pte_index(pte), bits, seq);
	if (*rc != 0)
		leaf_counts(h, ptp, -1);
	ptp_busy_release(ptp);
	return *rc == 0;
}

/* Whether a load may try the shared way: a user 4 KiB leaf, not locked (locking counts under the exclusive lock). */
static bool load_may_share(const struct hat *h, unsigned attr)
{
	return !hat_is_kernel(h) && !(attr & (HAT_LARGE | HAT_LOCK));
}

static int hat_load(struct hat *h, uint64_t va, uint64_t pfn, unsigned attr)
{
	unsigned level = (attr & HAT_LARGE) ? 2 : 1;
	uint64_t pages = mm_level_size(level) >> MM_PAGE_SHIFT;
	pte_t bits = hat_attr_pte(hat_is_kernel(h), attr, level) | (pfn << MM_PAGE_SHIFT);
	struct tlb_mark m;
	uint64_t seq = 0;
	int rc;

	hat_check_range(h, va, mm_level_size(level), "hat_memload");
	MM_REQUIRE((va & (mm_level_size(level) - 1)) == 0 && (pfn & (pages - 1)) == 0);
	MM_REQUIRE(pte_pfn(bits) == pfn);
	/* a 2 MiB frame is tracked by its first page: all of it must be managed, or none */
	MM_REQUIRE(page_pfn_managed(pfn) == page_pfn_managed(pfn + pages - 1));
	/* the kernel reaches managed pages through the direct map; KMAP mappings are on no list */
	if (hat_is_kernel(h) && page_pfn_managed(pfn))
		return HAT_ERR_KERNEL_MANAGED;
	hat_oplog_make_room();
	if (load_may_share(h, attr)) {
		bool done;

		mm_rwlock_enter_shared(&h->h_lock);
		segtab_shared_begin(h);
		m = tlb_mark(h);
		done = hat_load_shared(h, va, bits, &seq, &rc);
		if (done) {
			struct hat_op op = { .o_kind = HOP_LOAD, .o_space = h->h_id, .o_va = va,
					     .o_pfn = (uint32_t)pfn, .o_attr = (uint16_t)attr };
			log_op_at(seq, &op, h, &m);   /* in the lock: as below */
		}
		segtab_shared_end();
		mm_rwlock_exit_shared(&h->h_lock);
		if (done)
			return 0;
		seq = 0;
	}
	mm_rwlock_enter(&h->h_lock);
	m = tlb_mark(h);
	rc = leaf_load(h, va, level, bits, NULL, &seq);
	struct hat_op op = { .o_kind = HOP_LOAD, .o_space = h->h_id, .o_va = va,
			     .o_pfn = (uint32_t)pfn, .o_attr = (uint16_t)attr, .o_result = rc };
	log_op_at(seq, &op, h, &m);   /* in the lock: another CPU's hat_dup from h reads h's log in order */
	mm_rwlock_exit(&h->h_lock);
	return rc;
}

int hat_memload(struct hat *h, uint64_t va, page_t *pp, unsigned attr)
{
	MM_REQUIRE(pp >= page_array && pp < page_array + page_count);
	return hat_load(h, va, pp->p_pagenum, attr);
}

int hat_devload(struct hat *h, uint64_t va, uint64_t pfn, unsigned attr)
{
	return hat_load(h, va, pfn, attr);
}

/* --- range loads: hat_memload_array, hat_dup ------------------------------------ */

/* Leaves one range load installs under one lock hold, in one 4 KiB table, with their log records. */
#define RUN_MAX 64u
/* Log records a leaf may cost: its own, and a steal for each of the two hments a promotion takes. */
#define LEAF_RECORDS 3u

struct load_run {
	struct hat *h;
	uint64_t va[RUN_MAX];
	pte_t bits[RUN_MAX];        /* the leaf wanted: frame and attribute bits */
	const pte_t *src[RUN_MAX];  /* hat_dup: the leaf each copies; NULL otherwise */
	uint64_t gone;              /* bit k: leaf k's source went before its copy was made */
	unsigned n;
	unsigned attr[RUN_MAX];     /* for the log: the HAT attributes of each leaf */
	uint64_t seq[RUN_MAX];      /* for the log: each leaf's record's place, 0 when none was taken */
	uint64_t fail_va;           /* the leaf that could not be loaded; valid when failed */
	bool failed;
};

/* The 4 KiB table for va (made when missing), or NULL: a 2 MiB leaf is there, or no page was left (*nomem). */
static page_t *run_table(struct hat *h, uint64_t va, bool *nomem)
{
	unsigned level = 1;
	page_t *ptp;
	pte_t *pte = segtab_walk(h, va, &level, &ptp);

	*nomem = false;
	if (pte != NULL)
		return level == 1 ? ptp : NULL;
	if (segtab_reserve(h, va, 1, &ptp) == NULL) {
		*nomem = true;
		return NULL;
	}
	return ptp;
}

/* Empty entries among the run's: the leaves the fast path will install. */
static unsigned run_empty(const struct load_run *r, const page_t *ptp)
{
	const pte_t *t = ptp_table(ptp);
	unsigned n = 0;

	for (unsigned k = 0; k < r->n; k++)
		n += pte_load(&t[MM_VA_INDEX(r->va[k], 1)]) == 0;
	return n;
}

/* rc of leaf k's load: LEAF_GONE is noted (logged as nothing loaded there) and is no failure. */
static int run_note(struct load_run *r, unsigned k, int rc)
{
	if (rc != LEAF_GONE)
		return rc;
	r->gone |= 1ull << k;
	return 0;
}

/* The run's leaves one by one through leaf_load() (a 2 MiB leaf is where they go); the count loaded. */
static unsigned run_slow(struct load_run *r, int *rc)
{
	unsigned k;

	for (k = 0; k < r->n; k++)
		if ((*rc = run_note(r, k, leaf_load(r->h, r->va[k], 1, r->bits[k], r->src[k],
						    &r->seq[k]))) != 0)
			break;
	return k;
}

/*
 * The run's leaves into their table (h's lock held): empty entries by
 * leaf_install() with the counts raised once for all of them, others by
 * leaf_load(). Returns how many were loaded; *rc the first failure.
 */
static unsigned run_fill(struct load_run *r, int *rc)
{
	struct hat *h = r->h;
	struct hment_hold hd = HMENT_HOLD_NONE;
	bool nomem;
	page_t *ptp = run_table(h, r->va[0], &nomem);
	unsigned k, planned, fast = 0;
	const pte_t *t;

	*rc = 0;
	if (ptp == NULL) {
		if (nomem)
			*rc = HAT_ERR_NOMEM;
		return nomem ? 0 : run_slow(r, rc);
	}
	ptp_busy_hold(ptp);
	planned = run_empty(r, ptp);
	leaf_counts(h, ptp, (int)planned);
	t = ptp_table(ptp);
	for (k = 0; k < r->n && *rc == 0; k++) {
		unsigned idx = MM_VA_INDEX(r->va[k], 1);

		if (pte_load(&t[idx]) != 0 || fast == planned) {
			hment_hold_end(&hd);   /* the slow way takes list locks of its own */
			*rc = run_note(r, k, leaf_load(h, r->va[k], 1, r->bits[k], r->src[k],
						       &r->seq[k]));
		} else if ((*rc = leaf_install(h, ptp, idx, r->bits[k], &hd, r->src[k], &r->seq[k])) == 0) {
			fast++;
		} else {
			*rc = run_note(r, k, *rc);
		}
	}
	hment_hold_end(&hd);
	leaf_counts(h, ptp, -(int)(planned - fast));
	ptp_busy_release(ptp);
	return *rc == 0 ? k : k - 1;
}

/*
 * Loads the run (h's lock held by the caller) and logs a record per
 * leaf tried: loaded, or the failed one (nothing is mapped at it; the
 * caller unloads the range up to it, which takes emptied tables too).
 */
static void run_load(struct load_run *r)
{
	struct hat_op ops[RUN_MAX];
	struct tlb_mark m = tlb_mark(r->h);
	struct hat_op op = { .o_kind = HOP_LOAD, .o_space = r->h->h_id };
	unsigned done, n, late = 0;
	int rc;

	done = run_fill(r, &rc);
	if (rc != 0) {
		r->failed = true;
		r->fail_va = r->va[done];
	}
	n = done + (rc != 0);
	/* what the TLB saw is the run's: a flush made for one leaf is on every record */
	op_tlb_seen(&op, r->h, &m);
	/* records with a place taken go there; the others (all, with one CPU) in one append */
	for (unsigned k = 0; k < n; k++) {
		struct hat_op *o = &ops[late];

		*o = op;
		o->o_va = r->va[k];
		o->o_pfn = (uint32_t)pte_pfn(r->bits[k]);
		o->o_attr = (uint16_t)r->attr[k];
		o->o_result = k < done && !(r->gone >> k & 1) ? 0 : -1;
		if (r->seq[k] != 0)
			hat_oplog_put(r->seq[k], o);
		else
			late++;
	}
	hat_oplog_append_n(ops, late);
	r->n = 0;
	r->gone = 0;
}

/* An empty run for h; no initializer, which would zero its arrays too (filled before read). */
static void run_init(struct load_run *r, struct hat *h)
{
	r->h = h;
	r->n = 0;
	r->gone = 0;
	r->fail_va = 0;
	r->failed = false;
}

static void run_add(struct load_run *r, uint64_t va, pte_t bits, unsigned attr, const pte_t *src)
{
	r->va[r->n] = va;
	r->bits[r->n] = bits;
	r->src[r->n] = src;
	r->attr[r->n] = attr;
	r->seq[r->n] = 0;
	r->n++;
}

/* Where the run must be loaded before va can join it: full, or va in another table. */
static bool run_full(const struct load_run *r, uint64_t va)
{
	return r->n == RUN_MAX ||
	       (r->n > 0 && (r->va[0] & ~(MM_LARGE_SIZE - 1)) != (va & ~(MM_LARGE_SIZE - 1)));
}

/* Unloads what a failed range load loaded: [va, the failed leaf]. */
static int run_undo(struct hat *h, uint64_t va, const struct load_run *r)
{
	hat_unload(h, va, r->fail_va + MM_PAGE_SIZE - va);
	return HAT_ERR_NOMEM;
}

int hat_memload_array(struct hat *h, uint64_t va, uint64_t len, page_t **pps, unsigned attr)
{
	struct load_run r;
	uint64_t off = 0;
	pte_t base;

	run_init(&r, h);
	hat_check_range(h, va, len, "hat_memload_array");
	MM_REQUIRE(!hat_is_kernel(h) && (attr & HAT_LARGE) == 0);
	base = hat_attr_pte(false, attr, 1);
	while (off < len) {
		uint64_t left = (len - off) >> MM_PAGE_SHIFT;

		hat_oplog_make_room_for(LEAF_RECORDS * (unsigned)(left < RUN_MAX ? left : RUN_MAX));
		mm_rwlock_enter(&h->h_lock);
		do {
			page_t *pp = pps[off >> MM_PAGE_SHIFT];

			MM_REQUIRE(pp >= page_array && pp < page_array + page_count);
			run_add(&r, va + off, base | ((pte_t)pp->p_pagenum << MM_PAGE_SHIFT), attr, NULL);
			off += MM_PAGE_SIZE;
		} while (off < len && !run_full(&r, va + off));
		run_load(&r);
		mm_rwlock_exit(&h->h_lock);
		if (r.failed)
			return run_undo(h, va, &r);
	}
	return 0;
}

/* Leaves one lock hold of hat_dup may copy (two tables' worth): the log must have room for theirs beforehand. */
#define DUP_BUDGET (2u * MM_PTES)

/* hat_dup's walk of src: the leaves it finds go to dst through runs, both locks held. */
struct dup_arg {
	struct load_run r;
	unsigned attr;
	uint32_t copied;   /* leaves given to dst under this hold of the locks (HOP_DUP) */
};

/* The HAT attributes of leaf v copied with protection attr: its memory type is kept. */
static unsigned dup_attr(pte_t v, unsigned attr)
{
	if ((v & (PTE_PCD | PTE_PWT)) == (PTE_PCD | PTE_PWT))
		return attr | HAT_NOCACHE;
	return (v & PTE_PWT) ? attr | HAT_WRITETHRU : attr;
}

/* A 2 MiB leaf of src (at *src) into dst, logged; false when it failed. */
static bool dup_large(struct load_run *r, uint64_t va, pte_t bits, unsigned attr, const pte_t *src)
{
	struct tlb_mark m = tlb_mark(r->h);
	uint64_t seq = 0;
	int rc = leaf_load(r->h, va, 2, bits, src, &seq);
	struct hat_op op = { .o_kind = HOP_LOAD, .o_space = r->h->h_id, .o_va = va,
			     .o_pfn = (uint32_t)pte_pfn(bits), .o_attr = (uint16_t)attr,
			     .o_result = rc == 0 ? 0 : -1 };

	if (rc == LEAF_GONE)
		rc = 0;   /* logged as nothing loaded there */
	log_op_at(seq, &op, r->h, &m);
	if (rc != 0) {
		r->failed = true;
		r->fail_va = va;
	}
	return rc == 0;
}

/* One leaf of src (level 1 or 2, v read from *src) for dst; false once one failed. */
static bool dup_leaf(struct dup_arg *a, uint64_t va, pte_t v, unsigned level, const pte_t *src)
{
	unsigned attr = dup_attr(v, a->attr) | (level == 2 ? HAT_LARGE : 0);
	pte_t bits = hat_attr_pte(false, attr, level) | (v & (level == 2 ? PTE_LFRAME : PTE_FRAME));
	struct load_run *r = &a->r;

	if (r->n > 0 && (level == 2 || run_full(r, va)))
		run_load(r);
	if (r->failed)
		return false;
	if (level == 2 && !dup_large(r, va, bits, attr, src))
		return false;
	if (level == 1)
		run_add(r, va, bits, attr, src);
	a->copied++;
	return true;
}

static void dup_cb(struct hat *src, page_t *ptp, unsigned level, uint64_t va, uint64_t eva,
		   void *arg)
{
	struct ptp_scan s;
	pte_t v;
	int i;

	(void)src;
	if (level == 2) {
		check_large_cover("hat_dup", va, eva);
		pte_t *leaf = &ptp_table(ptp)[MM_VA_INDEX(va, 2)];

		if ((v = pte_load(leaf)) & PTE_P)
			dup_leaf(arg, va, v, 2, leaf);
		return;
	}
	leaf_scan_init(&s, ptp, va, eva);
	while ((i = ptp_scan_next(&s, &v)) >= 0)
		if (!dup_leaf(arg, ptp_entry_va(ptp, (unsigned)i), v, 1, &ptp_table(ptp)[i]))
			break;
	if (i >= 0)   /* the scan adds to the stats when it runs out */
		while (ptp_scan_next(&s, &v) >= 0)
			;
}

/*
 * The first va in [va, end) whose 4 KiB table (or 2 MiB leaf) src may
 * have, skipping each hole at the level it starts (a missing table
 * costs one walk, not one per 2 MiB); end when none.
 */
static uint64_t dup_skip(struct hat *src, uint64_t va, uint64_t end)
{
	while (va < end) {
		unsigned l;
		uint64_t next;

		for (l = 1; l < MM_LEVELS; l++) {
			unsigned got = l;
			page_t *ptp;

			if (segtab_walk(src, va, &got, &ptp) != NULL)
				break;
		}
		if (l == 1)
			return va;
		next = (va | (mm_level_size(l) - 1)) + 1;   /* the level-l entry is empty */
		if (next == 0 || next >= end)
			return end;
		va = next;
	}
	return end;
}

/* Both spaces' locks, the older space's first: two dups the other way round cannot deadlock. */
static void dup_lock(struct hat *a, struct hat *b, bool enter)
{
	struct hat *first = a->h_id < b->h_id ? a : b, *second = first == a ? b : a;

	if (enter) {
		mm_rwlock_enter(&first->h_lock);
		mm_rwlock_enter(&second->h_lock);
	} else {
		mm_rwlock_exit(&second->h_lock);
		mm_rwlock_exit(&first->h_lock);
	}
}

/*
 * What one hold of the locks copied: [from, to) of src, a.copied leaves
 * (MD_MISSING: never fewer than src maps there; src gains none meanwhile,
 * its lock held, and may only lose some to other CPUs' steals).
 */
static void dup_log(struct hat *dst, const struct hat *src, uint64_t from, uint64_t to, const struct dup_arg *a)
{
	hat_oplog_append((struct hat_op){ .o_kind = HOP_DUP, .o_space = dst->h_id, .o_va = from,
					  .o_len = to - from, .o_pfn = src->h_id, .o_attr = (uint16_t)a->attr,
					  .o_result = (int32_t)a->copied });
}

int hat_dup(struct hat *dst, struct hat *src, uint64_t va, uint64_t len, unsigned attr)
{
	uint64_t at = va, end = va + len;

	hat_check_range(src, va, len, "hat_dup");
	MM_REQUIRE(dst != src && !hat_is_kernel(dst) && !hat_is_kernel(src));
	MM_REQUIRE((attr & ~(HAT_PROT_MASK | HAT_LOCK)) == 0);
	while (at < end) {
		struct dup_arg a;
		uint64_t left = (end - at) >> MM_PAGE_SHIFT, from = at;

		run_init(&a.r, dst);
		a.attr = attr;
		a.copied = 0;
		hat_oplog_make_room_for(LEAF_RECORDS * (unsigned)(left < DUP_BUDGET ? left : DUP_BUDGET) + 1);
		dup_lock(dst, src, true);
		for (unsigned t = 0; t < DUP_BUDGET / MM_PTES && !a.r.failed; t++) {
			uint64_t tend;

			if ((at = dup_skip(src, at, end)) >= end)
				break;
			tend = (at | (MM_LARGE_SIZE - 1)) + 1;
			tend = tend > end || tend == 0 ? end : tend;
			segtab_process(src, at, tend, dup_cb, &a);
			at = tend;
		}
		if (a.r.n > 0 && !a.r.failed)
			run_load(&a.r);
		if (!a.r.failed)
			dup_log(dst, src, from, at, &a);
		dup_lock(dst, src, false);
		if (a.r.failed)
			return run_undo(dst, va, &a.r);
	}
	return 0;
}

void hat_unload(struct hat *h, uint64_t va, uint64_t len)
{
	struct tlb_mark m;
	unsigned freed;

	hat_check_range(h, va, len, "hat_unload");
	hat_oplog_make_room();
	mm_rwlock_enter(&h->h_lock);
	m = tlb_mark(h);
	freed = hat_unload_locked(h, va, va + len, true, false);
	struct hat_op op = { .o_kind = HOP_UNLOAD, .o_space = h->h_id, .o_va = va, .o_len = len,
			     .o_result = (int32_t)freed };
	log_op(&op, h, &m);
	mm_rwlock_exit(&h->h_lock);
}

/* hment_remove_all()'s leaf for a pageunload: the list entry goes with the rest of the list. */
static void pageunload_leaf(page_t *pp, page_t *ptp, unsigned entry, void *arg)
{
	(void)arg;
	leaf_zap(pp, ptp, entry, NULL, true);
	ptp_valid_dec(ptp);
}

/*
 * Unloads every mapping of pp; returns how many. seq gets the record's
 * place inside pp's list lock, before the first mapping goes: another
 * CPU's unload that finds one of them gone is logged after it (and a
 * load the lock let in before, before it). An unload that saw one of
 * them still there may be logged after it too: the host does not judge
 * what only such races explain (checker/check_model.c, o_cpu).
 */
static unsigned pageunload_own(page_t *pp, uint64_t *seq)
{
	struct hment_frees frees;
	unsigned n;

	hment_frees_init(&frees);
	hment_enter(pp);
	*seq = hat_oplog_reserve();
	n = hment_remove_all(pp, pageunload_leaf, NULL, &frees);
	hment_exit(pp);
	hment_free_now(&frees);
	return n;
}

/*
 * Unloads the 2 MiB mappings on lead's list (they cover pp, the page
 * being unloaded); returns how many. The walk ends at the last one its
 * group counts, and never starts without one: the list may be long with
 * 4 KiB mappings of lead alone. Logged apart from pp's own mappings
 * (HAT_LARGE), its place taken inside lead's lock: a 2 MiB load of the
 * group on another CPU, which takes its place inside that lock, is logged
 * before it or after it as it ran. Unlogged when it took no lock.
 */
static unsigned pageunload_large(page_t *lead, const page_t *pp)
{
	struct hment_frees frees;
	hment_t *hm, *prev = NULL;
	page_t *ptp;
	unsigned entry, left, n = 0;
	uint64_t seq;

	if (hment_large_peek(lead) == 0)   /* the usual case: lead's lock not taken at all */
		return 0;
	hment_frees_init(&frees);
	hment_enter(lead);
	seq = hat_oplog_reserve();
	left = hment_large_count(lead);
	while (left > 0 && (hm = hment_walk(lead, &ptp, &entry, prev)) != NULL) {
		hment_t *got;

		if (ptp->p_level != 2) {
			prev = hm;
			continue;
		}
		got = leaf_clear(lead, ptp, entry, NULL, true);
		ptp_valid_dec(ptp);
		MM_ASSERT(RM_LINKS, got == (hm == HMENT_EMBEDDED ? NULL : hm));
		if (got != NULL)
			hment_free_later(&frees, got);
		n++;
		left--;
	}
	hment_exit(lead);
	hment_free_now(&frees);
	log_put(seq, &(struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = pp->p_pagenum, .o_attr = HAT_LARGE,
				       .o_result = (int32_t)n });
	return n;
}

unsigned hat_pageunload(page_t *pp)
{
	page_t *lead = hment_large_leader(pp);
	uint64_t seq;
	unsigned n;

	hat_oplog_make_room();
	n = pageunload_own(pp, &seq);
	log_put(seq, &(struct hat_op){ .o_kind = HOP_PAGEUNLOAD, .o_pfn = pp->p_pagenum,
				       .o_result = (int32_t)n });
	if (lead != NULL)
		n += pageunload_large(lead, pp);
	return n;
}

/* --- protection, lookup, sync ------------------------------------------------- */

struct chgprot_arg {
	struct tlb_batch b;
	pte_t set;      /* new PTE_W / PTE_U / PTE_NX */
};

/* Gives one leaf the new protection (another CPU may clear it meanwhile). */
static void chgprot_leaf(pte_t *pte, uint64_t va, struct chgprot_arg *a)
{
	pte_t cur = pte_load(pte), nv;

	do {
		if ((cur & PTE_P) == 0)
			return;
		nv = (cur & ~(PTE_W | PTE_U | PTE_NX)) | a->set;
		if (nv == cur)
			return;
	} while (!__atomic_compare_exchange_n(pte, &cur, nv, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	tlb_batch_add(&a->b, va);
}

static void chgprot_cb(struct hat *h, page_t *ptp, unsigned level, uint64_t va, uint64_t eva,
		       void *arg)
{
	pte_t *t = ptp_table(ptp);
	struct ptp_scan s;
	pte_t v;
	int i;

	(void)h;
	if (level == 2) {
		check_large_cover("hat_chgprot", va, eva);
		chgprot_leaf(&t[MM_VA_INDEX(va, 2)], va, arg);
		return;
	}
	leaf_scan_init(&s, ptp, va, eva);
	while ((i = ptp_scan_next(&s, &v)) >= 0)
		chgprot_leaf(&t[i], ptp_entry_va(ptp, (unsigned)i), arg);
}

void hat_chgprot(struct hat *h, uint64_t va, uint64_t len, unsigned attr)
{
	struct chgprot_arg a;
	struct tlb_mark m;

	hat_check_range(h, va, len, "hat_chgprot");
	MM_REQUIRE((attr & ~HAT_PROT_MASK) == 0);
	a.set = hat_attr_pte(hat_is_kernel(h), attr, 1) & (PTE_W | PTE_U | PTE_NX);
	tlb_batch_init(&a.b, h);
	hat_oplog_make_room();
	mm_rwlock_enter(&h->h_lock);
	m = tlb_mark(h);
	segtab_process(h, va, va + len, chgprot_cb, &a);
	tlb_batch_flush(&a.b);
	struct hat_op op = { .o_kind = HOP_CHGPROT, .o_space = h->h_id, .o_va = va, .o_len = len,
			     .o_attr = (uint16_t)attr };
	log_op(&op, h, &m);
	mm_rwlock_exit(&h->h_lock);
}

/* Clears the lock of one leaf (another CPU may unload it meanwhile: then nothing is left to count). */
static void unlock_leaf(struct hat *h, page_t *ptp, unsigned idx)
{
	pte_t *pte = &ptp_table(ptp)[idx];
	pte_t cur = pte_load(pte);

	do {
		if ((cur & (PTE_P | PTE_LOCKED)) != (PTE_P | PTE_LOCKED))
			return;
	} while (!__atomic_compare_exchange_n(pte, &cur, cur & ~PTE_LOCKED, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	locked_count(h, ptp, -1);
}

static void unlock_cb(struct hat *h, page_t *ptp, unsigned level, uint64_t va, uint64_t eva,
		      void *arg)
{
	struct ptp_scan s;
	pte_t v;
	int i;

	(void)arg;
	if (level == 2) {
		check_large_cover("hat_memunlock", va, eva);
		unlock_leaf(h, ptp, MM_VA_INDEX(va, 2));
		return;
	}
	leaf_scan_init(&s, ptp, va, eva);
	while ((i = ptp_scan_next(&s, &v)) >= 0)
		unlock_leaf(h, ptp, (unsigned)i);
}

/* The lock bit is the MM's alone (the CPU ignores it): no TLB work, no log record. */
void hat_memunlock(struct hat *h, uint64_t va, uint64_t len)
{
	hat_check_range(h, va, len, "hat_memunlock");
	mm_rwlock_enter(&h->h_lock);
	segtab_process(h, va, va + len, unlock_cb, NULL);
	mm_rwlock_exit(&h->h_lock);
}

/* The leaf mapping va in h and its level (0 when none). */
static pte_t hat_leaf(struct hat *h, uint64_t va, unsigned *levelp)
{
	unsigned level = 1;
	page_t *ptp;
	pte_t *pte, v = 0;

	MM_REQUIRE(x86_va_canonical(va));
	mm_rwlock_enter(&h->h_lock);
	pte = segtab_walk(h, va, &level, &ptp);
	if (pte != NULL)
		v = pte_load(pte);
	mm_rwlock_exit(&h->h_lock);
	*levelp = level;
	return (v & PTE_P) ? v : 0;
}

/* hat_getpfnum() without its log record. */
static uint64_t leaf_pfnum(struct hat *h, uint64_t va)
{
	unsigned level;
	pte_t v = hat_leaf(h, va, &level);

	if (v == 0)
		return HAT_PFN_INVALID;
	if (level == 2)
		return ((v & PTE_LFRAME) >> MM_PAGE_SHIFT) + MM_VA_INDEX(va, 1);
	return pte_pfn(v);
}

uint64_t hat_getpfnum(struct hat *h, uint64_t va)
{
	uint64_t pfn;

	hat_oplog_make_room();
	pfn = leaf_pfnum(h, va);
	/* the host judges the answer against its model (MD_RESULT) */
	hat_oplog_append((struct hat_op){ .o_kind = HOP_GETPFNUM, .o_space = h->h_id, .o_va = va,
					  .o_pfn = (uint32_t)pfn,
					  .o_result = pfn == HAT_PFN_INVALID ? -1 : 0 });
	return pfn;
}

unsigned hat_getmapcnt(page_t *pp)
{
	unsigned n;

	hat_oplog_make_room();
	n = hment_mapcnt(pp);
	/* the host judges the answer against its model (MD_RESULT) */
	hat_oplog_append((struct hat_op){ .o_kind = HOP_MAPCNT, .o_pfn = pp->p_pagenum,
					  .o_result = (int32_t)n });
	return n;
}

uint64_t hat_getpte(struct hat *h, uint64_t va)
{
	unsigned level;

	return hat_leaf(h, va, &level);
}

unsigned hat_pagesync(page_t *pp, unsigned flags)
{
	hment_t *hm = NULL;
	page_t *ptp;
	unsigned entry;

	struct hat_op op = { .o_kind = HOP_PAGESYNC, .o_pfn = pp->p_pagenum, .o_attr = (uint16_t)flags };
	uint64_t local = 0, remote = 0;

	MM_REQUIRE((flags & ~HAT_SYNC_CLEAR) == 0);
	hat_oplog_make_room();
	hment_enter(pp);
	while ((hm = hment_walk(pp, &ptp, &entry, hm)) != NULL) {
		pte_t *pte = &ptp_table(ptp)[entry];
		pte_t cur = pte_load(pte);

		MM_ASSERT(RM_STALE, (cur & PTE_P) && pte_pfn(cur) == pp->p_pagenum);
		if ((flags & HAT_SYNC_CLEAR) && (cur & (PTE_A | PTE_D))) {
			struct tlb_mark m = tlb_mark(ptp->p_hat);

			while (!__atomic_compare_exchange_n(pte, &cur, cur & ~(PTE_A | PTE_D), false,
							    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				;
			tlb_flush_page(ptp->p_hat, ptp_entry_va(ptp, entry));
			/* MD_FLUSH: leaves changed, in spaces loaded on a CPU, against the flushes made */
			op.o_result++;
			op.o_loaded |= m.loaded;
			local += tlb_work_local(ptp->p_hat) - m.local;
			remote += tlb_work_remote(ptp->p_hat) - m.remote;
		}
		page_attr_merge(pp, cur);
	}
	hment_exit(pp);
	op.o_flushes = hat_oplog_flushes(local, remote);
	op.o_len = __atomic_load_n(&pp->p_attr, __ATOMIC_RELAXED);   /* MD_AD: the answer */
	hat_oplog_append(op);
	return (unsigned)op.o_len;
}

void hat_page_clrattr(page_t *pp, unsigned attr)
{
	__atomic_fetch_and(&pp->p_attr, (uint8_t)~attr, __ATOMIC_RELAXED);
}

/* --- address spaces ------------------------------------------------------------- */

struct hat *hat_create(void)
{
	struct hat *h = objcache_alloc(&hat_cache);
	page_t *top;

	if (h == NULL)
		return NULL;
	top = segtab_ptp_alloc(h, MM_LEVELS, 0);
	if (top == NULL) {
		objcache_free(&hat_cache, h);
		return NULL;
	}
	h->h_top = top;
	h->h_top_pa = page_pa(top);
	h->h_id = __atomic_add_fetch(&hat_serial, 1, __ATOMIC_RELAXED);
	/* the kernel half: entries fixed since boot, so a copy stays identical */
	segtab_top_init(top, hat_kas.h_top);
	mm_lock_enter(&hat_list_lock);
	h->h_prev = &hat_kas;
	h->h_next = hat_kas.h_next;
	if (h->h_next != NULL)
		h->h_next->h_prev = h;
	hat_kas.h_next = h;
	mm_lock_exit(&hat_list_lock);
	hat_oplog_append((struct hat_op){ .o_kind = HOP_CREATE, .o_space = h->h_id });
	return h;
}

void hat_destroy(struct hat *h)
{
	MM_REQUIRE(h != NULL && !hat_is_kernel(h));
	if (__atomic_load_n(&h->h_cpus, __ATOMIC_SEQ_CST) != 0)
		panic("hat_destroy: address space %u is still loaded (CPU mask 0x%" PRIx64 ")",
		      h->h_id, h->h_cpus);
	hat_oplog_make_room();
	mm_rwlock_enter(&h->h_lock);
	/*
	 * Drain: pageunloads and steals that cleared one of h's leaves may
	 * not be done with it; their valid-count decrement is their last
	 * access, so waiting for each table to empty replaces taking every
	 * mapping-list lock.
	 */
	hat_unload_locked(h, 0, USER_TOP, true, true);
	MM_ASSERT(ST_NMAP, h->h_nmap4k == 0 && h->h_nmap2m == 0);
	MM_ASSERT(ST_LOCKED, h->h_nlocked == 0);
	segtab_destroy(h);
	mm_rwlock_exit(&h->h_lock);

	mm_lock_enter(&hat_list_lock);
	h->h_prev->h_next = h->h_next;
	if (h->h_next != NULL)
		h->h_next->h_prev = h->h_prev;
	mm_lock_exit(&hat_list_lock);
	hat_oplog_append((struct hat_op){ .o_kind = HOP_DESTROY, .o_space = h->h_id });
	objcache_free(&hat_cache, h);
}

void hat_assert_accounted(void)
{
	uint64_t listed = 0, out = __atomic_load_n(&hat_cache.oc_inuse, __ATOMIC_RELAXED);

	mm_lock_enter(&hat_list_lock);
	for (const struct hat *h = hat_list; h != NULL; h = h->h_next)
		listed += h != &hat_kas;
	mm_lock_exit(&hat_list_lock);
	if (out != listed)
		MM_PANIC(OC_LEAK, "the address-space cache has %" PRIu64 " out, %" PRIu64
			 " are on hat_list besides hat_kas", out, listed);
	hment_assert_accounted();
}

/* --- the kernel address space ----------------------------------------------------- */

/* All RAM at DIRECT_MAP_BASE + pa: 2 MiB leaves, 4 KiB ones for a ragged end. */
static void kas_map_direct(uint64_t top, uint64_t ram_size)
{
	uint64_t large_end = ram_size & ~(MM_LARGE_SIZE - 1), pa;

	for (pa = 0; pa < large_end; pa += MM_LARGE_SIZE)
		segtab_boot_map(top, DIRECT_MAP_BASE + pa, 2, pa | PTE_P | PTE_W | PTE_PS | PTE_NX);
	for (; pa + MM_PAGE_SIZE <= ram_size; pa += MM_PAGE_SIZE)
		segtab_boot_map(top, DIRECT_MAP_BASE + pa, 1, pa | PTE_P | PTE_W | PTE_NX);
}

/* One piece of the kernel image at KERNEL_BASE + pa, 4 KiB leaves. */
static void kas_map_image(uint64_t top, uint64_t ram_size, const struct hat_kseg *seg)
{
	uint64_t start = seg->pa_start & ~(MM_PAGE_SIZE - 1);
	uint64_t end = (seg->pa_end + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
	pte_t bits = hat_attr_pte(true, seg->attr, 1);

	if (start >= end || end > ram_size || end > ~KERNEL_BASE + 1)
		panic("hat_kernel_init: image piece [0x%" PRIx64 ", 0x%" PRIx64
		      ") is not inside RAM",
		      seg->pa_start, seg->pa_end);
	for (uint64_t pa = start; pa < end; pa += MM_PAGE_SIZE)
		segtab_boot_map(top, KERNEL_BASE + pa, 1, pa | bits);
}

void hat_kernel_init(uint64_t ram_size, uint64_t first_free_pa,
		     const struct hat_kseg *segs, unsigned nsegs)
{
	uint64_t top;

	MM_REQUIRE(ram_size >= GUEST_RAM_MIN && ram_size <= MM_RAM_MAX);
	page_boot_begin(ram_size, first_free_pa);
	top = page_boot_alloc(1);
	kas_map_direct(top, ram_size);
	mm_boot_install_pml4e(MM_PML4_KERNEL,
			      ((pte_t *)mm_boot_ptr(top))[MM_VA_INDEX(DIRECT_MAP_BASE, 4)]);
	(void)segtab_boot_table(top, KMAP_BASE, 3);   /* the KMAP PML4 entry, fixed from now on */
	for (unsigned i = 0; i < nsegs; i++)
		kas_map_image(top, ram_size, &segs[i]);

	/* pa_to_kva() works from here on */
	hment_init(ram_size >> MM_PAGE_SHIFT);
	hat_oplog_init();
	page_init();
	segtab_init();
	hat_kas = (struct hat){
		.h_top = page_from_pa(top), .h_top_pa = top, .h_flags = HAT_F_KERNEL,
	};
	segtab_adopt(&hat_kas);
	hat_list = &hat_kas;
	hat_list_lock = (struct mm_lock){ 0, 0 };
	hat_serial = 0;
	tlb_reset();
	/* whole cache lines: CPUs at work in different spaces share none of a space's lock and counts */
	objcache_init(&hat_cache, "hat", (sizeof(struct hat) + MM_CACHE_LINE - 1) & ~(MM_CACHE_LINE - 1));
}
