/* SPDX-License-Identifier: BSD-2-Clause */
/* The trace reader: an untrusted trace file validated whole at open, then streamed one event at a time. */
#include "trace_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_file.h"
#include "trace_crc.h"
#include "trace_format.h"
#include "trace_rules.h"

enum section { IN_HEADER, IN_FILES, IN_EVENTS, IN_END };

struct trace {
	int fd;
	char *path;
	struct trace_header hdr;
	struct trace_file *files;
	uint64_t stream_start;      /* offset of the first event */
	uint32_t crc_at_stream;     /* CRC of the bytes before it */
	/* the decoder's position and state */
	uint8_t buf[65536];
	size_t bpos, blen;
	uint64_t off;               /* file offset of buf[bpos] */
	uint32_t crc;
	enum section section;
	uint64_t item;              /* file table row or event number being read (from 1) */
	uint64_t record;            /* events returned */
	uint32_t last_pid;
	uint64_t last_addr;
	uint64_t counts[TR_KIND_MAX + 1];
	struct trace_rules rules;
	bool failed, done;
	char err[1024];
};

__attribute__((format(printf, 2, 3)))
static int fail(struct trace *t, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	if (t->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	switch (t->section) {
	case IN_HEADER:
		snprintf(t->err, sizeof(t->err), "%s: header (byte %" PRIu64 "): %s", t->path, t->off,
			 what);
		break;
	case IN_FILES:
		snprintf(t->err, sizeof(t->err), "%s: file table entry %" PRIu64 " (byte %" PRIu64
			 "): %s", t->path, t->item, t->off, what);
		break;
	case IN_EVENTS:
		snprintf(t->err, sizeof(t->err), "%s: event %" PRIu64 " (byte %" PRIu64 "): %s",
			 t->path, t->item, t->off, what);
		break;
	default:
		snprintf(t->err, sizeof(t->err), "%s: end of trace (byte %" PRIu64 "): %s", t->path,
			 t->off, what);
		break;
	}
	t->failed = true;
	return -1;
}

static uint64_t remaining(const struct trace *t)
{
	return t->hdr.size - t->off;
}

static int read_byte(struct trace *t, uint8_t *b, const char *what)
{
	if (t->off >= t->hdr.size)
		return fail(t, "truncated: the file ends in the %s", what);
	if (t->bpos == t->blen) {
		ssize_t n;
		do
			n = read(t->fd, t->buf, sizeof(t->buf));
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return fail(t, "read: %s", strerror(errno));
		if (n == 0)
			return fail(t, "truncated: the file ends in the %s", what);
		t->bpos = 0;
		t->blen = (size_t)n;
	}
	*b = t->buf[t->bpos++];
	t->crc = trace_crc32(t->crc, b, 1);
	t->off++;
	return 0;
}

static int read_bytes(struct trace *t, void *dst, uint64_t n, const char *what)
{
	uint8_t *p = dst;

	for (uint64_t i = 0; i < n; i++)
		if (read_byte(t, &p[i], what))
			return -1;
	return 0;
}

/* Unsigned LEB128: at most 10 bytes, nothing past bit 63. */
static int read_varint(struct trace *t, uint64_t *v, const char *what)
{
	uint8_t b;

	*v = 0;
	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (read_byte(t, &b, what))
			return -1;
		if (shift == 63 && (b & 0x7e))
			return fail(t, "the %s does not fit in 64 bits", what);
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return fail(t, "the %s is a varint longer than 10 bytes", what);
}

/* A varint no larger than MAX. */
static int read_bounded(struct trace *t, uint64_t *v, uint64_t max, const char *what)
{
	if (read_varint(t, v, what))
		return -1;
	if (*v > max)
		return fail(t, "the %s %" PRIu64 " exceeds %" PRIu64, what, *v, max);
	return 0;
}

static int read_zz(struct trace *t, int64_t *v, const char *what)
{
	uint64_t u;

	if (read_varint(t, &u, what))
		return -1;
	*v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return 0;
}

/* A string of at most MAX bytes (and the bytes the file has left), no NUL: malloc'd, terminated. */
static int read_string(struct trace *t, char **s, uint64_t max, const char *what)
{
	uint64_t len;

	if (read_bounded(t, &len, max, what))
		return -1;
	if (len > remaining(t))
		return fail(t, "the %s's length %" PRIu64 " runs past the end of the file", what, len);
	*s = malloc(len + 1);
	if (!*s)
		return fail(t, "out of memory");
	if (read_bytes(t, *s, len, what))
		return -1;
	(*s)[len] = '\0';
	if (strlen(*s) != len)
		return fail(t, "the %s holds a NUL byte", what);
	return 0;
}

static int read_magic(struct trace *t)
{
	uint8_t magic[TRACE_MAGIC_LEN], v[4];

	if (t->hdr.size < TRACE_MAGIC_LEN + 4)
		return fail(t, "%" PRIu64 " bytes: too short to be a hatvm trace", t->hdr.size);
	if (read_bytes(t, magic, sizeof(magic), "magic"))
		return -1;
	if (memcmp(magic, TRACE_MAGIC, TRACE_MAGIC_LEN) != 0)
		return fail(t, "not a hatvm trace (no \"%s\" magic)", TRACE_MAGIC);
	if (read_bytes(t, v, 4, "version"))
		return -1;
	t->hdr.version = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 |
			 (uint32_t)v[3] << 24;
	if (t->hdr.version < TRACE_VERSION_MIN || t->hdr.version > TRACE_VERSION)
		return fail(t, "trace format version %" PRIu32 "; this vmm reads versions %u to %u",
			    t->hdr.version, TRACE_VERSION_MIN, TRACE_VERSION);
	return 0;
}

/* The header's counts, each bounded by the file's size, and their cross-checks. */
static int read_counts(struct trace *t)
{
	struct trace_header *h = &t->hdr;
	uint64_t sum = 0, v;

	if (read_bounded(t, &h->events, remaining(t), "event count"))
		return -1;
	for (uint32_t k = 1; k <= TR_KIND_MAX; k++) {
		if (read_bounded(t, &h->count[k], h->events, "count of one kind"))
			return -1;
		sum += h->count[k];
	}
	if (sum != h->events)
		return fail(t, "the counts by kind add up to %" PRIu64 ", not the %" PRIu64
			    " events declared", sum, h->events);
	if (read_bounded(t, &v, TRACE_MAX_PROCESSES, "process count"))
		return -1;
	if (v < 1 || v > h->count[TR_FORK] + 1)
		return fail(t, "%" PRIu64 " processes, but %" PRIu64 " FORKs make %" PRIu64, v,
			    h->count[TR_FORK], h->count[TR_FORK] + 1);
	h->processes = (uint32_t)v;
	if (read_bounded(t, &v, TRACE_MAX_FILES, "file count"))
		return -1;
	if (v > remaining(t) / 3)
		return fail(t, "%" PRIu64 " files cannot fit in the %" PRIu64 " bytes left", v,
			    remaining(t));
	h->files = (uint32_t)v;
	if (read_varint(t, &h->lost, "lost count") || read_varint(t, &h->skipped, "skipped count"))
		return -1;
	return 0;
}

static int read_header(struct trace *t)
{
	t->section = IN_HEADER;
	if (read_magic(t) ||
	    read_string(t, &t->hdr.command, TRACE_MAX_COMMAND, "command") ||
	    read_string(t, &t->hdr.machine, TRACE_MAX_MACHINE, "machine") ||
	    read_string(t, &t->hdr.date, TRACE_MAX_DATE, "date"))
		return -1;
	return read_counts(t);
}

static int read_files(struct trace *t)
{
	uint64_t path_bytes = 0;

	t->section = IN_FILES;
	t->files = calloc(t->hdr.files ? t->hdr.files : 1, sizeof(*t->files));
	if (!t->files)
		return fail(t, "out of memory");
	for (uint32_t i = 0; i < t->hdr.files; i++) {
		struct trace_file *f = &t->files[i];
		char *path = NULL;
		t->item = i;
		if (read_varint(t, &f->dev, "device") || read_varint(t, &f->inode, "inode") ||
		    read_string(t, &path, TRACE_MAX_PATH, "path")) {
			free(path);
			return -1;
		}
		f->path = path;
		path_bytes += strlen(path);
		if (!path[0])
			return fail(t, "empty path");
		if (path_bytes > TRACE_MAX_PATH_BYTES)
			return fail(t, "the paths exceed %u bytes in all", TRACE_MAX_PATH_BYTES);
	}
	return 0;
}

/* A whole-page range: a page delta from the previous address, then a length in pages. */
static int read_range(struct trace *t, uint64_t *addr, uint64_t *len)
{
	int64_t d;
	uint64_t pages;

	if (read_zz(t, &d, "address delta"))
		return -1;
	uint64_t page = (t->last_addr >> TRACE_PAGE_SHIFT) + (uint64_t)d;
	if (page >= TRACE_ADDR_LIMIT >> TRACE_PAGE_SHIFT)
		return fail(t, "the address delta %" PRId64 " pages leaves the user address range", d);
	if (read_bounded(t, &pages, TRACE_ADDR_LIMIT >> TRACE_PAGE_SHIFT, "length in pages"))
		return -1;
	*addr = page << TRACE_PAGE_SHIFT;
	*len = pages << TRACE_PAGE_SHIFT;
	t->last_addr = *addr;
	return 0;
}

static int read_u32(struct trace *t, uint32_t *v, uint64_t max, const char *what)
{
	uint64_t u;

	if (read_bounded(t, &u, max, what))
		return -1;
	*v = (uint32_t)u;
	return 0;
}

static int read_mmap(struct trace *t, uint8_t tag, struct trace_event *ev)
{
	uint8_t pf;
	uint64_t pages;

	if (tag & ~(TRACE_TAG_KIND | TRACE_TAG_SAME_PID))
		return fail(t, "MMAP tag 0x%02x has unknown bits", tag);
	if (read_range(t, &ev->te_addr, &ev->te_len) || read_byte(t, &pf, "protection"))
		return -1;
	ev->te_prot = pf & 7;
	ev->te_flags = pf >> 3;
	if (ev->te_flags & TR_MAP_ANON)
		return 0;
	if (read_u32(t, &ev->te_file, UINT32_MAX - 1, "file index") ||
	    read_bounded(t, &pages, TRACE_OFFSET_LIMIT >> TRACE_PAGE_SHIFT, "file offset"))
		return -1;
	ev->te_offset = pages << TRACE_PAGE_SHIFT;
	return 0;
}

static int read_mremap(struct trace *t, struct trace_event *ev)
{
	int64_t d;
	uint64_t pages;

	if (read_range(t, &ev->te_addr, &ev->te_len) || read_zz(t, &d, "new address delta"))
		return -1;
	uint64_t page = (ev->te_addr >> TRACE_PAGE_SHIFT) + (uint64_t)d;
	if (page >= TRACE_ADDR_LIMIT >> TRACE_PAGE_SHIFT)
		return fail(t, "the new address delta %" PRId64 " pages leaves the user address range", d);
	ev->te_arg = page << TRACE_PAGE_SHIFT;
	if (read_bounded(t, &pages, TRACE_ADDR_LIMIT >> TRACE_PAGE_SHIFT, "new length in pages"))
		return -1;
	ev->te_len2 = pages << TRACE_PAGE_SHIFT;
	return 0;
}

/* BRK and FAULT: a byte delta from the previous address. */
static int read_byte_addr(struct trace *t, struct trace_event *ev)
{
	int64_t d;

	if (read_zz(t, &d, "address delta"))
		return -1;
	ev->te_addr = t->last_addr + (uint64_t)d;
	if (ev->te_addr >= TRACE_ADDR_LIMIT)
		return fail(t, "the address delta %" PRId64 " leaves the user address range", d);
	t->last_addr = ev->te_addr;
	return 0;
}

static int read_brk(struct trace *t, uint8_t tag, struct trace_event *ev)
{
	uint64_t below;

	if (tag & ~(TRACE_TAG_KIND | TRACE_TAG_SAME_PID | TRACE_TAG_BRK_START))
		return fail(t, "BRK tag 0x%02x has unknown bits", tag);
	if (read_byte_addr(t, ev))
		return -1;
	if (!(tag & TRACE_TAG_BRK_START))
		return 0;
	if (read_bounded(t, &below, ev->te_addr, "heap size"))
		return -1;
	ev->te_arg = ev->te_addr - below;
	if (ev->te_arg == 0)
		return fail(t, "BRK heap start 0 (an unknown start has no heap size)");
	return 0;
}

static int read_fault(struct trace *t, uint8_t tag, struct trace_event *ev)
{
	ev->te_fault = (uint8_t)(((tag & 0x20) ? TR_FAULT_PRESENT : 0) |
				 ((tag & 0x40) ? TR_FAULT_WRITE : 0) |
				 ((tag & 0x80) ? TR_FAULT_EXEC : 0));
	return read_byte_addr(t, ev);
}

/* The tag bits a FORK may have: none before version 2. */
static uint8_t fork_tag_bits(const struct trace *t, uint32_t kind)
{
	return kind == TR_FORK && t->hdr.version >= 2 ? TRACE_TAG_FORK_VM : 0;
}

/* The fields after the tag and the process id. */
static int read_body(struct trace *t, uint8_t tag, struct trace_event *ev)
{
	uint32_t kind = tag & TRACE_TAG_KIND;
	uint32_t file_plus_one;

	if (kind == TR_MMAP)
		return read_mmap(t, tag, ev);
	if (kind == TR_BRK)
		return read_brk(t, tag, ev);
	if (kind == TR_FAULT)
		return read_fault(t, tag, ev);
	if (tag & ~(TRACE_TAG_KIND | TRACE_TAG_SAME_PID | fork_tag_bits(t, kind)))
		return fail(t, "%s tag 0x%02x has unknown bits", trace_kind_name(kind), tag);
	switch (kind) {
	case TR_FORK:
		ev->te_flags = (tag & TRACE_TAG_FORK_VM) ? TR_FORK_VM : 0;
		return read_bounded(t, &ev->te_arg, UINT32_MAX, "child process id");
	case TR_EXEC:
		if (read_u32(t, &file_plus_one, UINT32_MAX, "program file"))
			return -1;
		ev->te_file = file_plus_one ? file_plus_one - 1 : TR_FILE_NONE;
		return 0;
	case TR_MUNMAP:
	case TR_DONTNEED:
		return read_range(t, &ev->te_addr, &ev->te_len);
	case TR_MPROTECT: {
		uint8_t prot;
		if (read_range(t, &ev->te_addr, &ev->te_len) || read_byte(t, &prot, "protection"))
			return -1;
		ev->te_prot = prot;
		return 0;
	}
	case TR_MREMAP:
		return read_mremap(t, ev);
	default:   /* TR_EXIT */
		return 0;
	}
}

/* After the last event: the end tag, the counts, the CRC, the end of the file. */
static int read_end(struct trace *t)
{
	uint8_t tag, le[4];

	t->section = IN_END;
	if (read_byte(t, &tag, "end tag"))
		return -1;
	if (tag != TRACE_TAG_END)
		return fail(t, "0x%02x where the end tag belongs: more events than the %" PRIu64
			    " declared", tag, t->hdr.events);
	for (uint32_t k = 1; k <= TR_KIND_MAX; k++)
		if (t->counts[k] != t->hdr.count[k])
			return fail(t, "%" PRIu64 " %s events, the header declares %" PRIu64,
				    t->counts[k], trace_kind_name(k), t->hdr.count[k]);
	if (t->rules.processes != t->hdr.processes)
		return fail(t, "%" PRIu32 " processes, the header declares %" PRIu32,
			    t->rules.processes, t->hdr.processes);
	uint32_t crc = t->crc;
	if (read_bytes(t, le, 4, "checksum"))
		return -1;
	uint32_t stored = (uint32_t)le[0] | (uint32_t)le[1] << 8 | (uint32_t)le[2] << 16 |
			  (uint32_t)le[3] << 24;
	if (stored != crc)
		return fail(t, "checksum 0x%08" PRIx32 " does not match the contents (0x%08" PRIx32
			    "): the file is corrupted", stored, crc);
	if (remaining(t) != 0)
		return fail(t, "%" PRIu64 " bytes after the checksum", remaining(t));
	t->done = true;
	return 0;
}

int trace_next(struct trace *t, struct trace_event *ev)
{
	uint8_t tag;
	uint32_t pid;

	if (t->failed)
		return -1;
	if (t->done)
		return 0;
	if (t->record == t->hdr.events)
		return read_end(t) ? -1 : 0;
	t->item = t->record + 1;
	*ev = (struct trace_event){ .te_file = TR_FILE_NONE };
	if (read_byte(t, &tag, "event tag"))
		return -1;
	ev->te_kind = tag & TRACE_TAG_KIND;
	if (ev->te_kind == TRACE_TAG_END)
		return fail(t, "end tag after %" PRIu64 " events; the header declares %" PRIu64,
			    t->record, t->hdr.events);
	if (ev->te_kind > TR_KIND_MAX)
		return fail(t, "unknown event kind %" PRIu32, ev->te_kind);
	if (tag & TRACE_TAG_SAME_PID)
		pid = t->last_pid;
	else if (read_u32(t, &pid, UINT32_MAX, "process id"))
		return -1;
	ev->te_pid = pid;
	if (read_body(t, tag, ev))
		return -1;
	char why[512];
	if (trace_rules_check(&t->rules, ev, why, sizeof(why)))
		return fail(t, "%s", why);
	t->last_pid = pid;
	t->counts[ev->te_kind]++;
	t->record++;
	return 1;
}

const char *trace_error(const struct trace *t)
{
	return t->err;
}

uint64_t trace_record(const struct trace *t)
{
	return t->record;
}

int trace_rewind(struct trace *t)
{
	if (lseek(t->fd, (off_t)t->stream_start, SEEK_SET) < 0) {
		t->section = IN_EVENTS;
		return fail(t, "seek: %s", strerror(errno));
	}
	t->bpos = t->blen = 0;
	t->off = t->stream_start;
	t->crc = t->crc_at_stream;
	t->section = IN_EVENTS;
	t->record = t->item = 0;
	t->last_pid = 0;
	t->last_addr = 0;
	memset(t->counts, 0, sizeof(t->counts));
	trace_rules_init(&t->rules, t->hdr.processes, t->hdr.files);
	t->failed = t->done = false;
	t->err[0] = '\0';
	return 0;
}

/* Decodes every event once, so that a damaged trace is refused before anyone acts on it. */
static int validate(struct trace *t)
{
	struct trace_event ev;
	int rc;

	t->stream_start = t->off;
	t->crc_at_stream = t->crc;
	if (trace_rewind(t))
		return -1;
	while ((rc = trace_next(t, &ev)) == 1)
		;
	if (rc < 0)
		return -1;
	return trace_rewind(t);
}

struct trace *trace_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	struct trace *t;
	int fd = input_file_open(path, &st, err, errlen);

	if (fd < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->path = strdup(path))) {
		free(t);
		close(fd);
		path_errf(err, errlen, path, "out of memory");
		return NULL;
	}
	t->fd = fd;
	t->hdr.size = (uint64_t)st.st_size;
	if (read_header(t) || read_files(t) || validate(t)) {
		snprintf(err, errlen, "%s", t->err);
		trace_close(t);
		return NULL;
	}
	return t;
}

const struct trace_header *trace_header(const struct trace *t)
{
	return &t->hdr;
}

const struct trace_file *trace_file(const struct trace *t, uint32_t idx)
{
	return idx < t->hdr.files ? &t->files[idx] : NULL;
}

void trace_close(struct trace *t)
{
	if (!t)
		return;
	if (t->files)
		for (uint32_t i = 0; i < t->hdr.files; i++)
			free((char *)t->files[i].path);
	free(t->files);
	free(t->hdr.command);
	free(t->hdr.machine);
	free(t->hdr.date);
	free(t->path);
	close(t->fd);
	free(t);
}
