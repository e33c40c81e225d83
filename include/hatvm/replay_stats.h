/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay's figures as guest and host share them: the engine counts them, the host reads them from guest memory at exit for the JSON report. */
#ifndef HATVM_REPLAY_STATS_H
#define HATVM_REPLAY_STATS_H

#include <stdint.h>

#include "hatvm/trace.h"

/* longest_obj of a MAP_SHARED anonymous object: this bit | its serial (never a trace file index). */
#define REPLAY_OBJ_SHM (1ull << 32)

/* Only 64-bit words: the host reads the guest's copy with one layout on both sides. */
struct replay_stats {
	uint64_t events;
	uint64_t by_kind[TR_KIND_MAX + 1];
	uint64_t processes;        /* processes seen (fork, first event) */
	uint64_t execs;
	uint64_t vforks;           /* forks whose child borrowed its parent's memory (TR_FORK_VM) */
	uint64_t faults_read, faults_write, faults_exec;   /* recorded faults replayed, by access */
	/* what the replay's faults did */
	uint64_t zero_fill;        /* anonymous page on first touch */
	uint64_t file_hit;         /* a page-cache page mapped */
	uint64_t file_miss;        /* a page read into the page cache */
	uint64_t cow_copies;       /* a write to a page shared after fork copied it */
	uint64_t cow_file;         /* a write to a private file page copied it */
	uint64_t swap_in;          /* an anonymous page "swapped" out came back */
	uint64_t upgrades;         /* a write to a sole-owner page made it writable */
	uint64_t no_fault;         /* the access found its page mapped: no fault */
	uint64_t trace_errors;     /* malformed events and faults no region allows */
	uint64_t err_noregion, err_prot, err_event;
	uint64_t reclaimed;        /* pages taken back by the clock */
	uint64_t swapped_out, dropped_clean, written_back;
	uint64_t steals;           /* hments stolen while replaying */
	uint64_t hments_peak;
	uint64_t shared_pages;     /* most pages with two or more mappings at a sample */
	uint64_t longest_list;     /* most mappings of one page at a sample */
	uint64_t longest_obj, longest_pgoff;   /* that page: file index (or REPLAY_OBJ_SHM | n) and page offset */
	uint64_t longest_anon;     /* 1: ... or a private anonymous page */
	uint64_t mappings_peak;    /* most tracked mappings at a sample */
	uint64_t bytes_per_mapping_x100;   /* hment bytes per mapping at that sample, x100 */
	uint64_t checkpoints;
	uint64_t oom;              /* accesses given up: nothing left to reclaim */
	uint64_t internal_errors;  /* the engine found its own books wrong (must stay 0) */
};

#define REPLAY_RESULT_MAGIC   0x544c5352504c5248ull   /* "HRLPRSLT" */
#define REPLAY_RESULT_VERSION 2u   /* 2: vforks */
#define REPLAY_RESULT_SYMBOL  "replay_result"

/*
 * The guest's global `replay_result`: magic and version set once the
 * replay has finished (else the host reports none); the figures, the
 * replay's time in TSC cycles and, of that, the time spent in checkpoints
 * (the host's checks: the vCPUs wait for them), with the TSC rate the
 * guest was told.
 */
struct replay_result {
	uint64_t magic;
	uint64_t version;
	uint64_t size;             /* sizeof(struct replay_result) */
	uint64_t tsc_cycles;
	uint64_t checkpoint_cycles;
	uint64_t tsc_khz;          /* 0: unknown */
	struct replay_stats st;
};

#endif
