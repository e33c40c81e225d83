/* SPDX-License-Identifier: BSD-2-Clause */
/* Reads an untrusted ELF file's .symtab into host memory and looks symbols up by name. */
#include "elf_symbols.h"

#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_file.h"

struct sym_entry {
	const char *name;     /* points into names */
	uint64_t value, size;
	bool global;          /* STB_GLOBAL or STB_WEAK */
};

struct elf_symbols {
	size_t n;
	struct sym_entry *v;
	char *names;          /* a copy of .strtab */
};

struct sym_ctx {
	const char *path;
	char *err;
	size_t errlen;
	uint8_t *data;        /* the whole file */
	size_t size;
};

/* Writes "PATH: <message>" to err; always returns -1. */
__attribute__((format(printf, 2, 3)))
static int fail(const struct sym_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	path_verrf(c->err, c->errlen, c->path, fmt, ap);
	va_end(ap);
	return -1;
}

/* Only native 64-bit files, so libelf hands out pointers into c->data unconverted. */
static int check_ident(const struct sym_ctx *c)
{
	const uint8_t *id = c->data;
	if (c->size < sizeof(Elf64_Ehdr) || memcmp(id, ELFMAG, SELFMAG) != 0 ||
	    id[EI_CLASS] != ELFCLASS64 || id[EI_DATA] != ELFDATA2LSB)
		return fail(c, "not a 64-bit little-endian ELF file");
	return 0;
}

/* Section contents must lie inside the file. */
static int check_bounds(const struct sym_ctx *c, size_t idx, const GElf_Shdr *sh)
{
	uint64_t end;
	if (__builtin_add_overflow(sh->sh_offset, sh->sh_size, &end) || end > c->size)
		return fail(c, "section %zu (sh_offset 0x%" PRIx64 "+0x%" PRIx64 ") extends past "
			    "end of file (%zu bytes)", idx, sh->sh_offset, sh->sh_size, c->size);
	return 0;
}

static int check_shdr_bounds(const struct sym_ctx *c, uint64_t shoff, uint64_t shnum)
{
	uint64_t bytes, end;
	if (__builtin_mul_overflow(shnum, sizeof(Elf64_Shdr), &bytes) ||
	    __builtin_add_overflow(shoff, bytes, &end) || end > c->size)
		return fail(c, "section header table (e_shoff 0x%" PRIx64 ", %" PRIu64 " entries) "
			    "extends past end of file (%zu bytes)", shoff, shnum, c->size);
	return 0;
}

/*
 * Checks the section header table from the raw header first: libelf quietly
 * reports zero sections for some broken tables, which would look like "no
 * symbols" instead of an error. *shnum is 0 when there are no sections.
 */
static int check_shdr_table(const struct sym_ctx *c, Elf *e, size_t *shnum)
{
	GElf_Ehdr eh;
	*shnum = 0;
	if (!gelf_getehdr(e, &eh))
		return fail(c, "cannot read the ELF header: %s", elf_errmsg(-1));
	if (eh.e_shoff == 0)
		return 0;
	if (eh.e_shentsize != sizeof(Elf64_Shdr))
		return fail(c, "e_shentsize %u is not %zu", eh.e_shentsize, sizeof(Elf64_Shdr));
	uint64_t count = eh.e_shnum;
	if (count == 0) {
		/* Extended numbering: section 0's sh_size holds the count. */
		Elf64_Shdr sh0;
		if (check_shdr_bounds(c, eh.e_shoff, 1))
			return -1;
		memcpy(&sh0, c->data + eh.e_shoff, sizeof(sh0));
		count = sh0.sh_size;
	}
	if (check_shdr_bounds(c, eh.e_shoff, count))
		return -1;
	size_t n;
	if (elf_getshdrnum(e, &n) != 0 || n != count)
		return fail(c, "libelf cannot read the section header table: %s", elf_errmsg(-1));
	*shnum = n;
	return 0;
}

/* Finds the first SHT_SYMTAB; *symscn stays NULL when there is none. */
static int find_symtab(const struct sym_ctx *c, Elf *e, Elf_Scn **symscn)
{
	Elf_Scn *scn = NULL;
	*symscn = NULL;
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return fail(c, "cannot read section header %zu: %s", elf_ndxscn(scn),
				    elf_errmsg(-1));
		if (sh.sh_type == SHT_SYMTAB) {
			*symscn = scn;
			return 0;
		}
	}
	return 0;
}

/* Returns a section's data, checked against its header SH, or NULL. */
static Elf_Data *table_data(const struct sym_ctx *c, Elf_Scn *scn, const GElf_Shdr *sh)
{
	size_t idx = elf_ndxscn(scn);
	if (check_bounds(c, idx, sh))
		return NULL;
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d || d->d_size != sh->sh_size || (d->d_size > 0 && !d->d_buf)) {
		fail(c, "cannot read section %zu: %s", idx, d ? "size mismatch" : elf_errmsg(-1));
		return NULL;
	}
	return d;
}

