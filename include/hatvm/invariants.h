/* SPDX-License-Identifier: BSD-2-Clause */
/* The invariant catalogue: one table for guest ASSERTs, checker, injector, docs and tests. */
#ifndef HATVM_INVARIANTS_H
#define HATVM_INVARIANTS_H

/* X(ID, "holds when ...") — the order fixes each ID's bit in inject masks. */
#define HATVM_INVARIANTS(X) \
	X(PT_PTP_RANGE,   "every present non-leaf entry points inside guest RAM") \
	X(PT_PTP_OWNER,   "a non-leaf entry points at a page-table page of the next level owned by that address space; a space's walk hint (h_hint) is NULL or one of its own user 4 KiB tables") \
	X(PT_RSVD,        "no reserved bit is set; PS only where the level allows it") \
	X(PT_LARGE_ALIGN, "2 MiB / 1 GiB leaves have aligned frame numbers") \
	X(PT_VALID_CNT,   "a table page's recorded valid count equals its present entries") \
	X(PT_KERNEL_HALF, "the kernel half is identical in every address space and never user-accessible") \
	X(RM_MISSING,     "every present leaf PTE mapping a managed page is on that page's mapping list") \
	X(RM_STALE,       "every list entry / embedded mapping names a present PTE that maps this page") \
	X(RM_EMBED,       "embedded => p_share == 0 and p_mapping names a table page; empty => no embed, no share") \
	X(RM_SHARE,       "p_share equals the list length, >= 1 when not embedded") \
	X(RM_LINKS,       "next->prev == self; the head's prev is NULL; no cycle") \
	X(RM_PFN,         "every hment's pfn equals its page's") \
	X(RM_DUP,         "no (table page, entry) pair appears twice") \
	X(HS_BUCKET,      "every hment of a list longer than HMENT_SHORT_LIST is in exactly the bucket its hash names; no hment of a shorter list is hashed") \
	X(HS_ORPHAN,      "the hash holds nothing that is not on a page's list; each stripe's count equals what its buckets hold, and the counts add up to the hments on lists longer than HMENT_SHORT_LIST") \
	X(RS_COUNT,       "the reserve count equals the reserve list's length; no reserved hment is in use") \
	X(ST_FREE_ZERO,   "table pages on free lists are all zero and referenced by no table; the table-page cache holds at most its maximum") \
	X(ST_ACCOUNT,     "table pages owned by an address space equal those reachable from its top") \
	X(LK_QUIESCENT,   "no MM lock is held at a checkpoint: mapping-list, hash, space, reserve, table-cache, page-pool, hat_list and log locks") \
	X(MD_LOG,         "the HAT operation log is well formed: counters in order, records numbered consecutively, fields in range, none dropped (ol_lost never grows)") \
	X(MD_EXTRA,       "every present user leaf is a mapping the HAT was asked for (by the operation log)") \
	X(MD_MISSING,     "every mapping the HAT was asked for and not asked to remove is present, with its page and size; a hat_dup copied at least the leaves its source kept mapped in the range throughout") \
	X(MD_ATTR,        "every mapping has the protection and cache bits it was asked for") \
	X(MD_FLUSH,       "an operation that removed or changed a mapping of a space loaded on CPUs flushed their TLBs: this CPU's by INVLPG or a full flush, the others' by a shootdown (an unload's or chgprot's covering a page per translation); an unload that freed table pages flushed too, the others' TLBs wholly") \
	X(PT_NONLEAF,     "a non-leaf entry has P and W, U in the user half only, no NX, PCD or PWT: the leaf alone decides protection and memory type") \
	X(PT_MEMTYPE,     "every user mapping of one managed page has the same memory type (PAT, PCD, PWT bits)") \
	X(ST_NMAP,        "h_nmap4k / h_nmap2m equal the space's present 4 KiB / 2 MiB leaves (user half; hat_kas: its KMAP window)") \
	X(PG_FREE_COUNT,  "the allocator's free count equals the pages on its per-block free lists and the pages marked free; each block is on the list its count calls for") \
	X(PG_INUSE,       "free + in use pages equal the managed pages; in use never exceeds the cap (page_set_limit's, plus the kernel tables' emergency reserve); kernel and user pages stay under the cap less the reserve, tables past it only as many as the reserve served; page_free_large gives back its whole block (by the operation log)") \
	X(PT_WALK_AGREE,  "the host's page-table walker and the CPU (KVM_TRANSLATE) translate every sampled address alike") \
	X(ST_LOCKED,      "h_nlocked and each table page's p_lockcnt equal their present locked leaves: a locked mapping leaves only by an unload, never by a steal") \
	X(RM_LISTED,      "the steal index agrees with the mapping lists: a page's bit is set iff it has a list (not embedded), each summary bit is set iff the word it stands for (64, then 4 096 pages) is not zero, and each 2 MiB group of frames counts the present 2 MiB leaves that map it") \
	X(MD_RESULT,      "hat_getpfnum answers with the frame the model maps at that VA (inside a 2 MiB mapping: its subpage), or none; hat_getmapcnt with the mappings the model holds of that page (its 4 KiB ones and the 2 MiB ones covering it)") \
	X(RS_TARGET,      "once settled (hment_reserve_fill / hment_adjust_reserve), the reserve holds at most its target plus the fill's extra, and less than its target only while the hment cache is at its cap") \
	X(MD_AD,          "accessed/dirty information is never lost: a leaf keeps its A/D bits (or hands them to its page's p_attr) until a pagesync clears them, and pagesync returns at least the bits its page's leaves held") \
	X(PT_DIRTY_ACCESSED, "a present leaf with D (dirty) set has A (accessed) set: the CPU sets A with D, and only pagesync clears them, both at once and with a flush") \
	X(MD_PRUNE,       "a range unload, and a memload that failed, leave no empty table of their user space across their range: the tables they emptied or made are freed (by the operation log)") \
	X(OC_LEAK,        "the MM's object caches account for every object out: each hment is on a page's mapping list or on the reserve (an orphan on a hash chain counts as found; HS_ORPHAN reports it), each address space on hat_list; none leaked, none counted out that is not; the CPUs' counts of hments on short lists add up to what those lists hold") \
	X(OC_FREE,        "every free object of an object cache can be handed out: the pages on its partial list hold all of oc_nfree, each some, on a sound free list (object boundaries inside the page, no loop, os_nfree long, the cache's size), its partial-list tail is the list's last page, and oc_nidle of its pages are wholly free; each CPU's list (oc_cpus) is a sound free list of one page of the cache, oa_count long; no object is on two lists at once") \
	X(ST_CPUS,        "each address space's CPU set (h_cpus) names exactly the CPUs whose loaded space (hat_cpu) it is, and every loaded space is on hat_list: the set every TLB flush and shootdown goes by") \
	X(TLB_STALE,      "no CPU's TLB can hold a translation older than its loaded space's and the kernel's generation: a change flushed on CPUs that had the space loaded advanced its generation (h_tlb_gen), and every such CPU has since flushed up to it (hat_tlb_flushed) by an invalidation run there: INVLPG of the change's pages when it was the next generation, a full flush, or a CR3 load")

enum invariant_id {
#define HATVM_INV_ENUM(id, text) INV_##id,
	HATVM_INVARIANTS(HATVM_INV_ENUM)
#undef HATVM_INV_ENUM
	INV_COUNT
};

#endif
