/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the trace format: writer and reader round trip, the rules, truncated, corrupted and hostile files. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_vmm.h"
#include "temp_dir.h"
#include "trace_crc.h"
#include "trace_format.h"
#include "trace_read.h"
#include "trace_write.h"

/* ---- a seeded stream of well-formed events ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct trace_event random_event(uint32_t procs, uint32_t files, uint64_t *base)
{
	struct trace_event ev = { .te_pid = (uint32_t)(rnd() % procs), .te_file = TR_FILE_NONE };
	uint64_t page = (*base >> 12) + rnd() % 4096;

	if (rnd() % 16 == 0)
		*base = (rnd() % (1ull << 34)) << 12;   /* a jump: a new library, the stack */
	ev.te_kind = 4 + (uint32_t)(rnd() % 7);      /* MMAP .. FAULT */
	switch (ev.te_kind) {
	case TR_MMAP:
		ev.te_addr = page << 12;
		ev.te_len = (1 + rnd() % 64) << 12;
		ev.te_prot = rnd() % 8;
		ev.te_flags = rnd() % 2 ? TR_MAP_ANON : (uint8_t)(rnd() % 2);
		if (ev.te_flags == TR_MAP_ANON && rnd() % 4 == 0)
			ev.te_flags |= TR_MAP_STACK;
		if (!(ev.te_flags & TR_MAP_ANON)) {
			ev.te_file = (uint32_t)(rnd() % files);
			ev.te_offset = (rnd() % 1000) << 12;
		}
		break;
	case TR_MUNMAP:
	case TR_DONTNEED:
	case TR_MPROTECT:
		ev.te_addr = page << 12;
		ev.te_len = (1 + rnd() % 64) << 12;
		if (ev.te_kind == TR_MPROTECT)
			ev.te_prot = rnd() % 8;
		break;
	case TR_MREMAP:
		ev.te_addr = page << 12;
		ev.te_len = (1 + rnd() % 64) << 12;
		ev.te_arg = ((page + rnd() % 100000) % (1ull << 34)) << 12;
		ev.te_len2 = (1 + rnd() % 256) << 12;
		break;
	case TR_BRK:
		ev.te_addr = (page << 12) + rnd() % 4096;
		ev.te_arg = rnd() % 2 ? ev.te_addr - rnd() % 100000 : 0;
		if (ev.te_arg > ev.te_addr)
			ev.te_arg = 0;
		break;
	default:   /* TR_FAULT */
		ev.te_addr = (page << 12) + rnd() % 4096;
		ev.te_fault = (uint8_t)(rnd() % 2 | (rnd() % 2) << 1 | (rnd() % 2) << 4);
		break;
	}
	return ev;
}

/* A seeded trace of N events into PATH; the events into out[] when not NULL. */
static void make_trace(const char *path, uint64_t seed, unsigned n, struct trace_event *out)
{
	struct trace_writer *w = trace_writer_new();
	uint32_t idx, procs = 1;
	uint64_t base = 0x7f0000000000ull;
	char why[256], err[512];

	rng_state = seed;
	for (unsigned i = 0; i < 5; i++) {
		char name[64];
		snprintf(name, sizeof(name), "/usr/lib/lib%u.so", i);
		ck_assert_int_eq(trace_writer_file(w, 0xfe00000000ull + i, 1000 + i, name, &idx), 0);
		ck_assert_uint_eq(idx, i);
	}
	ck_assert_int_eq(trace_writer_file(w, 0xfe00000000ull, 1000, "/usr/lib/lib0.so", &idx), 0);
	ck_assert_uint_eq(idx, 0);   /* deduplicated */
	for (unsigned i = 0; i < n; i++) {
		struct trace_event ev;
		unsigned r = (unsigned)(rnd() % 50);
		if (r == 0) {
			ev = (struct trace_event){ .te_kind = TR_FORK, .te_pid = (uint32_t)(rnd() % procs),
						   .te_arg = procs, .te_file = TR_FILE_NONE,
						   .te_flags = rnd() % 2 ? TR_FORK_VM : 0 };
			procs++;
		}
		else if (r == 1)
			ev = (struct trace_event){ .te_kind = TR_EXEC, .te_pid = (uint32_t)(rnd() % procs),
						   .te_file = rnd() % 2 ? (uint32_t)(rnd() % 5) : TR_FILE_NONE };
		else if (r == 2)
			ev = (struct trace_event){ .te_kind = TR_EXIT, .te_pid = (uint32_t)(rnd() % procs),
						   .te_file = TR_FILE_NONE };
		else
			ev = random_event(procs, 5, &base);
		if (trace_writer_add(w, &ev, why, sizeof(why)))
			ck_abort_msg("event %u: %s", i, why);
		if (out)
			out[i] = ev;
	}
	struct trace_meta meta = { .command = "make -j2", .machine = "Linux test", .date = "2025-01-01",
				   .lost = 3, .skipped = 4 };
	ck_assert_msg(trace_writer_save(w, path, &meta, err, sizeof(err)) == 0, "%s", err);
	trace_writer_free(w);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	data = malloc(*len + 1);
	ck_assert_uint_eq(fread(data, 1, *len, f), *len);
	fclose(f);
	return data;
}

