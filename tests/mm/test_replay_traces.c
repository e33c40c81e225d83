/* SPDX-License-Identifier: BSD-2-Clause */
/* Every shipped trace (tests/data/traces, each .trace file) replayed on the hosted MM, large RAM and a page limit that forces reclaim, the checker with the host model at every checkpoint. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hat_model.h"
#include "hosted_check.h"
#include "hosted_platform.h"
#include "replay_hosted_seam.h"
#include "replay_int.h"
#include "run_vmm.h"
#include "trace_read.h"

#define RAM        (256ull << 20)
#define MAX_TRACES 16

static const char *trace_dir;
static char traces[MAX_TRACES][4096];
static int ntraces;
static struct hat_model *model;
static struct replay r;

static void check_clean(void)
{
	struct seen s;
	char text[8192];

	hmm_check(&s);
	if (s.returned == 0 && s.parsed == 0)
		return;
	seen_format(&s, text, sizeof(text));
	ck_abort_msg("checker: %u violations:%s", s.returned, text);
}

static void on_checkpoint(void *ctx, const char *what)
{
	(void)ctx;
	(void)what;
	check_clean();
}

/* Replays path on a fresh MM; limit: at most that many more pages in use (0: none). */
static void replay_file(const char *path, uint64_t limit, char *line, size_t size)
{
	char err[1024];
	struct trace *t = trace_open(path, err, sizeof(err));
	struct trace_event ev;
	int rc;

	ck_assert_msg(t != NULL, "%s", err);
	if (model == NULL)
		model = hat_model_new();
	checker_use_model(model);
	mm_hosted_oplog_hook = check_clean;
	mm_hosted_boot(RAM);
	struct replay_seam seam = replay_hosted_seam(on_checkpoint, NULL);
	struct replay_config cfg = { .check_every = 5000, .files = trace_header(t)->files };
	ck_assert(replay_init(&r, &seam, &cfg));
	if (limit)
		page_set_limit(page_ninuse() + limit);
	while ((rc = trace_next(t, &ev)) == 1)
		replay_event(&r, &ev);
	ck_assert_msg(rc == 0, "%s", trace_error(t));
	replay_finish(&r);
	check_clean();
	replay_format(&r, line, size);
	ck_assert_msg(r.st.internal_errors == 0 && r.st.oom == 0, "%s", line);
	ck_assert_msg(r.st.events == trace_header(t)->events, "%s", line);
	if (limit)
		ck_assert_msg(r.st.reclaimed > 0, "no reclaim under a limit of %" PRIu64 " pages: %s",
			      limit, line);
	fprintf(stderr, "%s%s:\n  %s\n", path, limit ? " (page limit)" : "", line);
	mm_hosted_shutdown();
	trace_close(t);
}

START_TEST(shipped_trace_replays_clean)
{
	char a[1024], b[1024];

	ck_assert_msg(ntraces > 0, "no .trace file in %s", trace_dir);
	replay_file(traces[_i], 0, a, sizeof(a));
	/* a fifth of the pages the trace ever asks for (exits give many back): reclaim must run */
	uint64_t limit = (r.st.zero_fill + r.st.file_miss + r.st.cow_file) / 5;

	limit = limit < 192 ? 192 : limit;   /* table pages and the engine's own count too */
	replay_file(traces[_i], 0, b, sizeof(b));
	ck_assert_str_eq(a, b);   /* deterministic */
	replay_file(traces[_i], limit, a, sizeof(a));
	replay_file(traces[_i], limit, b, sizeof(b));
	ck_assert_str_eq(a, b);
}
END_TEST

static void find_traces(void)
{
	struct dirent **names;
	int n = scandir(trace_dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		if (ntraces < MAX_TRACES && len > 6 && strcmp(names[i]->d_name + len - 6, ".trace") == 0)
			snprintf(traces[ntraces++], sizeof(traces[0]), "%s/%s", trace_dir, names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s TRACE_DIR\n", argv[0]);
		return 99;
	}
	trace_dir = argv[1];
	find_traces();
	Suite *s = suite_create("replay_traces");
	TCase *t = tcase_create("shipped");
	tcase_set_timeout(t, 600);
	tcase_add_loop_test(t, shipped_trace_replays_clean, 0, ntraces ? ntraces : 1);
	suite_add_tcase(s, t);
	return run_suite(s);
}
