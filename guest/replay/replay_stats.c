/* SPDX-License-Identifier: BSD-2-Clause */
/* The replay's statistics: samples of sharing and metadata, and the one `replay:` line. */
#include "replay_int.h"

void replay_note_hments(struct replay *r)
{
	uint64_t in_use = hment_cache_inuse();

	if (in_use > r->st.hments_peak)
		r->st.hments_peak = in_use;
}

void replay_note_list(struct replay *r, page_t *pp, uint64_t obj, uint64_t pgoff, bool anon)
{
	unsigned n = hment_mapcnt(pp);

	if (n <= r->st.longest_list)
		return;
	r->st.longest_list = n;
	r->st.longest_obj = obj;
	r->st.longest_pgoff = pgoff;
	r->st.longest_anon = anon;
}

/* Where an engine page comes from, for the longest list. */
static void note_owner(struct replay *r, page_t *pp, uint64_t owner)
{
	if ((owner & ROWN_KIND) == ROWN_CACHE) {
		const struct rcache *c = (const struct rcache *)(uintptr_t)(owner & ~ROWN_KIND);
		replay_note_list(r, pp, c->obj, c->pgoff, false);
	} else {
		replay_note_list(r, pp, ROBJ_NONE, 0, true);
	}
}

void replay_sample(struct replay *r)
{
	uint64_t shared = 0, mappings = 0, owner;

	/* only the pages the engine owns: a walk of every pfn would cost O(RAM) a sample */
	for (uint64_t pfn = parray_next(&r->owners, page_first_managed, &owner); pfn < page_count;
	     pfn = parray_next(&r->owners, pfn + 1, &owner)) {
		page_t *pp = page_from_pfn(pfn);
		unsigned n = hment_mapcnt(pp);
		mappings += n;
		shared += n >= 2;
		note_owner(r, pp, owner);
	}
	if (shared > r->st.shared_pages)
		r->st.shared_pages = shared;
	if (mappings > r->st.mappings_peak) {
		r->st.mappings_peak = mappings;
		r->st.bytes_per_mapping_x100 = hment_cache_inuse() * sizeof(struct hment) * 100 / mappings;
	}
	replay_note_hments(r);
}

/* "file:F+0xOFF", "shm:N+0xOFF" or "anon": where the longest list's page belongs. */
static void format_longest(const struct replay_stats *st, char *buf, unsigned long size)
{
	if (st->longest_list == 0 || st->longest_anon)
		ksnprintf(buf, size, "%s", st->longest_list ? "anon" : "none");
	else if (st->longest_obj & ROBJ_SHM)
		ksnprintf(buf, size, "shm:%" PRIu64 "+0x%" PRIx64, st->longest_obj & 0xffffffffu,
			  st->longest_pgoff << MM_PAGE_SHIFT);
	else
		ksnprintf(buf, size, "file:%" PRIu64 "+0x%" PRIx64, st->longest_obj,
			  st->longest_pgoff << MM_PAGE_SHIFT);
}

void replay_format(const struct replay *r, char *buf, unsigned long size)
{
	const struct replay_stats *st = &r->st;
	char where[48];

	format_longest(st, where, sizeof(where));
	ksnprintf(buf, size,
		  "replay: events=%" PRIu64 " processes=%" PRIu64 " execs=%" PRIu64 " vforks=%" PRIu64
		  " faults=%" PRIu64 " (read=%" PRIu64 " write=%" PRIu64 " exec=%" PRIu64 ")"
		  " zero_fill=%" PRIu64 " file_hit=%" PRIu64 " file_miss=%" PRIu64
		  " cow_copies=%" PRIu64 " cow_file=%" PRIu64 " swap_in=%" PRIu64 " upgrades=%" PRIu64
		  " no_fault=%" PRIu64 " trace_errors=%" PRIu64 " (region=%" PRIu64 " prot=%" PRIu64
		  " event=%" PRIu64 ") pages_shared=%" PRIu64 " longest_list=%" PRIu64 " at=%s"
		  " reclaimed=%" PRIu64 " (swapped=%" PRIu64 " dropped=%" PRIu64 " written=%" PRIu64 ")"
		  " steals=%" PRIu64 " hments_peak=%" PRIu64 " bytes_per_mapping=%" PRIu64 ".%02" PRIu64
		  " checkpoints=%" PRIu64 " oom=%" PRIu64,
		  st->events, st->processes, st->execs, st->vforks,
		  st->faults_read + st->faults_write + st->faults_exec, st->faults_read,
		  st->faults_write, st->faults_exec, st->zero_fill, st->file_hit, st->file_miss,
		  st->cow_copies, st->cow_file, st->swap_in, st->upgrades, st->no_fault,
		  st->trace_errors, st->err_noregion, st->err_prot, st->err_event, st->shared_pages,
		  st->longest_list, where, st->reclaimed, st->swapped_out, st->dropped_clean,
		  st->written_back, st->steals, st->hments_peak, st->bytes_per_mapping_x100 / 100,
		  st->bytes_per_mapping_x100 % 100, st->checkpoints, st->oom);
}
