/* SPDX-License-Identifier: BSD-2-Clause */
/* A recorded process tree's memory events, decoded: what the host's trace reader yields and the guest's replay consumes. */
#ifndef HATVM_TRACE_H
#define HATVM_TRACE_H

#include <stdint.h>

/*
 * One event of a recorded Linux process tree, in recording order. The
 * compact on-disk format (varint/delta coded, versioned) is the host's
 * business (vmm/trace_*.c); this fixed-size record is the contract between
 * the host's reader and the guest's replay, which checks every field again:
 * it never trusts what crosses the hypercall.
 */
enum trace_kind {
	TR_FORK = 1,        /* pid forked child (te_arg); te_flags TR_FORK_VM: a vfork */
	TR_EXEC = 2,        /* pid's address space replaced (te_file: the program) */
	TR_EXIT = 3,        /* pid ended */
	TR_MMAP = 4,        /* [te_addr, +te_len) te_prot, te_flags; file te_file at te_offset, or anonymous */
	TR_MUNMAP = 5,      /* [te_addr, +te_len) */
	TR_MPROTECT = 6,    /* [te_addr, +te_len) to te_prot */
	TR_MREMAP = 7,      /* [te_addr, +te_len) moved/resized to [te_arg, +te_len2) */
	TR_BRK = 8,         /* the heap now ends at te_addr (te_arg: where it started, when known) */
	TR_DONTNEED = 9,    /* madvise(MADV_DONTNEED) of [te_addr, +te_len) */
	TR_FAULT = 10,      /* a user page fault at te_addr, te_fault bits */
	TR_KIND_MAX = TR_FAULT,
};

/* te_prot: PROT_* as Linux numbers them. */
#define TR_PROT_READ   0x1u
#define TR_PROT_WRITE  0x2u
#define TR_PROT_EXEC   0x4u

/* te_flags. */
#define TR_MAP_SHARED  0x1u   /* else private */
#define TR_MAP_ANON    0x2u   /* else te_file names the file */
#define TR_MAP_STACK   0x4u   /* the main stack ([stack]) */

/*
 * te_flags of a FORK: the child shares its parent's memory (clone with
 * CLONE_VM and without CLONE_THREAD: vfork, posix_spawn) until it execs
 * or exits; its events act on that one address space.
 */
#define TR_FORK_VM     0x1u

/* te_fault: the access and what the hardware said (x86 #PF error code bits 0, 1, 4). */
#define TR_FAULT_PRESENT 0x1u  /* a protection fault on a present page */
#define TR_FAULT_WRITE   0x2u
#define TR_FAULT_EXEC    0x10u

#define TR_FILE_NONE UINT32_MAX

struct trace_event {
	uint64_t te_addr;
	uint64_t te_len;
	uint64_t te_arg;       /* FORK: child pid; MREMAP: new address; BRK: heap start or 0 */
	uint64_t te_len2;      /* MREMAP: new length */
	uint64_t te_offset;    /* MMAP of a file: byte offset */
	uint32_t te_kind;      /* enum trace_kind */
	uint32_t te_pid;
	uint32_t te_file;      /* index into the trace's file table, TR_FILE_NONE */
	uint16_t te_prot;      /* TR_PROT_* */
	uint8_t te_flags;      /* TR_MAP_* */
	uint8_t te_fault;      /* TR_FAULT_* */
};

_Static_assert(sizeof(struct trace_event) == 56, "trace_event layout");

#endif
