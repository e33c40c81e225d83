/* SPDX-License-Identifier: BSD-2-Clause */
/* One timed pass over the hosted MM's operations: at a working-set size, or with N address spaces sharing one working set. */
#ifndef BENCH_MM_RUNS_H
#define BENCH_MM_RUNS_H

/* Operations timed at each working-set size; ns per the unit op_size_unit[] names. */
enum size_op {
	SZ_LOAD_FIRST,      /* memload, a page's first mapping */
	SZ_LOAD_THIRD,      /* memload, a page's 3rd mapping (an hment) */
	SZ_PAGESYNC,        /* pagesync with HAT_SYNC_CLEAR of a page mapped 3 times */
	SZ_CHGPROT,         /* chgprot of a range to read-only */
	SZ_SHARE,           /* create a space and map every page into it (4th mapping) */
	SZ_UNLOAD,          /* unload of a range */
	SZ_DESTROY_FULL,    /* destroy of a space mapping the whole working set */
	SZ_PAGEUNLOAD,      /* pageunload of pages mapped twice */
	SZ_DESTROY_SPARSE,  /* destroy of a space with 16 pages spread over 512 GiB */
	SZ_STEAL,           /* memload that must steal an hment (limit reached) */
	SZ_LARGE,           /* page_alloc_large + 2 MiB memload */
	SZ_ARRAY_FIRST,     /* hat_memload_array, a page's first mapping */
	SZ_ARRAY_THIRD,     /* hat_memload_array, a page's 3rd mapping (an hment) */
	SZ_DUP,             /* create a space and hat_dup a populated one into it (4th mapping) */
	SZ_NOPS
};

extern const char *const size_op_name[SZ_NOPS];
extern const char *const size_op_unit[SZ_NOPS];

/* Operations timed at each number of address spaces sharing one working set. */
enum spaces_op {
	SP_SHARE,           /* map every page into one more space */
	SP_PAGESYNC,        /* pagesync of every page */
	SP_UNLOAD,          /* unload of the newest space's range */
	SP_PAGEUNLOAD,      /* pageunload of every page */
	SP_PAGEUNLOAD_GROUP,/* pageunload of pages mapped once, their 2 MiB group's first page by every space */
	SP_NOPS
};

extern const char *const spaces_op_name[SP_NOPS];
extern const char *const spaces_op_unit[SP_NOPS];

/* Extra figures of one spaces run. */
struct spaces_extra {
	double hment_bytes_per_mapping;   /* hments in use x sizeof, per mapping */
	double page_t_bytes_per_mapping;  /* sizeof(page_t) shared by the page's mappings */
};

/* The largest working set, in pages: 4 GiB, in 5 GiB of hosted RAM (the MM manages up to MM_RAM_MAX). */
#define MM_RUNS_MAX_PAGES 1048576ul

/* What the steal op did in one size run: work counts, free of the host's timing noise. */
struct steal_work {
	unsigned long steals;     /* steals the timed loads made */
	double steps_per_steal;   /* steal-index steps (hment_stats.steal_exam) per steal */
};

/* Boots the hosted MM with RAM for `pages` of working set and times every size_op once; ns into ns[]. */
void mm_size_run(unsigned long pages, double ns[SZ_NOPS], struct steal_work *steal);

/* Boots the hosted MM, maps `pages` pages into `nspaces` spaces, times every spaces_op once. */
void mm_spaces_run(unsigned long pages, unsigned nspaces, double ns[SP_NOPS],
		   struct spaces_extra *extra);

/*
 * Steady state: `cycles` times, maps the working set into three new
 * spaces (hat_memload_array each) and pageunloads every page. ns per
 * mapping of each cycle's loads into load_ns[c], of its pageunloads into
 * pageunload_ns[c]: a later cycle finds the hments that the earlier
 * ones freed, in the order they were freed.
 */
void mm_churn_run(unsigned long pages, unsigned cycles, double load_ns[], double pageunload_ns[]);

/* Threads a parallel run may have. */
#define MM_PARALLEL_MAX 8u

/*
 * `threads` CPUs at once (threads, each with its CPU id), each on
 * `spaces` (1 or 2) spaces and `pages` pages of its own, `cycles` times:
 * create the spaces, memload every page into each (with 2, every page
 * gets a mapping list: two hments), chgprot the first to read-only,
 * unload it, destroy them. Wall-clock ns per page-cycle of all of them
 * together: with perfect scaling, 1/threads of one thread's.
 */
double mm_parallel_run(unsigned threads, unsigned spaces, unsigned long pages, unsigned cycles);

/* sizeof(struct hment) and sizeof(page_t), for the metadata figures. */
unsigned long mm_hment_size(void);
unsigned long mm_page_t_size(void);

#endif
