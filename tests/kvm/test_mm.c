/* SPDX-License-Identifier: BSD-2-Clause */
/* kvm suite: every memory-manager workload boots, passes its own and the host's checks, and prints a sane stats line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hatvm/exit_status.h"
#include "hatvm/mm_structs.h"
#include "run_vmm.h"

static const char *vmm_path, *guest_path;

/* Boots the guest with `opts` (NULL-terminated, may be NULL) and guest words after "--". */
static struct vmm_result boot(const char *const opts[], const char *const words[])
{
	return run_guest(vmm_path, guest_path, opts, words);
}


#define ASSERT_OK(r) \
	ck_assert_msg((r).status == VMM_EXIT_OK, "vmm exited %d; stdout:\n%s\nstderr:\n%s", (r).status, \
		      (r).out, (r).err)

/* The key=value pairs of one `stats:` line. */
struct stats {
	unsigned long long ops, maps, hments_peak, steals, faults, spaces, checkpoints, pages_free;
	int fields;
};

/* Lines of `text` that start with `prefix`. */
static int count_lines(const char *text, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, prefix, len) == 0;
	return n;
}

/* Parses the last `stats:` line of out; every field must be there. */
static struct stats last_stats(const char *out)
{
	const char *line = NULL;
	struct stats s = { 0 };
	static const char *const keys[] = { "ops", "maps", "hments_peak", "steals", "faults",
					    "spaces", "checkpoints", "pages_free" };
	unsigned long long *vals[] = { &s.ops, &s.maps, &s.hments_peak, &s.steals, &s.faults,
				       &s.spaces, &s.checkpoints, &s.pages_free };

	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "stats: ", 7) == 0)
			line = p;
	ck_assert_msg(line != NULL, "no stats line in:\n%s", out);
	const char *end = strchr(line, '\n');
	size_t len = end ? (size_t)(end - line) : strlen(line);
	char buf[512];

	ck_assert_uint_lt(len, sizeof(buf));
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (char *tok = strtok(buf + 7, " "); tok; tok = strtok(NULL, " ")) {
		char *eq = strchr(tok, '=');
		ck_assert_msg(eq != NULL, "stats field without '=': %s", tok);
		*eq = '\0';
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (strcmp(tok, keys[k]) != 0)
				continue;
			char *num_end;
			*vals[k] = strtoull(eq + 1, &num_end, 10);
			ck_assert_msg(*num_end == '\0' && num_end != eq + 1, "stats %s=%s is not a number",
				      tok, eq + 1);
			s.fields++;
		}
	}
	ck_assert_msg(s.fields == 8, "stats line has %d of 8 fields: %.*s", s.fields, (int)len, line);
	return s;
}

/* What every MM workload's stats must satisfy. */
static void assert_sane(const struct stats *s, const char *out)
{
	ck_assert_msg(s->ops > 0 && s->maps > 0 && s->spaces > 0 && s->checkpoints > 0,
		      "stats not sane (ops %llu maps %llu spaces %llu checkpoints %llu) in:\n%s",
		      s->ops, s->maps, s->spaces, s->checkpoints, out);
	ck_assert_msg(s->hments_peak > 0 && s->pages_free > 0, "stats not sane in:\n%s", out);
}

/* Runs one workload with one seed; exactly one stats line, sane. */
static struct vmm_result run_one(const char *workload, unsigned seed, struct stats *s)
{
	char w[64], sd[32];

	snprintf(w, sizeof(w), "workload=%s", workload);
	snprintf(sd, sizeof(sd), "seed=%u", seed);
	struct vmm_result r = boot(NULL, (const char *[]){ w, sd, NULL });
	ASSERT_OK(r);
	ck_assert_msg(count_lines(r.out, "stats: ") == 1, "%s: expected one stats line in:\n%s",
		      workload, r.out);
	*s = last_stats(r.out);
	assert_sane(s, r.out);
	return r;
}

