/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay engine's state: processes, regions, anonymous pages, the page cache and page owners. Engine files only (replay.h includes it for struct replay's size). */
#ifndef GUEST_REPLAY_STATE_H
#define GUEST_REPLAY_STATE_H

#include "objcache.h"
#include "parray.h"

/* A page-cache object: a trace file index, or a MAP_SHARED anonymous region (shared memory). */
#define ROBJ_NONE UINT64_MAX
#define ROBJ_SHM  REPLAY_OBJ_SHM   /* | serial: shared anonymous memory, never a trace file */

/* A region (VMA): [start, end) of one process, page-aligned. */
struct rvma {
	struct rvma *next;     /* sorted by start */
	uint64_t start, end;
	uint64_t obj;          /* shared: the page-cache object; private: its file or ROBJ_NONE */
	uint64_t pgoff;        /* page offset into obj of start */
	uint16_t prot;         /* TR_PROT_* */
	uint8_t flags;         /* TR_MAP_* */
	bool anon_pages;       /* an anonymous page was made here (Linux: the VMA has an anon_vma) */
};

/* An anonymous page's identity, shared by every process that has it copy-on-write. */
struct ranon {
	uint32_t ref;          /* slots naming it */
	uint32_t pfn;          /* its page, 0 while "swapped out" */
};

/* One process's anonymous page at vpn: on a hash chain and on the process's list. */
struct rslot {
	struct rslot *hnext;
	struct rslot *pnext, *pprev;
	uint64_t vpn;
	struct ranon *anon;
	uint32_t proc_id;
};

/* A page-cache page: (obj, pgoff) -> pfn. */
struct rcache {
	struct rcache *hnext;
	uint64_t obj, pgoff;
	uint32_t pfn;
};

/*
 * A process: its address space, regions and anonymous pages. A vfork
 * child has none of its own: it plays its events on its lender's until
 * it execs or exits. A lender that exits first stays, memory only, for
 * its borrowers.
 */
struct rproc {
	struct rproc *next;    /* every live process, newest first */
	struct rproc *lender;  /* a vfork child: whose memory it uses; else NULL */
	uint32_t borrowers;    /* vfork children using this one's memory */
	bool exited;           /* its process is gone; its memory stays for borrowers */
	struct hat *hat;
	struct rvma *vmas;
	struct rvma *hint;     /* last region found */
	struct rslot *slots;   /* its anonymous pages */
	uint64_t nslots;
	uint64_t brk_start, brk_end;   /* page-aligned heap; brk_start 0: unknown yet */
	uint32_t pid, id;      /* id: unique for the run, pids are reused */
};

/* Page owner words (parray `owners`, by pfn): the owner's pointer | its kind. */
#define ROWN_ANON  0x1ull
#define ROWN_CACHE 0x2ull
#define ROWN_KIND  0x3ull

#define REPLAY_PINS 4

struct replay {
	struct replay_seam seam;
	struct replay_config cfg;
	struct replay_stats st;
	struct objcache procs_oc, vmas_oc, anons_oc, slots_oc, cache_oc;
	struct parray pids;     /* pid -> struct rproc * */
	struct parray slot_hash, cache_hash;   /* chain heads */
	uint64_t hash_mask;     /* buckets - 1 */
	struct parray owners;   /* pfn -> owner word */
	struct rproc *live;
	uint64_t hand;          /* the clock */
	uint64_t pins[REPLAY_PINS];   /* pfns reclaim must leave alone (0: free slot) */
	uint64_t steals_base;
	uint64_t next_shm;
	uint32_t next_id;
};

#endif
