/* SPDX-License-Identifier: BSD-2-Clause */
/* ELF core files of a guest: all RAM plus every vCPU's registers; writer and hardened reader. */
#ifndef VMM_CORE_DUMP_H
#define VMM_CORE_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "guest_mem.h"

/*
 * File format (ET_CORE, EM_X86_64, ELFCLASS64, little-endian):
 *
 *   PT_NOTE   notes, 4-byte aligned as Linux writes them:
 *               "HATVM" HATVM_NT_MACHINE  struct hatvm_note_machine (once, first)
 *               "HATVM" HATVM_NT_RUN      struct hatvm_note_run (once; older cores lack it)
 *             then for each vCPU i, in order:
 *               "CORE"  NT_PRSTATUS       struct elf_prstatus (<sys/procfs.h>),
 *                                         pr_pid = i + 1, general registers in pr_reg
 *               "HATVM" HATVM_NT_VCPU     struct hatvm_note_vcpu
 *   PT_LOAD   one per RAM range (today one: GPA 0 .. RAM size), page-aligned
 *             in the file; p_paddr = p_vaddr = the GPA. Virtual addresses in
 *             the core are guest-physical.
 *
 * Sections name the same bytes ("note0", "load0") for readelf -S; readers
 * use only the program headers.
 */
#define HATVM_NOTE_NAME      "HATVM"
#define HATVM_NT_VCPU        0x48560001u
#define HATVM_NT_MACHINE     0x48560002u
#define HATVM_NT_RUN         0x48560003u
#define HATVM_CORE_VERSION   1u

#define CORE_MAX_CPUS        64u
#define CORE_MAX_RAM         0xC0000000ull      /* 3 GiB, as GUEST_RAM_MAX */
#define CORE_MAX_NOTES       (1u << 20)         /* bytes of PT_NOTE a reader accepts */
#define CORE_MAX_PHDRS       256u

struct hatvm_note_machine {
	uint64_t version;        /* HATVM_CORE_VERSION */
	uint64_t ram_size;       /* bytes of RAM from GPA 0 */
	uint64_t cpu_count;
};

/* How the run that wrote the core ended. */
struct hatvm_note_run {
	uint64_t flags;          /* HATVM_RUN_* */
};
/* The watchdog stopped the guest where it stood, perhaps inside an MM operation. */
#define HATVM_RUN_MID_RUN    1ull

/* Special registers of one vCPU; RIP, RSP, RFLAGS repeat pr_reg's for tools that read only this. */
struct hatvm_note_vcpu {
	uint64_t cpu;            /* index, 0 = boot CPU */
	uint64_t cr0, cr2, cr3, cr4, cr8;
	uint64_t efer, apic_base;
	uint64_t rip, rsp, rflags;
};

/* One vCPU's registers in plain form (no KVM needed to read a core). */
struct core_vcpu_state {
	unsigned cpu;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint16_t cs, ds, es, fs, gs, ss;          /* selectors */
	uint64_t fs_base, gs_base;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, apic_base;
};

struct kvm_regs;
struct kvm_sregs;

/* Fills *out from KVM's register structs (KVM_GET_REGS / KVM_GET_SREGS). Any thread. */
void core_vcpu_from_kvm(const struct kvm_regs *regs, const struct kvm_sregs *sregs, unsigned cpu,
			struct core_vcpu_state *out);

/*
 * Writes a core file of GM and NCPUS vCPUs to PATH, through libelf and
 * out_file: the core appears at PATH (a symlink's file is replaced) only
 * when complete. PATH must be absent or a regular file: a FIFO, device or
 * directory is refused, never opened. The guest must stay paused while it
 * runs. RUN_FLAGS (HATVM_RUN_*) say how the run ended. Returns 0, or -1
 * with err set to "PATH: reason", any previous file untouched and nothing
 * left behind.
 */
int core_dump_write(const char *path, const struct guest_mem *gm,
		    const struct core_vcpu_state *vcpus, unsigned ncpus, uint64_t run_flags,
		    char *err, size_t errlen);

/*
 * Reads a core file written by core_dump_write, treating it as hostile:
 * PATH is opened without blocking and must be a regular file, every
 * offset and size is checked, RAM is capped at CORE_MAX_RAM. On
 * success returns 0, maps RAM into *gm_out (free with guest_mem_unmap) and
 * sets *vcpus (free()) to *ncpus states indexed by cpu and *run_flags
 * (HATVM_RUN_*; 0 in a core without the note). On failure returns -1 with
 * err set to "PATH: reason" and nothing allocated.
 */
int core_dump_read(const char *path, struct guest_mem *gm_out, struct core_vcpu_state **vcpus,
		   unsigned *ncpus, uint64_t *run_flags, char *err, size_t errlen);

#endif
