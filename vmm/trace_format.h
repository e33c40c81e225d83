/* SPDX-License-Identifier: BSD-2-Clause */
/* The trace file's on-disk layout (version 2): magic, header, file table, varint/delta-coded events, CRC. */
#ifndef VMM_TRACE_FORMAT_H
#define VMM_TRACE_FORMAT_H

#include <stdint.h>

#include "hatvm/trace.h"

/*
 * A trace file, all integers little-endian, "varint" = unsigned LEB128
 * (at most 10 bytes, no bits past 64), "string" = varint length + bytes
 * (no NUL), "zz" = a signed difference in zigzag form inside a varint:
 *
 *   "HATVMTRC"        8 bytes of magic
 *   u32 version       TRACE_VERSION
 *   header            string command, string machine, string date;
 *                     varint events; varint count[kind] for kinds 1..TR_KIND_MAX;
 *                     varint processes; varint files; varint lost; varint skipped
 *   file table        files x { varint dev (major << 32 | minor); varint inode; string path }
 *   events            events x one record (below)
 *   u8 0              the end tag
 *   u32 crc           CRC-32 (IEEE) of every byte before it
 *
 * A record starts with a tag byte: bits 0-3 the kind, bit 4 "same process
 * as the record before" (else a varint process id follows), bits 5-7 as
 * the kind says (zero otherwise). "addr" fields are deltas against the
 * address of the previous record that has one: zz of the byte difference
 * for FAULT and BRK, zz of the page-number difference for the others,
 * whose addresses and lengths are whole pages (lengths in pages).
 *
 *   FORK      varint child            (the next unused process id);
 *             tag bit 5: TR_FORK_VM (version 2; zero in version 1)
 *   EXEC      varint file + 1         (0: no file)
 *   EXIT      -
 *   MMAP      addr; varint pages; u8 prot | flags << 3;
 *             unless TR_MAP_ANON: varint file; varint offset in pages
 *   MUNMAP    addr; varint pages
 *   MPROTECT  addr; varint pages; u8 prot
 *   MREMAP    addr; varint pages; zz (new page - old page); varint new pages
 *   BRK       addr (the break); tag bit 5: varint (break - heap start) follows
 *   DONTNEED  addr; varint pages
 *   FAULT     addr; tag bits 5, 6, 7: present, write, exec
 *
 * Process 0 is the recorded command; every other process appears first
 * as the child of a FORK, in order. Addresses are user addresses below
 * TRACE_ADDR_LIMIT.
 */

#define TRACE_MAGIC      "HATVMTRC"
#define TRACE_MAGIC_LEN  8
#define TRACE_VERSION    2u
#define TRACE_VERSION_MIN 1u   /* version 1: no FORK tag bits */

#define TRACE_PAGE_SHIFT 12
#define TRACE_PAGE_SIZE  (1ull << TRACE_PAGE_SHIFT)
#define TRACE_ADDR_LIMIT (1ull << 47)        /* x86-64 4-level user half */
#define TRACE_OFFSET_LIMIT (1ull << 52)      /* file offsets (bytes) */

/* Sane maxima the reader enforces besides the file's own size. */
#define TRACE_MAX_COMMAND  65536u
#define TRACE_MAX_MACHINE  1024u
#define TRACE_MAX_DATE     64u
#define TRACE_MAX_PATH     4096u
#define TRACE_MAX_FILES    (1u << 20)
#define TRACE_MAX_PATH_BYTES (64u << 20)     /* the whole file table's paths */
#define TRACE_MAX_PROCESSES (1u << 24)

/* The tag byte. */
#define TRACE_TAG_KIND      0x0fu
#define TRACE_TAG_SAME_PID  0x10u
#define TRACE_TAG_SHIFT     5
#define TRACE_TAG_BRK_START 0x20u
#define TRACE_TAG_FORK_VM   0x20u
#define TRACE_TAG_END       0x00u

#endif
