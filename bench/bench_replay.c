/* SPDX-License-Identifier: BSD-2-Clause */
/* Replay of the shipped traces on the hosted MM: events per second, natively, and what a check costs beside the work it checks. */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_table.h"
#include "bench_util.h"
#include "hat_model.h"
#include "hosted_check.h"
#include "hosted_platform.h"
#include "replay_hosted_seam.h"
#include "replay_int.h"
#include "trace_read.h"

#define RAM         (256ull << 20)
#define CHECK_EVERY 1000u
#define MAX_TRACES  16
#define RUNS        5

static struct replay r;

/* Check time and items of the checks one run made. */
static struct {
	double ms;
	double items;
	unsigned n, violations;
} checks;

static void timed_check(void)
{
	struct seen s;

	hmm_check(&s);
	checks.ms += s.ms;
	checks.items += (double)check_stats_items(&s.stats);
	checks.n++;
	checks.violations += s.returned;
}

static void on_checkpoint(void *ctx, const char *what)
{
	(void)ctx;
	(void)what;
	timed_check();
}

/*
 * Replays path once on a fresh MM: with `checked`, the host model attached
 * and a check every CHECK_EVERY events; without, no check at all. Returns
 * the replay's CPU seconds (checks excluded), or NAN when the trace fails.
 */
static double replay_once(const char *path, bool checked, struct hat_model *model, uint64_t *events)
{
	char err[1024];
	struct trace *t = trace_open(path, err, sizeof(err));
	struct trace_event ev;
	double t0, cpu;
	int rc;

	if (t == NULL) {
		fprintf(stderr, "bench_replay: %s\n", err);
		return NAN;
	}
	checker_use_model(checked ? model : NULL);
	mm_hosted_oplog_hook = checked ? timed_check : NULL;
	mm_hosted_boot(RAM);
	struct replay_seam seam = replay_hosted_seam(checked ? on_checkpoint : NULL, NULL);
	struct replay_config cfg = { .check_every = checked ? CHECK_EVERY : 0,
				     .files = trace_header(t)->files };
	if (!replay_init(&r, &seam, &cfg)) {
		fprintf(stderr, "bench_replay: %s: the engine does not fit\n", path);
		mm_hosted_shutdown();
		trace_close(t);
		return NAN;
	}
	t0 = bench_cpu_now();
	while ((rc = trace_next(t, &ev)) == 1)
		replay_event(&r, &ev);
	replay_finish(&r);
	cpu = bench_cpu_now() - t0;
	*events = r.st.events;
	mm_hosted_shutdown();
	trace_close(t);
	if (rc != 0)
		return NAN;
	return checked ? cpu - checks.ms / 1e3 : cpu;
}

/* The rows of one trace: events/s unchecked, and a check's cost beside the events between two checks. */
static void bench_trace(struct bench_table *tab, const char *path, struct hat_model *model)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	double plain[RUNS], per_check_ms, work_ms;
	uint64_t events = 0;
	struct bench_row *row;

	for (unsigned i = 0; i < RUNS; i++)
		plain[i] = replay_once(path, false, model, &events);
	checks = (typeof(checks)){ 0 };
	work_ms = replay_once(path, true, model, &events) * 1e3;
	if (isnan(plain[0]) || isnan(work_ms) || checks.n == 0 || events == 0) {
		bench_not_measured(tab, name, "the trace did not replay");
		return;
	}
	row = bench_add(tab, (double)events / bench_median(plain, RUNS) / 1e6, "M/s",
			"replay %s: events per second (no checks)", name);
	bench_set_note(row, "%" PRIu64 " events, hosted, native", events);
	per_check_ms = checks.ms / checks.n;
	row = bench_add(tab, per_check_ms, "ms", "replay %s: one check (model on)", name);
	bench_set_baseline(row, work_ms * CHECK_EVERY / (double)events, "replaying 1000 events");
	bench_set_ratio(row, per_check_ms / (work_ms * CHECK_EVERY / (double)events), "check/work");
	bench_set_note(row, "%u checks, %.1f M items/s, %u violations", checks.n,
		       checks.items / (checks.ms / 1e3) / 1e6, checks.violations);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int main(int argc, char **argv)
{
	const char *json = bench_json_option(&argc, argv);
	static char paths[MAX_TRACES][4096];
	struct hat_model *model = hat_model_new();
	struct bench_table tab;
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	if (argc != 2 || model == NULL) {
		fprintf(stderr, "usage: %s [--json FILE] TRACE_DIR\n", argv[0]);
		return 2;
	}
	if ((d = opendir(argv[1])) == NULL) {
		perror(argv[1]);
		return 2;
	}
	while ((de = readdir(d)) != NULL && n < MAX_TRACES)
		if (strlen(de->d_name) > 6 && strcmp(de->d_name + strlen(de->d_name) - 6, ".trace") == 0)
			snprintf(paths[n++], sizeof(paths[0]), "%s/%s", argv[1], de->d_name);
	closedir(d);
	qsort(paths, n, sizeof(paths[0]), by_name);
	bench_table_init(&tab, "replay");
	for (unsigned i = 0; i < n; i++)
		bench_trace(&tab, paths[i], model);
	hat_model_free(model);
	return bench_table_finish(&tab, json);
}
