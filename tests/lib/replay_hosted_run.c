/* SPDX-License-Identifier: BSD-2-Clause */
/* Replays a recorded trace on a fresh hosted MM: open, boot, start the engine, play, stop. */
#include "replay_hosted_run.h"

#include <stdio.h>
#include <time.h>

#include "hosted_platform.h"
#include "page.h"
#include "replay_hosted_seam.h"
#include "trace_read.h"

static struct replay engine;   /* large: one, reused by every run */

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool replay_hosted_start(struct replay_hosted_run *run, const char *path,
			 const struct replay_hosted_opts *opts, char *err, size_t errlen)
{
	*run = (struct replay_hosted_run){ .engine = &engine };
	run->trace = trace_open(path, err, errlen);
	if (run->trace == NULL)
		return false;
	mm_hosted_oplog_hook = opts->oplog_full;
	mm_hosted_boot(opts->ram);
	struct replay_seam seam = replay_hosted_seam(opts->checkpoint, NULL);
	struct replay_config cfg = { .check_every = opts->check_every,
				     .files = trace_header(run->trace)->files };
	if (!replay_init(&engine, &seam, &cfg)) {
		snprintf(err, errlen, "%s: the replay engine does not fit in %llu bytes of RAM", path,
			 (unsigned long long)opts->ram);
		replay_hosted_stop(run);
		return false;
	}
	if (opts->page_limit)
		page_set_limit(page_ninuse() + opts->page_limit);
	return true;
}

int replay_hosted_play(struct replay_hosted_run *run)
{
	struct trace_event ev;
	double t0 = cpu_now();
	int rc;

	while ((rc = trace_next(run->trace, &ev)) == 1)
		replay_event(&engine, &ev);
	if (rc == 0)
		replay_finish(&engine);
	run->cpu_s = cpu_now() - t0;
	return rc == 0 ? 0 : -1;
}

void replay_hosted_stop(struct replay_hosted_run *run)
{
	mm_hosted_shutdown();
	mm_hosted_oplog_hook = NULL;
	trace_close(run->trace);
	run->trace = NULL;
}
