/* SPDX-License-Identifier: BSD-2-Clause */
/* The trace encoder: events and files in, a complete trace file (TRACE_VERSION) out. */
#include "trace_write.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "out_file.h"
#include "trace_crc.h"
#include "trace_format.h"
#include "trace_map.h"
#include "trace_rules.h"

/* A growing byte buffer; a failed allocation sets oom and drops later bytes. */
struct bytes {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

struct trace_file_row {
	uint64_t dev, inode;
	char *path;
};

struct trace_writer {
	struct bytes events;
	struct trace_rules rules;
	uint64_t counts[TR_KIND_MAX + 1];
	uint32_t last_pid;
	uint64_t last_addr;
	struct trace_file_row *files;
	uint32_t nfiles, files_cap;
	struct trace_map file_index;   /* hash of (dev, inode, path) -> index */
};

static void put(struct bytes *b, const void *src, size_t n)
{
	if (b->oom)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->len < n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put_u8(struct bytes *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put_varint(struct bytes *b, uint64_t v)
{
	uint8_t buf[10];
	size_t n = 0;

	do {
		buf[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			buf[n] |= 0x80;
		n++;
	} while (v);
	put(b, buf, n);
}

static void put_zz(struct bytes *b, int64_t v)
{
	put_varint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void put_string(struct bytes *b, const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max) : 0;

	put_varint(b, n);
	put(b, s, n);
}

static void put_u32le(struct bytes *b, uint32_t v)
{
	uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	put(b, le, 4);
}

struct trace_writer *trace_writer_new(void)
{
	struct trace_writer *w = calloc(1, sizeof(*w));

	if (w)
		trace_rules_init(&w->rules, TRACE_MAX_PROCESSES, 0);
	return w;
}

static uint64_t file_hash(uint64_t dev, uint64_t inode, const char *path)
{
	uint64_t h = 0xcbf29ce484222325ull ^ dev ^ (inode * 0x9e3779b97f4a7c15ull);

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

static bool same_file(const struct trace_file_row *f, uint64_t dev, uint64_t inode, const char *path)
{
	return f->dev == dev && f->inode == inode && strcmp(f->path, path) == 0;
}

/* The index of an equal row, by a scan: for the rare hash collision. */
static bool scan_files(const struct trace_writer *w, uint64_t dev, uint64_t inode,
		       const char *path, uint32_t *idx)
{
	for (uint32_t i = 0; i < w->nfiles; i++) {
		if (same_file(&w->files[i], dev, inode, path)) {
			*idx = i;
			return true;
		}
	}
	return false;
}

static int add_file(struct trace_writer *w, uint64_t dev, uint64_t inode, const char *path)
{
	if (w->nfiles == w->files_cap) {
		uint32_t cap = w->files_cap ? w->files_cap * 2 : 64;
		struct trace_file_row *f = realloc(w->files, cap * sizeof(*f));
		if (!f)
			return -1;
		w->files = f;
		w->files_cap = cap;
	}
	char *copy = strdup(path);
	if (!copy)
		return -1;
	w->files[w->nfiles] = (struct trace_file_row){ .dev = dev, .inode = inode, .path = copy };
	w->nfiles++;
	w->rules.files = w->nfiles;
	return 0;
}

int trace_writer_file(struct trace_writer *w, uint64_t dev, uint64_t inode, const char *path,
		      uint32_t *idx)
{
	uint64_t h = file_hash(dev, inode, path);
	uint32_t found;
	bool hashed = trace_map_get(&w->file_index, h, &found);

	if (hashed && same_file(&w->files[found], dev, inode, path)) {
		*idx = found;
		return 0;
	}
	if (hashed && scan_files(w, dev, inode, path, idx))
		return 0;
	if (strlen(path) > TRACE_MAX_PATH || w->nfiles >= TRACE_MAX_FILES)
		return -1;
	if (!hashed && trace_map_put(&w->file_index, h, w->nfiles))
		return -1;
	if (add_file(w, dev, inode, path)) {
		if (!hashed)
			trace_map_del(&w->file_index, h);
		return -1;
	}
	*idx = w->nfiles - 1;
	return 0;
}

static int64_t page_delta(uint64_t addr, uint64_t last)
{
	return (int64_t)(addr >> TRACE_PAGE_SHIFT) - (int64_t)(last >> TRACE_PAGE_SHIFT);
}

static uint8_t fault_tag_bits(uint8_t fault)
{
	return (uint8_t)(((fault & TR_FAULT_PRESENT) ? 1u << 5 : 0) |
			 ((fault & TR_FAULT_WRITE) ? 1u << 6 : 0) |
			 ((fault & TR_FAULT_EXEC) ? 1u << 7 : 0));
}

/* A whole-page range: the start as a page delta, the length in pages. */
static void put_range(struct trace_writer *w, uint64_t addr, uint64_t len)
{
	put_zz(&w->events, page_delta(addr, w->last_addr));
	put_varint(&w->events, len >> TRACE_PAGE_SHIFT);
	w->last_addr = addr;
}

static void put_body(struct trace_writer *w, const struct trace_event *ev)
{
	struct bytes *b = &w->events;

	switch (ev->te_kind) {
	case TR_FORK:
		put_varint(b, ev->te_arg);
		break;
	case TR_EXEC:
		put_varint(b, ev->te_file == TR_FILE_NONE ? 0 : (uint64_t)ev->te_file + 1);
		break;
	case TR_MMAP:
		put_range(w, ev->te_addr, ev->te_len);
		put_u8(b, (uint8_t)(ev->te_prot | ev->te_flags << 3));
		if (!(ev->te_flags & TR_MAP_ANON)) {
			put_varint(b, ev->te_file);
			put_varint(b, ev->te_offset >> TRACE_PAGE_SHIFT);
		}
		break;
	case TR_MPROTECT:
		put_range(w, ev->te_addr, ev->te_len);
		put_u8(b, (uint8_t)ev->te_prot);
		break;
	case TR_MREMAP:
		put_range(w, ev->te_addr, ev->te_len);
		put_zz(b, page_delta(ev->te_arg, ev->te_addr));
		put_varint(b, ev->te_len2 >> TRACE_PAGE_SHIFT);
		break;
	case TR_MUNMAP:
	case TR_DONTNEED:
		put_range(w, ev->te_addr, ev->te_len);
		break;
	case TR_BRK:
	case TR_FAULT:
		put_zz(b, (int64_t)(ev->te_addr - w->last_addr));
		if (ev->te_kind == TR_BRK && ev->te_arg)
			put_varint(b, ev->te_addr - ev->te_arg);
		w->last_addr = ev->te_addr;
		break;
	default:   /* TR_EXIT */
		break;
	}
}

int trace_writer_add(struct trace_writer *w, const struct trace_event *ev, char *why, size_t len)
{
	struct trace_rules before = w->rules;

	if (trace_rules_check(&w->rules, ev, why, len))
		return -1;
	uint8_t tag = (uint8_t)ev->te_kind;
	if (ev->te_pid == w->last_pid)
		tag |= TRACE_TAG_SAME_PID;
	if (ev->te_kind == TR_FAULT)
		tag |= fault_tag_bits(ev->te_fault);
	if (ev->te_kind == TR_BRK && ev->te_arg)
		tag |= TRACE_TAG_BRK_START;
	if (ev->te_kind == TR_FORK && (ev->te_flags & TR_FORK_VM))
		tag |= TRACE_TAG_FORK_VM;
	put_u8(&w->events, tag);
	if (!(tag & TRACE_TAG_SAME_PID))
		put_varint(&w->events, ev->te_pid);
	put_body(w, ev);
	if (w->events.oom) {
		w->rules = before;
		snprintf(why, len, "out of memory");
		return -1;
	}
	w->last_pid = ev->te_pid;
	w->counts[ev->te_kind]++;
	w->counts[0]++;
	return 0;
}

uint32_t trace_writer_processes(const struct trace_writer *w)
{
	return w->rules.processes;
}

uint64_t trace_writer_count(const struct trace_writer *w, uint32_t kind)
{
	return kind <= TR_KIND_MAX ? w->counts[kind] : 0;
}

/* Everything before the events: magic, version, header, file table. */
static void put_head(const struct trace_writer *w, const struct trace_meta *meta, struct bytes *b)
{
	put(b, TRACE_MAGIC, TRACE_MAGIC_LEN);
	put_u32le(b, TRACE_VERSION);
	put_string(b, meta->command, TRACE_MAX_COMMAND);
	put_string(b, meta->machine, TRACE_MAX_MACHINE);
	put_string(b, meta->date, TRACE_MAX_DATE);
	put_varint(b, w->counts[0]);
	for (uint32_t k = 1; k <= TR_KIND_MAX; k++)
		put_varint(b, w->counts[k]);
	put_varint(b, w->rules.processes);
	put_varint(b, w->nfiles);
	put_varint(b, meta->lost);
	put_varint(b, meta->skipped);
	for (uint32_t i = 0; i < w->nfiles; i++) {
		put_varint(b, w->files[i].dev);
		put_varint(b, w->files[i].inode);
		put_string(b, w->files[i].path, TRACE_MAX_PATH);
	}
}

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int trace_writer_save(struct trace_writer *w, const char *path, const struct trace_meta *meta,
		      char *err, size_t errlen)
{
	struct bytes head = { 0 }, tail = { 0 };
	struct out_file out;
	int rc = -1;

	put_head(w, meta, &head);
	put_u8(&tail, TRACE_TAG_END);
	uint32_t crc = trace_crc32(trace_crc32(0, head.p, head.len), w->events.p, w->events.len);
	crc = trace_crc32(crc, tail.p, tail.len);
	put_u32le(&tail, crc);
	if (head.oom || tail.oom || w->events.oom)
		snprintf(err, errlen, "%s: out of memory", path);
	else if (out_file_open(&out, path, err, errlen) == 0) {
		if (write_all(out.fd, head.p, head.len) || write_all(out.fd, w->events.p, w->events.len) ||
		    write_all(out.fd, tail.p, tail.len)) {
			snprintf(err, errlen, "%s: write: %s", path, strerror(errno));
			out_file_abort(&out, NULL);
		} else {
			rc = out_file_commit(&out, NULL, err, errlen);
		}
	}
	free(head.p);
	free(tail.p);
	return rc;
}

void trace_writer_free(struct trace_writer *w)
{
	if (!w)
		return;
	for (uint32_t i = 0; i < w->nfiles; i++)
		free(w->files[i].path);
	free(w->files);
	free(w->events.p);
	trace_map_free(&w->file_index);
	free(w);
}
