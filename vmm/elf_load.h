/* SPDX-License-Identifier: BSD-2-Clause */
/* Loads an untrusted x86-64 ELF executable into guest RAM after validating it. */
#ifndef HATVM_ELF_LOAD_H
#define HATVM_ELF_LOAD_H

#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 32

struct elf_segment {
	uint64_t vaddr, paddr, filesz, memsz;
	uint32_t flags;               /* PF_R | PF_W | PF_X */
};

struct elf_image {
	uint64_t entry;
	size_t nsegs;
	struct elf_segment segs[ELF_MAX_SEGMENTS];
};

/*
 * Validates the image at PATH and copies every PT_LOAD to ram + p_paddr
 * (zeroing p_memsz - p_filesz). Segments must lie within [load_min,
 * ram_size). Nothing is written to RAM unless every check passes.
 * Returns 0, or -1 with err = "PATH: <defect>".
 */
int elf_load(const char *path, uint8_t *ram, uint64_t ram_size, uint64_t load_min,
	     struct elf_image *img, char *err, size_t errlen);

#endif
