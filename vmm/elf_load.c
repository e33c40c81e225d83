/* SPDX-License-Identifier: BSD-2-Clause */
/* Validates an untrusted ELF executable and copies its PT_LOAD segments into guest RAM. */
#include "elf_load.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hatvm/layout.h>
#include <hatvm/x86.h>

#include "elf_file.h"

#define HOST_PAGE_MASK 0xfffull   /* the host maps segments with 4 KiB pages */

struct load_ctx {
	const char *path;
	char *err;
	size_t errlen;
	uint8_t *data;                        /* the whole file */
	size_t size;
	uint64_t ram_size, load_min;
	struct elf_image *img;
	uint64_t offset[ELF_MAX_SEGMENTS];    /* p_offset of img->segs[i] */
	size_t phidx[ELF_MAX_SEGMENTS];       /* program header index of img->segs[i] */
};

__attribute__((format(printf, 2, 3)))
static int fail(const struct load_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	path_verrf(c->err, c->errlen, c->path, fmt, ap);
	va_end(ap);
	return -1;
}

/* Checks e_ident by hand so libelf never byte-swaps or widens anything. */
static int check_ident(const struct load_ctx *c)
{
	const uint8_t *id = c->data;
	size_t n = c->size < SELFMAG ? c->size : SELFMAG;
	if (memcmp(id, ELFMAG, n) != 0)
		return fail(c, "not an ELF file (bad magic)");
	if (c->size < EI_NIDENT)
		return fail(c, "truncated: %zu bytes, shorter than an ELF identification", c->size);
	if (id[EI_CLASS] != ELFCLASS64)
		return fail(c, "ELF class %u is not ELFCLASS64", id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return fail(c, "ELF data encoding %u is not ELFDATA2LSB (host endianness)",
			    id[EI_DATA]);
	if (id[EI_VERSION] != EV_CURRENT)
		return fail(c, "e_ident version %u is not EV_CURRENT", id[EI_VERSION]);
	if (c->size < sizeof(Elf64_Ehdr))
		return fail(c, "truncated: %zu bytes, shorter than the %zu-byte ELF header",
			    c->size, sizeof(Elf64_Ehdr));
	return 0;
}

static const char *type_name(unsigned type)
{
	switch (type) {
	case ET_NONE: return "ET_NONE";
	case ET_REL: return "ET_REL";
	case ET_DYN: return "ET_DYN";
	case ET_CORE: return "ET_CORE";
	default: return "unknown";
	}
}

static int check_phdr_bounds(const struct load_ctx *c, uint64_t phoff, size_t phnum)
{
	uint64_t bytes, end;
	if (__builtin_mul_overflow((uint64_t)phnum, sizeof(Elf64_Phdr), &bytes) ||
	    __builtin_add_overflow(phoff, bytes, &end) || end > c->size)
		return fail(c, "program header table (e_phoff 0x%" PRIx64 ", %zu entries) "
			    "extends past end of file (%zu bytes)", phoff, phnum, c->size);
	return 0;
}

/* With e_phnum == PN_XNUM the count is in section 0, which must then exist. */
static int check_xnum_source(const struct load_ctx *c, const GElf_Ehdr *eh)
{
	uint64_t end;
	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    __builtin_add_overflow(eh->e_shoff, sizeof(Elf64_Shdr), &end) || end > c->size)
		return fail(c, "e_phnum is PN_XNUM but there is no section 0 to hold the "
			    "program header count");
	return 0;
}

static int check_ehdr(const struct load_ctx *c, const GElf_Ehdr *eh)
{
	if (eh->e_version != EV_CURRENT)
		return fail(c, "e_version %u is not EV_CURRENT", eh->e_version);
	if (eh->e_type != ET_EXEC)
		return fail(c, "e_type %s (%u) is not ET_EXEC", type_name(eh->e_type), eh->e_type);
	if (eh->e_machine != EM_X86_64)
		return fail(c, "e_machine %u is not EM_X86_64", eh->e_machine);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return fail(c, "e_phentsize %u is not %zu", eh->e_phentsize, sizeof(Elf64_Phdr));
	return 0;
}

