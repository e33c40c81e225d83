/* SPDX-License-Identifier: BSD-2-Clause */
/* Builds the JSON report's "replay" object from the guest's replay figures. */
#include "report_replay.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[TR_KIND_MAX + 1] = {
	[TR_FORK] = "fork", [TR_EXEC] = "exec", [TR_EXIT] = "exit", [TR_MMAP] = "mmap",
	[TR_MUNMAP] = "munmap", [TR_MPROTECT] = "mprotect", [TR_MREMAP] = "mremap",
	[TR_BRK] = "brk", [TR_DONTNEED] = "dontneed", [TR_FAULT] = "fault",
};

static json_t *count(uint64_t n)
{
	return json_integer(n > (uint64_t)LLONG_MAX ? LLONG_MAX : (json_int_t)n);
}

static json_t *by_kind(const struct replay_stats *st)
{
	json_t *j = json_object();

	for (unsigned k = 1; j && k <= TR_KIND_MAX; k++)
		if (json_object_set_new(j, kind_names[k], count(st->by_kind[k]))) {
			json_decref(j);
			return NULL;
		}
	return j;
}

/* A trace's path as printable ASCII: it comes from the recording machine, its bytes may be anything. */
static json_t *printable(const char *path)
{
	char *copy;
	json_t *j;

	if (path == NULL)
		return json_null();
	copy = strdup(path);
	if (copy == NULL)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static const char *longest_kind(const struct replay_stats *st)
{
	if (st->longest_list == 0)
		return "none";
	if (st->longest_anon)
		return "anon";
	return st->longest_obj & REPLAY_OBJ_SHM ? "shm" : "file";
}

/* The page with the most mappings: how many, and whose page it is (file index, path, byte offset). */
static json_t *longest_list(const struct replay_stats *st, const char *path)
{
	const char *kind = longest_kind(st);
	bool file = strcmp(kind, "file") == 0, shm = strcmp(kind, "shm") == 0;

	return json_pack("{s:o, s:s, s:o, s:o, s:o}",
			 "mappings", count(st->longest_list),
			 "kind", kind,
			 "file", file ? count(st->longest_obj) : shm ? count(st->longest_obj & 0xffffffffu)
								      : json_null(),
			 "path", file ? printable(path) : json_null(),
			 "offset", file || shm ? count(st->longest_pgoff << 12) : json_null());
}

/* The guest's replay time, checkpoints (the host's checks) apart; null without a TSC rate. */
static json_t *timing(const struct replay_result *res)
{
	double ms, check_ms;

	if (res->tsc_khz == 0)
		return json_null();
	ms = (double)res->tsc_cycles / (double)res->tsc_khz;
	check_ms = (double)res->checkpoint_cycles / (double)res->tsc_khz;
	return json_pack("{s:f, s:f, s:f}",
			 "ms", ms,
			 "checkpoint_ms", check_ms,
			 "events_per_s", ms > check_ms ? (double)res->st.events / ((ms - check_ms) / 1e3) : 0.0);
}

json_t *report_replay_json(const struct replay_result *res, const char *path)
{
	const struct replay_stats *st = &res->st;

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o, s:{s:o, s:o, s:o, s:o}, s:o, s:o, s:{s:o, s:o, s:o, s:o}, s:o,"
			 " s:o, s:o, s:f, s:o, s:o, s:o, s:o}",
			 "events", count(st->events),
			 "events_by_kind", by_kind(st),
			 "processes", count(st->processes),
			 "execs", count(st->execs),
			 "vforks", count(st->vforks),
			 "faults",
			 "total", count(st->faults_read + st->faults_write + st->faults_exec),
			 "read", count(st->faults_read),
			 "write", count(st->faults_write),
			 "exec", count(st->faults_exec),
			 "zero_fill", count(st->zero_fill),
			 "file_hit", count(st->file_hit),
			 "file_miss", count(st->file_miss),
			 "cow_copies", count(st->cow_copies),
			 "cow_file", count(st->cow_file),
			 "swap_in", count(st->swap_in),
			 "upgrades", count(st->upgrades),
			 "no_fault", count(st->no_fault),
			 "trace_errors",
			 "total", count(st->trace_errors),
			 "region", count(st->err_noregion),
			 "prot", count(st->err_prot),
			 "event", count(st->err_event),
			 "pages_shared", count(st->shared_pages),
			 "longest_list", longest_list(st, path),
			 "reclaimed",
			 "total", count(st->reclaimed),
			 "swapped", count(st->swapped_out),
			 "dropped", count(st->dropped_clean),
			 "written", count(st->written_back),
			 "steals", count(st->steals),
			 "hments_peak", count(st->hments_peak),
			 "mappings_peak", count(st->mappings_peak),
			 "bytes_per_mapping", (double)st->bytes_per_mapping_x100 / 100.0,
			 "checkpoints", count(st->checkpoints),
			 "oom", count(st->oom),
			 "internal_errors", count(st->internal_errors),
			 "time", timing(res));
}
