/* SPDX-License-Identifier: BSD-2-Clause */
/* Test helper: writes ELF64 images field by field, so tests can plant any defect. */
#ifndef HATVM_TESTS_ELF_BUILDER_H
#define HATVM_TESTS_ELF_BUILDER_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EB_MAX_PHDRS 40
#define EB_MAX_SYMS  8
#define EB_PHDR_AT   sizeof(Elf64_Ehdr)    /* where the program header table is written */

struct eb_sym {
	const char *name;
	uint64_t value, size;
	bool undefined;     /* st_shndx SHN_UNDEF (else SHN_ABS) */
	bool local;         /* STB_LOCAL (else STB_GLOBAL) */
};

/*
 * Every field is written verbatim, whatever it says: ehdr at 0, phdr[] at
 * EB_PHDR_AT, data[i] at data_at[i]. So a test may set e_phoff or p_offset
 * to nonsense without moving the bytes.
 */
struct eb_image {
	Elf64_Ehdr ehdr;
	size_t nphdr;
	Elf64_Phdr phdr[EB_MAX_PHDRS];
	const void *data[EB_MAX_PHDRS];
	size_t data_len[EB_MAX_PHDRS];
	uint64_t data_at[EB_MAX_PHDRS];
	uint64_t next_data;             /* file offset for the next segment's bytes */
	size_t nsyms;                   /* > 0: append .symtab, .strtab, .shstrtab */
	struct eb_sym syms[EB_MAX_SYMS];
	int64_t truncate_to;            /* >= 0: cut the written file to this size */

	/* Set by eb_write: */
	uint64_t out_size;
	uint64_t out_shoff;             /* section headers: 0 null, 1 .symtab, 2 .strtab, 3 .shstrtab */
	uint64_t out_symtab_off;        /* .symtab contents */
	uint64_t out_strtab_off, out_strtab_size;
};

/* A valid ET_EXEC x86-64 header with no program headers yet. */
void eb_init(struct eb_image *img);

/* Appends a program header (e_phnum follows) and its file bytes; returns its index. */
size_t eb_add_phdr(struct eb_image *img, uint32_t type, uint64_t vaddr, uint64_t paddr,
		   uint32_t flags, const void *data, size_t filesz, uint64_t memsz);

static inline size_t eb_add_load(struct eb_image *img, uint64_t vaddr, uint64_t paddr,
				 uint32_t flags, const void *data, size_t filesz, uint64_t memsz)
{
	return eb_add_phdr(img, PT_LOAD, vaddr, paddr, flags, data, filesz, memsz);
}

void eb_add_sym(struct eb_image *img, struct eb_sym sym);

/* Writes the image to PATH; 0 or -1 (errno set). */
int eb_write(struct eb_image *img, const char *path);

/* Overwrites LEN bytes at OFF in an existing file; 0 or -1. */
int eb_patch(const char *path, uint64_t off, const void *bytes, size_t len);

#endif