/* Sets *phnum once the whole program header table is known to lie in the file. */
static int count_phdrs(const struct load_ctx *c, Elf *e, const GElf_Ehdr *eh, size_t *phnum)
{
	if (eh->e_phnum == 0)
		return fail(c, "no program headers (e_phnum 0)");
	/* Before libelf looks: it reports an out-of-file table only as "invalid data". */
	if (eh->e_phnum != PN_XNUM && check_phdr_bounds(c, eh->e_phoff, eh->e_phnum))
		return -1;
	if (eh->e_phnum == PN_XNUM && check_xnum_source(c, eh))
		return -1;
	if (elf_getphdrnum(e, phnum) != 0)
		return fail(c, "cannot count program headers: %s", elf_errmsg(-1));
	if (*phnum < 1)
		return fail(c, "no program headers (extended count 0)");
	return check_phdr_bounds(c, eh->e_phoff, *phnum);
}

static int check_seg_file(const struct load_ctx *c, size_t i, const GElf_Phdr *ph)
{
	uint64_t end;
	if (ph->p_filesz > ph->p_memsz)
		return fail(c, "segment %zu: p_filesz 0x%" PRIx64 " exceeds p_memsz 0x%" PRIx64,
			    i, ph->p_filesz, ph->p_memsz);
	if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &end) || end > c->size)
		return fail(c, "segment %zu: file data (p_offset 0x%" PRIx64 "+0x%" PRIx64 ") "
			    "extends past end of file (%zu bytes)", i, ph->p_offset,
			    ph->p_filesz, c->size);
	return 0;
}

static int check_seg_flags(const struct load_ctx *c, size_t i, const GElf_Phdr *ph)
{
	if (ph->p_align > 1 && (ph->p_align & (ph->p_align - 1)) != 0)
		return fail(c, "segment %zu: p_align 0x%" PRIx64 " is not 0, 1 or a power of two",
			    i, ph->p_align);
	if ((ph->p_flags & (PF_W | PF_X)) == (PF_W | PF_X))
		return fail(c, "segment %zu is both writable and executable (W+X)", i);
	return 0;
}

/* [start, end) must not reach into or across the non-canonical hole. */
static bool canonical_range(uint64_t start, uint64_t end)
{
	if (end == start)
		return x86_va_canonical(start);
	return x86_va_canonical(start) && x86_va_canonical(end - 1) &&
	       (start >> (X86_VA_BITS - 1)) == ((end - 1) >> (X86_VA_BITS - 1));
}

static int check_seg_addrs(const struct load_ctx *c, size_t i, const GElf_Phdr *ph)
{
	uint64_t vend, pend;
	if (__builtin_add_overflow(ph->p_vaddr, ph->p_memsz, &vend))
		return fail(c, "segment %zu: virtual range p_vaddr 0x%" PRIx64 "+0x%" PRIx64
			    " wraps around the address space", i, ph->p_vaddr, ph->p_memsz);
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &pend))
		return fail(c, "segment %zu: physical range p_paddr 0x%" PRIx64 "+0x%" PRIx64
			    " wraps around the address space", i, ph->p_paddr, ph->p_memsz);
	if (!canonical_range(ph->p_vaddr, vend))
		return fail(c, "segment %zu: virtual range [0x%" PRIx64 ", 0x%" PRIx64 ") is not "
			    "canonical x86-64", i, ph->p_vaddr, vend);
	if (ph->p_paddr < c->load_min || pend > c->ram_size)
		return fail(c, "segment %zu (p_paddr 0x%" PRIx64 "+0x%" PRIx64 ") lies outside "
			    "guest RAM [0x%" PRIx64 ", 0x%" PRIx64 ")", i, ph->p_paddr,
			    ph->p_memsz, c->load_min, c->ram_size);
	if ((ph->p_vaddr ^ ph->p_paddr) & HOST_PAGE_MASK)
		return fail(c, "segment %zu: p_vaddr 0x%" PRIx64 " and p_paddr 0x%" PRIx64
			    " differ in page offset (4 KiB pages)", i, ph->p_vaddr, ph->p_paddr);
	if (ph->p_vaddr != ph->p_paddr && ph->p_vaddr < BOOT_IDENTITY_END)
		return fail(c, "segment %zu: p_vaddr 0x%" PRIx64 " != p_paddr 0x%" PRIx64
			    " inside the host's identity-mapped range [0, 0x%" PRIx64 ")", i,
			    ph->p_vaddr, ph->p_paddr, (uint64_t)BOOT_IDENTITY_END);
	return 0;
}

