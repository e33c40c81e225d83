/* SPDX-License-Identifier: BSD-2-Clause */
/* mutate_driver: the hosted engine of scripts/mutate.sh — the fixed matrix over the MM it was linked with, and a verdict. */

/*
 * mutate_driver: the hosted engine of scripts/mutate.sh. Runs the fixed
 * matrix (every shape × seeds 1..N, checker every K operations) over the
 * MM it was linked with, one child process per run, and prints one line
 * per run and a verdict: the best column any run reached, its IDs, and
 * how many runs each column took.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mutate_run.h"

#define DEFAULT_SEEDS 3u
#define DEFAULT_EVERY 1u

struct options {
	unsigned seeds, every;
	const char *shape;   /* NULL: all */
	uint64_t seed;       /* with shape: only this seed (0: 1..seeds) */
	bool quiet, stats;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: mutate_driver [--seeds N] [--every K] [--shape NAME [--seed S]] [--quiet] [--stats]\n"
		"Runs the hosted MM under every shape (random share large pressure churn exhaust hash starve tapped)\n"
		"with seeds 1..N (default %u), the checker every K operations (default %u).\n"
		"Prints 'run SHAPE seed=S: COLUMN IDS (detail)' per run and a last line\n"
		"'verdict COLUMN IDS runs=R killed=K checkpoint=.. after-stop=.. guest=.. crash=..\n"
		"model=.. survived=..'. Status 0 when every run survived, 1 otherwise, 2 on usage.\n",
		DEFAULT_SEEDS, DEFAULT_EVERY);
	return 2;
}

static bool parse(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .seeds = DEFAULT_SEEDS, .every = DEFAULT_EVERY };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--quiet") == 0 || strcmp(a, "--stats") == 0) {
			*(strcmp(a, "--quiet") == 0 ? &o->quiet : &o->stats) = true;
			continue;
		}
		if (v == NULL)
			return false;
		if (strcmp(a, "--seeds") == 0)
			o->seeds = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--every") == 0)
			o->every = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--shape") == 0)
			o->shape = v;
		else if (strcmp(a, "--seed") == 0)
			o->seed = strtoull(v, NULL, 10);
		else
			return false;
		i++;
	}
	return o->seeds > 0 && (o->shape == NULL || shape_find(o->shape) != NULL);
}

/* One run in a child: whatever the mutant does to the process, the parent gets a result. */
static void run_in_child(const struct shape *sh, uint64_t seed, unsigned every,
			 struct run_result *res)
{
	struct run_result *shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;
	int status = 0;

	if (shared == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	memset(shared, 0, sizeof(*shared));
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* the MM's own messages (kprintf) are noise here */
		if (freopen("/dev/null", "w", stderr) == NULL)
			_exit(2);
		run_one(sh, seed, every, shared);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		perror("fork");
		exit(2);
	}
	*res = *shared;
	if (!res->done) {
		res->col = COL_CRASH;
		snprintf(res->ids, sizeof(res->ids), "died");
		snprintf(res->detail, sizeof(res->detail), "the run died (status 0x%x) before a verdict",
			 status);
	}
	munmap(shared, sizeof(*shared));
}

/* Adds the comma-separated ids to the set in buf (no duplicates). */
static void ids_union(char *buf, size_t len, const char *ids)
{
	char copy[sizeof(((struct run_result *)0)->ids)];

	if (strcmp(ids, "-") == 0)
		return;
	snprintf(copy, sizeof(copy), "%s", ids);
	for (char *tok = strtok(copy, ","); tok != NULL; tok = strtok(NULL, ",")) {
		char *at = strstr(buf, tok);
		size_t n = strlen(tok), used = strlen(buf);

		if (at != NULL && (at == buf || at[-1] == ',') && (at[n] == ',' || at[n] == '\0'))
			continue;
		snprintf(buf + used, len - used, "%s%s", used ? "," : "", tok);
	}
}

int main(int argc, char **argv)
{
	struct options o;
	unsigned count[COL_N] = { 0 }, runs = 0;
	enum column best = COL_SURVIVED;
	char best_ids[1024] = "";
	struct run_result res[64];
	const struct shape *shapes[16];
	unsigned nshapes = 0;

	if (!parse(argc, argv, &o))
		return usage();
	for (unsigned i = 0; mutate_shapes[i] != NULL; i++)
		if (o.shape == NULL || strcmp(shape_name(mutate_shapes[i]), o.shape) == 0)
			shapes[nshapes++] = mutate_shapes[i];
	for (unsigned i = 0; i < nshapes; i++) {
		for (uint64_t seed = o.seed ? o.seed : 1; seed <= (o.seed ? o.seed : o.seeds); seed++) {
			struct run_result *r = &res[runs % 64];

			run_in_child(shapes[i], seed, o.every, r);
			runs++;
			count[r->col]++;
			if (r->col < best) {
				best = r->col;
				best_ids[0] = '\0';
			}
			if (r->col == best)
				ids_union(best_ids, sizeof(best_ids), r->ids);
			if (!o.quiet)
				printf("run %s seed=%" PRIu64 ": %s %s (%u checks; %s)\n",
				       shape_name(shapes[i]), seed, column_name(r->col), r->ids,
				       r->checks, r->detail);
			if (o.stats)
				printf("  exercised: %s\n", r->exercised[0] ? r->exercised : "-");
		}
	}
	printf("verdict %s %s runs=%u killed=%u", column_name(best), best_ids[0] ? best_ids : "-",
	       runs, runs - count[COL_SURVIVED]);
	for (unsigned c = 0; c < COL_N; c++)
		printf(" %s=%u", column_name((enum column)c), count[c]);
	printf("\n");
	return best == COL_SURVIVED ? 0 : 1;
}