static const unsigned seeds[] = { 1, 2, 3 };
#define NSEEDS 3

/* random is cheap and seed-sensitive (one seed once missed a pagesync bug): more seeds. */
static const unsigned random_seeds_list[] = { 1, 2, 3, 4, 5, 6 };
#define NRANDOM_SEEDS 6

/* The smoke workload's hardware checks: five lines, every one ok; each seed places the mappings elsewhere. */
START_TEST(smoke_hardware_ok)
{
	struct stats s;
	struct vmm_result r = run_one("smoke", seeds[_i], &s);

	ck_assert_int_eq(count_lines(r.out, "smoke: "), 5);
	for (const char *p = strstr(r.out, "smoke: "); p; p = strstr(p + 1, "\nsmoke: ")) {
		const char *eol = strchr(p + 1, '\n');
		ck_assert_msg(eol && eol - p >= 4 && strncmp(eol - 4, ": ok", 4) == 0,
			      "a smoke line does not end in ': ok':\n%s", r.out);
	}
	ck_assert_uint_ge(s.faults, 16);   /* the demand-paging faults */
	vmm_result_free(&r);
}
END_TEST

START_TEST(share_seeds)
{
	struct stats s;
	struct vmm_result r = run_one("share", seeds[_i], &s);

	ASSERT_HAS(r.out, "share: 12 spaces, 64 pages\n");
	ck_assert_uint_eq(s.spaces, 12 + 2);          /* and the sparse fork's parent and child */
	ck_assert_uint_eq(s.maps, 12 * 64 + 2 * 5);   /* its 5 pages mapped in each */
	ck_assert_uint_ge(s.hments_peak, 12 * 64);   /* every page has a list of 12, on the hash */
	vmm_result_free(&r);
}
END_TEST

/*
 * random covers uncached and write-through pages and read-write to
 * read-only transitions checked through the hardware, with every seed.
 */
START_TEST(random_seeds)
{
	struct stats s;
	struct vmm_result r = run_one("random", random_seeds_list[_i], &s);
	unsigned uc = 0, wt = 0, faulted = 0;

	ASSERT_HAS(r.out, "random: 500 ops");
	ck_assert_uint_ge(s.ops, 500);
	ck_assert_uint_ge(s.spaces, 2);
	const char *line = strstr(r.out, "random: ");
	while (line && sscanf(line, " random: %u uncached and %u write-through pages; %u writes",
			      &uc, &wt, &faulted) != 3)
		line = strstr(line + 1, "\nrandom: ");
	ck_assert_msg(line, "no cache/write-protect summary in:\n%s", r.out);
	ck_assert_msg(uc > 0 && wt > 0 && faulted > 0,
		      "seed %u: %u uncached, %u write-through pages, %u write faults",
		      random_seeds_list[_i], uc, wt, faulted);
	vmm_result_free(&r);
}
END_TEST

START_TEST(pressure_seeds)
{
	struct stats s;
	struct vmm_result r = run_one("pressure", seeds[_i], &s);

	ck_assert_msg(s.steals > 0, "no steals under pressure:\n%s", r.out);
	/* the workload itself panics when more hments than the cap are out */
	ASSERT_HAS(r.out, "pressure: reserve 0, at most ");
	ASSERT_HAS(r.out, "failed cleanly\n");
	vmm_result_free(&r);
}
END_TEST

START_TEST(large_seeds)
{
	struct stats s;
	struct vmm_result r = run_one("large", seeds[_i], &s);

	ck_assert_int_eq(count_lines(r.out, "large: "), 7);
	ASSERT_HAS(r.out, "large: 6 2 MiB and 18 4 KiB mappings made\n");
	ASSERT_HAS(r.out, "large: pageunload of a subpage and of the 2 MiB page: ok\n");
	ck_assert_uint_eq(s.maps, 24);
	vmm_result_free(&r);
}
END_TEST

