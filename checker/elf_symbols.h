/* SPDX-License-Identifier: BSD-2-Clause */
/* Guest symbol lookup (name -> address, size) from an ELF file's .symtab. */
#ifndef HATVM_ELF_SYMBOLS_H
#define HATVM_ELF_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct elf_symbols;

/*
 * Reads the defined symbols of the 64-bit little-endian ELF file at PATH
 * into host memory; the file is not kept open. Any e_type is accepted
 * (ET_DYN too; values are then link-time, not load, addresses). A file
 * without .symtab gives a valid, empty table. Returns NULL with err set
 * ("PATH: <defect>") when the file is unreadable or its symbol data corrupt.
 */
struct elf_symbols *elf_symbols_open(const char *path, char *err, size_t errlen);

/*
 * 0 and *addr, *size set when NAME is a defined symbol; -1 otherwise. A global
 * or weak definition wins over local ones of the same name.
 */
int elf_symbols_lookup(const struct elf_symbols *syms, const char *name, uint64_t *addr,
		       uint64_t *size);

void elf_symbols_close(struct elf_symbols *syms);

#endif
