/* SPDX-License-Identifier: BSD-2-Clause */
/* Every shipped trace (tests/data/traces, each .trace file) replayed on the hosted MM, large RAM and a page limit that forces reclaim, the checker with the host model at every checkpoint. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hat_model.h"
#include "hosted_assert.h"
#include "hosted_platform.h"
#include "replay_hosted_run.h"
#include "replay_int.h"
#include "run_vmm.h"
#include "trace_list.h"
#include "trace_read.h"

#define RAM (256ull << 20)

static const char *trace_dir;
static struct trace_list traces;
static struct hat_model *model;
static const struct replay *r;   /* the last run's engine */

static void on_checkpoint(void *ctx, const char *what)
{
	(void)ctx;
	(void)what;
	hmm_assert_clean();
}

/* Replays path on a fresh MM; limit: at most that many more pages in use (0: none). */
static void replay_file(const char *path, uint64_t limit, char *line, size_t size)
{
	struct replay_hosted_opts opts = { .ram = RAM, .check_every = 5000, .page_limit = limit,
					   .checkpoint = on_checkpoint, .oplog_full = hmm_assert_clean };
	struct replay_hosted_run run;
	char err[1024];

	if (model == NULL)
		model = hat_model_new();
	checker_use_model(model);
	ck_assert_msg(replay_hosted_start(&run, path, &opts, err, sizeof(err)), "%s", err);
	r = run.engine;
	ck_assert_msg(replay_hosted_play(&run) == 0, "%s", trace_error(run.trace));
	hmm_assert_clean();
	replay_format(r, line, size);
	ck_assert_msg(r->st.internal_errors == 0 && r->st.oom == 0, "%s", line);
	ck_assert_msg(r->st.events == trace_header(run.trace)->events, "%s", line);
	if (limit)
		ck_assert_msg(r->st.reclaimed > 0, "no reclaim under a limit of %" PRIu64 " pages: %s",
			      limit, line);
	fprintf(stderr, "%s%s:\n  %s\n", path, limit ? " (page limit)" : "", line);
	replay_hosted_stop(&run);
}

START_TEST(shipped_trace_replays_clean)
{
	const char *path = traces.path[_i];
	char a[1024], b[1024];

	ck_assert_msg(traces.n > 0, "no .trace file in %s", trace_dir);
	replay_file(path, 0, a, sizeof(a));
	/* a fifth of the pages the trace ever asks for (exits give many back): reclaim must run */
	uint64_t limit = (r->st.zero_fill + r->st.file_miss + r->st.cow_file) / 5;

	limit = limit < 192 ? 192 : limit;   /* table pages and the engine's own count too */
	replay_file(path, 0, b, sizeof(b));
	ck_assert_str_eq(a, b);   /* deterministic */
	replay_file(path, limit, a, sizeof(a));
	replay_file(path, limit, b, sizeof(b));
	ck_assert_str_eq(a, b);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s TRACE_DIR\n", argv[0]);
		return 99;
	}
	trace_dir = argv[1];
	if (trace_list_find(&traces, trace_dir) != 0) {
		perror(trace_dir);
		return 99;
	}
	Suite *s = suite_create("replay_traces");
	TCase *t = tcase_create("shipped");
	tcase_set_timeout(t, 600);
	tcase_add_loop_test(t, shipped_trace_replays_clean, 0, traces.n ? (int)traces.n : 1);
	suite_add_tcase(s, t);
	return run_suite(s);
}