static void spit(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len)
		ck_abort_msg("%s: cannot write", path);
	fclose(f);
}

/* Recomputes the CRC in the last 4 bytes, so a mutation reaches the structural checks. */
static void fix_crc(uint8_t *data, size_t len)
{
	if (len < 4)
		return;
	uint32_t crc = trace_crc32(0, data, len - 4);
	for (int i = 0; i < 4; i++)
		data[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static bool names_a_place(const char *err)
{
	return strstr(err, ": header (byte ") || strstr(err, ": file table entry ") ||
	       strstr(err, ": event ") || strstr(err, ": end of trace (byte ");
}

START_TEST(round_trip)
{
	enum { N = 20000 };
	struct trace_event *want = calloc(N, sizeof(*want)), ev;
	const char *path = temp_path("round.trace");
	char err[1024];

	make_trace(path, 0x1234567 + (uint64_t)_i, N, want);
	struct trace *t = trace_open(path, err, sizeof(err));
	ck_assert_msg(t, "%s", err);
	const struct trace_header *h = trace_header(t);
	ck_assert_str_eq(h->command, "make -j2");
	ck_assert_str_eq(h->machine, "Linux test");
	ck_assert_uint_eq(h->events, N);
	ck_assert_uint_eq(h->lost, 3);
	ck_assert_uint_eq(h->skipped, 4);
	ck_assert_uint_eq(h->files, 5);
	ck_assert_str_eq(trace_file(t, 3)->path, "/usr/lib/lib3.so");
	ck_assert_uint_eq(trace_file(t, 3)->inode, 1003);
	ck_assert_ptr_null(trace_file(t, 5));
	ck_assert_ptr_null(trace_file(t, TR_FILE_NONE));
	for (int pass = 0; pass < 2; pass++) {
		/* (plain ifs: every passing ck_assert is a message to Check's parent process) */
		for (unsigned i = 0; i < N; i++) {
			if (trace_next(t, &ev) != 1)
				ck_abort_msg("event %u: %s", i + 1, trace_error(t));
			if (memcmp(&ev, &want[i], sizeof(ev)) != 0 || trace_record(t) != i + 1)
				ck_abort_msg("event %u differs", i + 1);
		}
		ck_assert_int_eq(trace_next(t, &ev), 0);
		ck_assert_int_eq(trace_next(t, &ev), 0);
		ck_assert_int_eq(trace_rewind(t), 0);
	}
	/* compact: a real trace's worth of events stays near a few bytes each */
	ck_assert_uint_lt(h->size, (uint64_t)N * 8);
	trace_close(t);
	free(want);
}
END_TEST

START_TEST(the_writer_refuses_what_the_reader_would)
{
	struct trace_writer *w = trace_writer_new();
	char why[256];
	uint32_t idx;
	const struct { struct trace_event ev; const char *says; } bad[] = {
		{ { .te_kind = 0, .te_file = TR_FILE_NONE }, "unknown event kind" },
		{ { .te_kind = 11, .te_file = TR_FILE_NONE }, "unknown event kind" },
		{ { .te_kind = TR_EXIT, .te_pid = 1, .te_file = TR_FILE_NONE }, "no FORK created" },
		{ { .te_kind = TR_FORK, .te_arg = 2, .te_file = TR_FILE_NONE }, "next new process" },
		{ { .te_kind = TR_FORK, .te_arg = 1, .te_flags = 2, .te_file = TR_FILE_NONE },
		  "FORK flags 0x2 have unknown bits" },
		{ { .te_kind = TR_MMAP, .te_addr = 0x1001, .te_len = 0x1000, .te_flags = TR_MAP_ANON,
		    .te_file = TR_FILE_NONE }, "whole pages" },
		{ { .te_kind = TR_MMAP, .te_addr = 0x1000, .te_flags = TR_MAP_ANON,
		    .te_file = TR_FILE_NONE }, "0 pages" },
		{ { .te_kind = TR_MUNMAP, .te_addr = TRACE_ADDR_LIMIT - 0x1000, .te_len = 0x2000,
		    .te_file = TR_FILE_NONE }, "address limit" },
		{ { .te_kind = TR_MMAP, .te_addr = 0x1000, .te_len = 0x1000, .te_prot = 8,
		    .te_flags = TR_MAP_ANON, .te_file = TR_FILE_NONE }, "unknown bits" },
		{ { .te_kind = TR_MMAP, .te_addr = 0x1000, .te_len = 0x1000, .te_flags = TR_MAP_ANON,
		    .te_file = 0 }, "names a file" },
		{ { .te_kind = TR_MMAP, .te_addr = 0x1000, .te_len = 0x1000, .te_file = 7 },
		  "outside the file table" },
		{ { .te_kind = TR_MMAP, .te_addr = 0x1000, .te_len = 0x1000, .te_flags = TR_MAP_STACK,
		    .te_file = 0 }, "stack" },
		{ { .te_kind = TR_FAULT, .te_addr = 0x1000, .te_len = 1, .te_file = TR_FILE_NONE },
		  "does not use" },
		{ { .te_kind = TR_FAULT, .te_addr = 0x1000, .te_fault = 4, .te_file = TR_FILE_NONE },
		  "unknown bits" },
		{ { .te_kind = TR_BRK, .te_addr = 0x1000, .te_arg = 0x2000, .te_file = TR_FILE_NONE },
		  "below its heap start" },
		{ { .te_kind = TR_EXEC, .te_file = 1 }, "outside the file table" },
		{ { .te_kind = TR_MREMAP, .te_addr = 0x1000, .te_len = 0x1000, .te_arg = 0x5000,
		    .te_file = TR_FILE_NONE }, "MREMAP new length is 0" },
	};

	ck_assert_int_eq(trace_writer_file(w, 1, 2, "/a", &idx), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(trace_writer_add(w, &bad[i].ev, why, sizeof(why)) == -1, "case %zu taken", i);
		ck_assert_msg(strstr(why, bad[i].says), "case %zu: \"%s\" lacks \"%s\"", i, why,
			      bad[i].says);
	}
	ck_assert_uint_eq(trace_writer_count(w, 0), 0);
	trace_writer_free(w);
}
END_TEST

/* Every prefix of a trace is refused with a message naming where, never a crash. */
START_TEST(every_truncation_is_refused)
{
	const char *path = temp_path("whole.trace"), *cut = temp_path("cut.trace");
	size_t len;
	char err[1024];

	make_trace(path, 99, 300, NULL);
	uint8_t *data = slurp(path, &len);
	for (size_t n = 0; n < len; n++) {
		spit(cut, data, n);
		struct trace *t = trace_open(cut, err, sizeof(err));
		if (t)
			ck_abort_msg("a trace cut to %zu of %zu bytes was taken", n, len);
		if (strncmp(err, cut, strlen(cut)) != 0 || (n >= 12 && !names_a_place(err)))
			ck_abort_msg("cut at %zu: %s", n, err);
	}
	free(data);
}
END_TEST

/*
 * Thousands of seeded mutations: with the CRC left stale every one is
 * refused; with it recomputed, whatever the reader accepts obeys the
 * rules (it decoded every event) and whatever it refuses says where.
 */
START_TEST(mutations_are_refused_or_well_formed)
{
	const char *path = temp_path("base.trace"), *mut = temp_path("mut.trace");
	size_t len;
	char err[1024];
	unsigned accepted = 0, refused = 0;

	make_trace(path, 7, 200, NULL);
	uint8_t *base = slurp(path, &len);
	uint8_t *data = malloc(len + 64);
	rng_state = 0xdecafbad;
	for (unsigned round = 0; round < 4000; round++) {
		size_t n = len;
		memcpy(data, base, len);
		unsigned edits = 1 + (unsigned)(rnd() % 4);
		for (unsigned e = 0; e < edits; e++) {
			size_t at = rnd() % n;
			switch (rnd() % 4) {
			case 0: data[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
			case 1: data[at] = (uint8_t)rnd(); break;
			case 2: if (n > 1) { memmove(data + at, data + at + 1, n - at - 1); n--; } break;
			default: memmove(data + at + 1, data + at, n - at); data[at] = (uint8_t)rnd(); n++; break;
			}
		}
		bool same = n == len && memcmp(data, base, len) == 0;
		bool fixed = round % 2;
		if (fixed)
			fix_crc(data, n);
		spit(mut, data, n);
		struct trace *t = trace_open(mut, err, sizeof(err));
		if (!t) {
			refused++;
			if (!names_a_place(err) && !strstr(err, "too short"))
				ck_abort_msg("round %u: %s", round, err);
			continue;
		}
		if (!fixed && !same)
			ck_abort_msg("round %u: a mutation with a stale CRC was taken", round);
		struct trace_event ev;
		int rc;
		while ((rc = trace_next(t, &ev)) == 1)
			;
		if (rc != 0)
			ck_abort_msg("round %u: %s", round, trace_error(t));
		accepted++;
		trace_close(t);
	}
	ck_assert_uint_gt(refused, 2000);
	free(data);
	free(base);
}
END_TEST

/* ---- hand-made hostile files ---- */

struct raw {
	uint8_t b[4096];
	size_t n;
};

static void raw_bytes(struct raw *r, const void *p, size_t n)
{
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void raw_u8(struct raw *r, uint8_t v)
{
	raw_bytes(r, &v, 1);
}

static void raw_varint(struct raw *r, uint64_t v)
{
	do {
		raw_u8(r, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		v >>= 7;
	} while (v);
}

static void raw_string(struct raw *r, const char *s)
{
	raw_varint(r, strlen(s));
	raw_bytes(r, s, strlen(s));
}

/* Magic, VERSION, strings, EVENTS with COUNTS by kind, PROCS, FILES, lost 0, skipped 0. */
static void raw_header_v(struct raw *r, uint8_t version, uint64_t events, const uint64_t counts[11],
			 uint64_t procs, uint64_t files)
{
	raw_bytes(r, TRACE_MAGIC, 8);
	raw_u8(r, version);
	raw_bytes(r, "\0\0\0", 3);
	raw_string(r, "cmd");
	raw_string(r, "machine");
	raw_string(r, "date");
	raw_varint(r, events);
	for (int k = 1; k <= 10; k++)
		raw_varint(r, counts[k]);
	raw_varint(r, procs);
	raw_varint(r, files);
	raw_varint(r, 0);
	raw_varint(r, 0);
}

/* raw_header_v() of version 1, the shipped traces' version. */
static void raw_header(struct raw *r, uint64_t events, const uint64_t counts[11], uint64_t procs,
		       uint64_t files)
{
	raw_header_v(r, 1, events, counts, procs, files);
}

static void raw_end(struct raw *r)
{
	raw_u8(r, 0);
	uint32_t crc = trace_crc32(0, r->b, r->n);
	for (int i = 0; i < 4; i++)
		raw_u8(r, (uint8_t)(crc >> (8 * i)));
}

/* Opens R's bytes; the open must fail with a message holding SAYS. */
static void expect_refused(const struct raw *r, const char *says)
{
	const char *path = temp_path("hostile.trace");
	char err[1024];

	spit(path, r->b, r->n);
	struct trace *t = trace_open(path, err, sizeof(err));
	ck_assert_msg(!t, "taken, expected \"%s\"", says);
	ck_assert_msg(strstr(err, says), "\"%s\" lacks \"%s\"", err, says);
}

static const uint64_t three_faults[11] = { [TR_FAULT] = 3 };

/* Three faults of process 0; the third one's tag is TAG3. */
static void raw_faults(struct raw *r, uint8_t tag3)
{
	raw_u8(r, TR_FAULT);
	raw_varint(r, 0);
	raw_varint(r, 0x2000);
	raw_u8(r, TR_FAULT | TRACE_TAG_SAME_PID);
	raw_varint(r, 2);
	raw_u8(r, tag3);
	raw_varint(r, 2);
}

START_TEST(hostile_files_are_refused_with_the_place)
{
	struct raw r = { .n = 0 };
	const uint64_t none[11] = { 0 };
	uint64_t forks[11] = { [TR_FORK] = 1 };

	/* a well-formed baseline first: the builder is right */
	raw_header(&r, 3, three_faults, 1, 0);
	raw_faults(&r, TR_FAULT | TRACE_TAG_SAME_PID);
	raw_end(&r);
	const char *path = temp_path("ok.trace");
	char err[1024];
	spit(path, r.b, r.n);
	struct trace *t = trace_open(path, err, sizeof(err));
	ck_assert_msg(t, "%s", err);
	trace_close(t);

	r.n = 0;
	raw_bytes(&r, "ELF\0not a trace at all", 22);
	expect_refused(&r, "not a hatvm trace");
	r.n = 0;
	raw_bytes(&r, TRACE_MAGIC "\3\0\0\0", 12);
	raw_bytes(&r, "padding", 7);
	expect_refused(&r, "trace format version 3; this vmm reads versions 1 to 2");
	r.n = 0;
	raw_bytes(&r, TRACE_MAGIC "\0\0\0\0", 12);
	raw_bytes(&r, "padding", 7);
	expect_refused(&r, "trace format version 0");

	r.n = 0;   /* a string longer than the file */
	raw_bytes(&r, TRACE_MAGIC "\1\0\0\0", 12);
	raw_varint(&r, 60000);
	raw_bytes(&r, "abc", 3);
	expect_refused(&r, "header (byte 15): the command's length 60000 runs past the end");

	r.n = 0;   /* a varint of 11 bytes */
	raw_bytes(&r, TRACE_MAGIC "\1\0\0\0", 12);
	for (int i = 0; i < 11; i++)
		raw_u8(&r, 0x80);
	raw_bytes(&r, "0123456789", 10);
	expect_refused(&r, "header (byte 22): the command is a varint longer than 10 bytes");

	r.n = 0;   /* a varint of 10 bytes with bits past 64 */
	raw_bytes(&r, TRACE_MAGIC "\1\0\0\0", 12);
	for (int i = 0; i < 9; i++)
		raw_u8(&r, 0xff);
	raw_u8(&r, 0x02);
	raw_bytes(&r, "0123456789", 10);
	expect_refused(&r, "does not fit in 64 bits");

	r.n = 0;   /* more events than bytes */
	raw_header(&r, 1000000, none, 1, 0);
	expect_refused(&r, "event count 1000000 exceeds");

	r.n = 0;   /* counts that do not add up */
	raw_header(&r, 3, none, 1, 0);
	raw_bytes(&r, "................", 16);
	expect_refused(&r, "add up to 0, not the 3 events declared");

	r.n = 0;   /* processes no FORK made */
	raw_header(&r, 3, three_faults, 5, 0);
	raw_bytes(&r, "................", 16);
	expect_refused(&r, "5 processes, but 0 FORKs make 1");

	r.n = 0;   /* files that cannot fit */
	raw_header(&r, 0, none, 1, 100000);
	expect_refused(&r, "100000 files cannot fit");

	r.n = 0;   /* an empty path in the file table */
	raw_header(&r, 0, none, 1, 1);
	raw_varint(&r, 1);
	raw_varint(&r, 2);
	raw_string(&r, "");
	raw_end(&r);
	expect_refused(&r, "file table entry 0 (byte");

	r.n = 0;   /* event 3 has an unknown kind */
	raw_header(&r, 3, three_faults, 1, 0);
	raw_faults(&r, 0x0f);
	raw_end(&r);
	expect_refused(&r, "event 3 (byte");

	r.n = 0;   /* event 3 belongs to a process that does not exist */
	raw_header(&r, 3, three_faults, 1, 0);
	raw_faults(&r, TR_FAULT);
	r.n--;
	raw_varint(&r, 7);
	raw_varint(&r, 2);
	raw_end(&r);
	expect_refused(&r, "event 3 (byte");

	r.n = 0;   /* the end tag comes early */
	raw_header(&r, 3, three_faults, 1, 0);
	raw_u8(&r, TR_FAULT);
	raw_varint(&r, 0);
	raw_varint(&r, 0x2000);
	raw_end(&r);
	expect_refused(&r, "event 2 (byte");

	r.n = 0;   /* a FORK whose child skips an id */
	raw_header(&r, 1, forks, 2, 0);
	raw_u8(&r, TR_FORK | TRACE_TAG_SAME_PID);
	raw_varint(&r, 2);
	raw_end(&r);
	expect_refused(&r, "event 1 (byte");

	r.n = 0;   /* a vfork bit in a version 1 trace, which has none */
	raw_header(&r, 1, forks, 2, 0);
	raw_u8(&r, TR_FORK | TRACE_TAG_SAME_PID | TRACE_TAG_FORK_VM);
	raw_varint(&r, 1);
	raw_end(&r);
	expect_refused(&r, "event 1 (byte 45): fork tag 0x31 has unknown bits");

	r.n = 0;   /* version 2: the vfork bit, but no other */
	raw_header_v(&r, 2, 1, forks, 2, 0);
	raw_u8(&r, TR_FORK | TRACE_TAG_SAME_PID | 0x40);
	raw_varint(&r, 1);
	raw_end(&r);
	expect_refused(&r, "fork tag 0x51 has unknown bits");

	r.n = 0;   /* an address delta out of the user range */
	raw_header(&r, 3, three_faults, 1, 0);
	raw_u8(&r, TR_FAULT);
	raw_varint(&r, 0);
	raw_varint(&r, 1ull << 62);
	raw_u8(&r, TR_FAULT | TRACE_TAG_SAME_PID);
	raw_varint(&r, 2);
	raw_u8(&r, TR_FAULT | TRACE_TAG_SAME_PID);
	raw_varint(&r, 2);
	raw_end(&r);
	expect_refused(&r, "event 1 (byte");

	r.n = 0;   /* bytes after the checksum */
	raw_header(&r, 3, three_faults, 1, 0);
	raw_faults(&r, TR_FAULT | TRACE_TAG_SAME_PID);
	raw_end(&r);
	raw_u8(&r, 0);
	expect_refused(&r, "1 bytes after the checksum");

	r.n = 0;   /* a stale checksum */
	raw_header(&r, 3, three_faults, 1, 0);
	raw_faults(&r, TR_FAULT | TRACE_TAG_SAME_PID);
	raw_end(&r);
	r.b[r.n - 1] ^= 1;
	expect_refused(&r, "checksum");

	r.n = 0;   /* an empty file */
	expect_refused(&r, "too short");
}
END_TEST

/* A version 2 FORK's tag bit 5 is a vfork; version 1 traces (the shipped ones) still read. */
START_TEST(vfork_bit_reads_in_version_2)
{
	struct raw r = { .n = 0 };
	uint64_t forks[11] = { [TR_FORK] = 2 };
	struct trace_event ev;
	char err[1024];

	raw_header_v(&r, 2, 2, forks, 3, 0);
	raw_u8(&r, TR_FORK | TRACE_TAG_SAME_PID | TRACE_TAG_FORK_VM);
	raw_varint(&r, 1);
	raw_u8(&r, TR_FORK);
	raw_varint(&r, 1);
	raw_varint(&r, 2);
	raw_end(&r);
	const char *path = temp_path("vfork.trace");
	spit(path, r.b, r.n);
	struct trace *t = trace_open(path, err, sizeof(err));
	ck_assert_msg(t, "%s", err);
	ck_assert_uint_eq(trace_header(t)->version, 2);
	ck_assert_int_eq(trace_next(t, &ev), 1);
	ck_assert_uint_eq(ev.te_kind, TR_FORK);
	ck_assert_uint_eq(ev.te_flags, TR_FORK_VM);
	ck_assert_uint_eq(ev.te_arg, 1);
	ck_assert_int_eq(trace_next(t, &ev), 1);
	ck_assert_uint_eq(ev.te_pid, 1);
	ck_assert_uint_eq(ev.te_flags, 0);
	ck_assert_uint_eq(ev.te_arg, 2);
	trace_close(t);
}
END_TEST

START_TEST(not_a_regular_file)
{
	char err[1024];

	ck_assert_ptr_null(trace_open(temp_dir(), err, sizeof(err)));
	ck_assert_msg(strstr(err, "directory"), "%s", err);
	ck_assert_ptr_null(trace_open(temp_path("absent.trace"), err, sizeof(err)));
	ck_assert_msg(strstr(err, "No such file"), "%s", err);
}
END_TEST

int main(void)
{
	temp_dir_make("hatvm-trace");
	Suite *s = suite_create("trace_format");
	TCase *tc = tcase_create("format");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, round_trip, 0, 3);
	tcase_add_test(tc, the_writer_refuses_what_the_reader_would);
	tcase_add_test(tc, every_truncation_is_refused);
	tcase_add_test(tc, mutations_are_refused_or_well_formed);
	tcase_add_test(tc, hostile_files_are_refused_with_the_place);
	tcase_add_test(tc, vfork_bit_reads_in_version_2);
	tcase_add_test(tc, not_a_regular_file);
	suite_add_tcase(s, tc);
	int status = run_suite(s);
	temp_dir_remove();
	return status;
}