static void record_segment(struct load_ctx *c, size_t i, const GElf_Phdr *ph)
{
	size_t k = c->img->nsegs++;
	c->img->segs[k] = (struct elf_segment){
		.vaddr = ph->p_vaddr, .paddr = ph->p_paddr,
		.filesz = ph->p_filesz, .memsz = ph->p_memsz, .flags = ph->p_flags,
	};
	c->offset[k] = ph->p_offset;
	c->phidx[k] = i;
}

/* Validates each PT_LOAD on its own and records it in c->img. */
static int collect_loads(struct load_ctx *c, Elf *e, size_t phnum)
{
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			return fail(c, "cannot read program header %zu: %s", i, elf_errmsg(-1));
		if (ph.p_type != PT_LOAD)
			continue;
		if (c->img->nsegs == ELF_MAX_SEGMENTS)
			return fail(c, "more than %d PT_LOAD segments", ELF_MAX_SEGMENTS);
		if (check_seg_file(c, i, &ph) || check_seg_flags(c, i, &ph) ||
		    check_seg_addrs(c, i, &ph))
			return -1;
		record_segment(c, i, &ph);
	}
	if (c->img->nsegs == 0)
		return fail(c, "no PT_LOAD segment");
	return 0;
}

/* Empty ranges overlap nothing; ends cannot wrap (checked per segment). */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int check_overlaps(const struct load_ctx *c)
{
	const struct elf_segment *s = c->img->segs;
	for (size_t i = 0; i < c->img->nsegs; i++) {
		for (size_t j = i + 1; j < c->img->nsegs; j++) {
			if (overlap(s[i].paddr, s[i].memsz, s[j].paddr, s[j].memsz))
				return fail(c, "segments %zu and %zu overlap in physical memory",
					    c->phidx[i], c->phidx[j]);
			if (overlap(s[i].vaddr, s[i].memsz, s[j].vaddr, s[j].memsz))
				return fail(c, "segments %zu and %zu overlap in virtual memory",
					    c->phidx[i], c->phidx[j]);
		}
	}
	return 0;
}

static int check_entry(const struct load_ctx *c)
{
	uint64_t entry = c->img->entry;
	for (size_t i = 0; i < c->img->nsegs; i++) {
		const struct elf_segment *s = &c->img->segs[i];
		if ((s->flags & PF_X) && entry >= s->vaddr && entry - s->vaddr < s->memsz)
			return 0;
	}
	return fail(c, "entry point 0x%" PRIx64 " is not inside an executable (PF_X) PT_LOAD "
		    "segment", entry);
}

static void copy_segments(const struct load_ctx *c, uint8_t *ram)
{
	for (size_t i = 0; i < c->img->nsegs; i++) {
		const struct elf_segment *s = &c->img->segs[i];
		memcpy(ram + s->paddr, c->data + c->offset[i], s->filesz);
		memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	}
}

/* Header and per-segment checks: the part that needs the libelf handle. */
static int validate_elf(struct load_ctx *c, Elf *e)
{
	GElf_Ehdr eh;
	size_t phnum = 0;
	if (!gelf_getehdr(e, &eh))
		return fail(c, "cannot read the ELF header: %s", elf_errmsg(-1));
	if (check_ehdr(c, &eh) || count_phdrs(c, e, &eh, &phnum) || collect_loads(c, e, phnum))
		return -1;
	c->img->entry = eh.e_entry;
	return 0;
}

static int validate(struct load_ctx *c)
{
	if (check_ident(c))
		return -1;
	Elf *e = elf_file_memory(c->path, c->data, c->size, c->err, c->errlen);
	if (!e)
		return -1;
	int rc = validate_elf(c, e);
	elf_end(e);
	if (rc || check_overlaps(c) || check_entry(c))
		return -1;
	return 0;
}

int elf_load(const char *path, uint8_t *ram, uint64_t ram_size, uint64_t load_min,
	     struct elf_image *img, char *err, size_t errlen)
{
	memset(img, 0, sizeof(*img));
	struct load_ctx c = {
		.path = path, .err = err, .errlen = errlen,
		.ram_size = ram_size, .load_min = load_min, .img = img,
	};
	if (elf_read_file(path, &c.data, &c.size, err, errlen))
		return -1;
	int rc = validate(&c);
	if (rc == 0)
		copy_segments(&c, ram);
	else
		memset(img, 0, sizeof(*img));
	free(c.data);
	return rc;
}