/* Copies the string table that SYMSH links to into syms->names. */
static int copy_strtab(const struct sym_ctx *c, Elf *e, const GElf_Shdr *symsh, size_t shnum,
		       struct elf_symbols *syms, size_t *strsz)
{
	Elf_Scn *scn = symsh->sh_link < shnum ? elf_getscn(e, symsh->sh_link) : NULL;
	GElf_Shdr sh;
	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB)
		return fail(c, ".symtab sh_link %u does not name a string table", symsh->sh_link);
	Elf_Data *d = table_data(c, scn, &sh);
	if (!d)
		return -1;
	syms->names = malloc(d->d_size + 1);
	if (!syms->names)
		return fail(c, "out of memory for %zu bytes of symbol names", d->d_size);
	if (d->d_size > 0)
		memcpy(syms->names, d->d_buf, d->d_size);
	syms->names[d->d_size] = '\0';
	*strsz = d->d_size;
	return 0;
}

static bool wanted(const GElf_Sym *s)
{
	unsigned type = GELF_ST_TYPE(s->st_info);
	return s->st_shndx != SHN_UNDEF && s->st_name != 0 && type != STT_SECTION &&
	       type != STT_FILE;
}

static int copy_entries(const struct sym_ctx *c, Elf_Data *d, size_t count, size_t strsz,
			struct elf_symbols *syms)
{
	syms->v = calloc(count ? count : 1, sizeof(*syms->v));
	if (!syms->v)
		return fail(c, "out of memory for %zu symbols", count);
	for (size_t i = 1; i < count; i++) {
		GElf_Sym s;
		if (!gelf_getsym(d, (int)i, &s))
			return fail(c, "cannot read symbol %zu: %s", i, elf_errmsg(-1));
		if (!wanted(&s))
			continue;
		if (s.st_name >= strsz || !memchr(syms->names + s.st_name, 0, strsz - s.st_name))
			return fail(c, "symbol %zu: name offset 0x%x lies outside .strtab (0x%zx "
				    "bytes) or is unterminated", i, s.st_name, strsz);
		unsigned bind = GELF_ST_BIND(s.st_info);
		syms->v[syms->n++] = (struct sym_entry){
			.name = syms->names + s.st_name, .value = s.st_value, .size = s.st_size,
			.global = bind == STB_GLOBAL || bind == STB_WEAK,
		};
	}
	return 0;
}

static int read_symtab(const struct sym_ctx *c, Elf *e, Elf_Scn *scn, size_t shnum,
		       struct elf_symbols *syms)
{
	GElf_Shdr sh;
	if (!gelf_getshdr(scn, &sh))
		return fail(c, "cannot read the .symtab header: %s", elf_errmsg(-1));
	if (sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_size % sizeof(Elf64_Sym) != 0)
		return fail(c, ".symtab sh_entsize %" PRIu64 " / sh_size %" PRIu64 " do not fit "
			    "Elf64_Sym", sh.sh_entsize, sh.sh_size);
	Elf_Data *d = table_data(c, scn, &sh);
	if (!d)
		return -1;
	if (sh.sh_size / sizeof(Elf64_Sym) > INT32_MAX)   /* gelf_getsym takes an int */
		return fail(c, ".symtab has too many symbols");
	size_t strsz = 0;
	if (copy_strtab(c, e, &sh, shnum, syms, &strsz))
		return -1;
	return copy_entries(c, d, sh.sh_size / sizeof(Elf64_Sym), strsz, syms);
}

static int read_symbols(const struct sym_ctx *c, struct elf_symbols *syms)
{
	if (check_ident(c))
		return -1;
	Elf *e = elf_file_memory(c->path, c->data, c->size, c->err, c->errlen);
	if (!e)
		return -1;
	size_t shnum = 0;
	Elf_Scn *scn = NULL;
	int rc = check_shdr_table(c, e, &shnum);
	if (rc == 0 && shnum > 0)
		rc = find_symtab(c, e, &scn);
	if (rc == 0 && scn)
		rc = read_symtab(c, e, scn, shnum, syms);
	elf_end(e);
	return rc;
}

struct elf_symbols *elf_symbols_open(const char *path, char *err, size_t errlen)
{
	struct sym_ctx c = { .path = path, .err = err, .errlen = errlen };
	if (elf_read_file(path, &c.data, &c.size, err, errlen))
		return NULL;
	struct elf_symbols *syms = calloc(1, sizeof(*syms));
	int rc = syms ? read_symbols(&c, syms) : fail(&c, "out of memory");
	free(c.data);
	if (rc != 0) {
		elf_symbols_close(syms);
		return NULL;
	}
	return syms;
}

int elf_symbols_lookup(const struct elf_symbols *syms, const char *name, uint64_t *addr,
		       uint64_t *size)
{
	const struct sym_entry *best = NULL;
	for (size_t i = 0; i < syms->n; i++) {
		const struct sym_entry *s = &syms->v[i];
		if (strcmp(s->name, name) != 0)
			continue;
		if (s->global) {
			best = s;
			break;
		}
		if (!best)
			best = s;
	}
	if (!best)
		return -1;
	*addr = best->value;
	*size = best->size;
	return 0;
}

void elf_symbols_close(struct elf_symbols *syms)
{
	if (!syms)
		return;
	free(syms->v);
	free(syms->names);
	free(syms);
}