/* all is the default: every workload in turn, each with its stats line, then the total. */
static void check_all(const struct vmm_result *r)
{
	ck_assert_int_eq(count_lines(r->out, "stats: "), 6);
	ASSERT_HAS(r->out, "all: 5 workloads passed\n");
	struct stats s = last_stats(r->out);
	assert_sane(&s, r->out);
	ck_assert_msg(s.steals > 0, "all: pressure stole nothing:\n%s", r->out);
	ck_assert_uint_ge(s.spaces, 2 + 8 + 3 + 3 + 3);
}

START_TEST(all_is_the_default)
{
	struct vmm_result r = boot(NULL, NULL);

	ASSERT_OK(r);
	ASSERT_HAS(r.out, "all: smoke\n");
	ASSERT_HAS(r.out, "all: large\n");
	check_all(&r);
	vmm_result_free(&r);
}
END_TEST

START_TEST(all_on_two_cpus)
{
	struct vmm_result r = boot((const char *[]){ "--cpus", "2", NULL }, NULL);

	ASSERT_OK(r);
	check_all(&r);
	vmm_result_free(&r);
}
END_TEST

/* The same seed gives the same guest output, byte for byte; another seed does not. */
START_TEST(same_seed_same_output)
{
	static const char *const names[] = { "random", "pressure" };
	char w[64];

	snprintf(w, sizeof(w), "workload=%s", names[_i]);
	struct vmm_result a = boot(NULL, (const char *[]){ w, "seed=7", NULL });
	struct vmm_result b = boot(NULL, (const char *[]){ w, "seed=7", NULL });
	struct vmm_result c = boot(NULL, (const char *[]){ w, "seed=8", NULL });
	ASSERT_OK(a);
	ASSERT_OK(b);
	ASSERT_OK(c);
	ck_assert_msg(strcmp(a.out, b.out) == 0, "seed 7 twice differs:\n%s\n---\n%s", a.out, b.out);
	ck_assert_msg(strcmp(a.out, c.out) != 0, "seeds 7 and 8 give the same output:\n%s", a.out);
	vmm_result_free(&a);
	vmm_result_free(&b);
	vmm_result_free(&c);
}
END_TEST

/* The benchmark workload runs (small) and prints every figure the host benchmark reads. */
START_TEST(bench_prints_figures)
{
	static const char *const keys[] = {
		"bench: memload_first_ns=", "bench: memload_share_ns=", "bench: unload_ns=",
		"bench: pageunload_ns=", "bench: fork_ns=", "bench: destroy_ns=",
		"bench: table_pages_per_page=",
	};
	struct vmm_result r = boot(NULL, (const char *[]){ "workload=bench", "pages=16", NULL });

	ASSERT_OK(r);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ASSERT_HAS(r.out, keys[i]);
	char hment_bytes[64];
	snprintf(hment_bytes, sizeof(hment_bytes), "bench: hment_bytes=%zu\n", sizeof(struct hment));
	ASSERT_HAS(r.out, hment_bytes);
	ASSERT_HAS(r.out, "bench: first_mapping_bytes=0\n");
	ck_assert_int_eq(count_lines(r.out, "stats: "), 1);
	vmm_result_free(&r);
}
END_TEST

/* A bad option stops the guest (status 3) with a message naming it. */
START_TEST(bad_option_is_reported)
{
	struct vmm_result r = boot(NULL, (const char *[]){ "workload=share", "spaces=1", NULL });

	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "vmm: guest command line: share: spaces=1 pages=64: need 2..64 spaces");
	ck_assert_ptr_null(strstr(r.err, "RIP"));   /* a usage error, not a crash: no register dump */
	vmm_result_free(&r);
}
END_TEST

static const char *const dense_workloads[] = { "smoke", "share", "random", "pressure", "large" };
#define NDENSE 5

/*
 * check_every=1: a checkpoint after every HAT operation (holds never
 * span two operations, so none is merged), every one silent; the first
 * violation would freeze the run. Seed 4: one the other tests do not use.
 */
START_TEST(check_every_op)
{
	char w[64];
	struct stats s;

	snprintf(w, sizeof(w), "workload=%s", dense_workloads[_i]);
	struct vmm_result r = boot((const char *[]){ "--quiet", "--stop-on-violation", NULL },
				   (const char *[]){ w, "seed=4", "check_every=1", NULL });
	ASSERT_OK(r);
	s = last_stats(r.out);
	assert_sane(&s, r.out);
	ck_assert_msg(s.checkpoints > s.ops, "%s: %llu checkpoints for %llu ops",
		      dense_workloads[_i], s.checkpoints, s.ops);
	ck_assert_ptr_null(strstr(r.err, "frozen"));
	vmm_result_free(&r);
}
END_TEST

/* check_every=N counts across workload=all: at least one checkpoint per N ops. */
START_TEST(check_every_across_all)
{
	struct vmm_result r = boot((const char *[]){ "--quiet", NULL },
				   (const char *[]){ "seed=5", "check_every=7", NULL });

	ASSERT_OK(r);
	check_all(&r);
	struct stats s = last_stats(r.out);
	ck_assert_uint_ge(s.checkpoints, s.ops / 7);
	vmm_result_free(&r);
}
END_TEST

/* check_every is 32-bit: larger or malformed values are refused before any workload runs. */
START_TEST(check_every_out_of_range)
{
	static const char *const bad[][2] = {
		{ "check_every=4294967296", "option check_every=4294967296: larger than 4294967295" },
		{ "check_every=-1", "option check_every=-1: not a decimal number" },
		{ "check_every=", "option check_every= needs a number" },
	};
	struct vmm_result r = boot(NULL, (const char *[]){ "workload=smoke", bad[_i][0], NULL });

	ck_assert_msg(r.status == VMM_EXIT_USAGE, "%s: status %d:\n%s", bad[_i][0], r.status, r.err);
	ASSERT_HAS(r.err, bad[_i][1]);
	ck_assert_ptr_null(strstr(r.out, "smoke: "));   /* refused before smoke started */
	vmm_result_free(&r);
}
END_TEST

/* A count that does not fit 32 bits is refused, not wrapped into range (4294967298 is 2 mod 2^32). */
START_TEST(oversized_count_is_refused)
{
	struct vmm_result r = boot(NULL, (const char *[]){ "workload=share", "spaces=4294967298", NULL });

	ck_assert_int_eq(r.status, VMM_EXIT_USAGE);
	ASSERT_HAS(r.err, "vmm: guest command line: option spaces=4294967298: larger than 4294967295");
	vmm_result_free(&r);
}
END_TEST

static Suite *mm_suite(void)
{
	Suite *s = suite_create("mm");
	TCase *tc = tcase_create("mm");

	/* each run boots a 256 MiB guest whose instructions may all be emulated: minutes, not seconds */
	tcase_set_timeout(tc, 180);
	tcase_add_loop_test(tc, smoke_hardware_ok, 0, NSEEDS);
	tcase_add_loop_test(tc, share_seeds, 0, NSEEDS);
	tcase_add_loop_test(tc, random_seeds, 0, NRANDOM_SEEDS);
	tcase_add_loop_test(tc, pressure_seeds, 0, NSEEDS);
	tcase_add_loop_test(tc, large_seeds, 0, NSEEDS);
	tcase_add_test(tc, all_is_the_default);
	tcase_add_test(tc, all_on_two_cpus);
	tcase_add_loop_test(tc, same_seed_same_output, 0, 2);
	tcase_add_test(tc, bench_prints_figures);
	tcase_add_test(tc, bad_option_is_reported);
	tcase_add_test(tc, oversized_count_is_refused);
	tcase_add_loop_test(tc, check_every_op, 0, NDENSE);
	tcase_add_test(tc, check_every_across_all);
	tcase_add_loop_test(tc, check_every_out_of_range, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	return kvm_test_main(argc, argv, &vmm_path, &guest_path, mm_suite);
}
