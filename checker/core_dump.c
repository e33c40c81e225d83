/* SPDX-License-Identifier: BSD-2-Clause */
/* Writes guest RAM and vCPU registers as an ELF core (libelf), and reads such a core back, untrusted. */
#include "core_dump.h"

#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include "elf_file.h"
#include "hatvm/layout.h"
#include "out_file.h"

#define CORE_NOTE_NAME     "CORE"
#define NOTE_ALIGN         4u
#define RAM_FILE_ALIGN     4096u
#define EHDR_SIZE          sizeof(Elf64_Ehdr)
#define PHDR_SIZE          sizeof(Elf64_Phdr)
#define CORE_PHDRS         4u      /* PT_NOTE, RAM by GPA, and its two aliases (below) */
#define KERNEL_ALIAS_MAX   (1ull << 30)   /* the image sits low; KERNEL_BASE + 2 GiB would wrap */

_Static_assert(sizeof(struct user_regs_struct) == sizeof(elf_gregset_t), "pr_reg is user_regs_struct");

/* Section names, at fixed offsets in .shstrtab */
static const char shstrtab[] = "\0note0\0load0\0.shstrtab";
#define SHNAME_NOTE     1
#define SHNAME_LOAD     7
#define SHNAME_SHSTRTAB 13

void core_vcpu_from_kvm(const struct kvm_regs *r, const struct kvm_sregs *s, unsigned cpu,
			struct core_vcpu_state *out)
{
	*out = (struct core_vcpu_state){
		.cpu = cpu,
		.rax = r->rax, .rbx = r->rbx, .rcx = r->rcx, .rdx = r->rdx,
		.rsi = r->rsi, .rdi = r->rdi, .rsp = r->rsp, .rbp = r->rbp,
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11,
		.r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15,
		.rip = r->rip, .rflags = r->rflags,
		.cs = s->cs.selector, .ds = s->ds.selector, .es = s->es.selector,
		.fs = s->fs.selector, .gs = s->gs.selector, .ss = s->ss.selector,
		.fs_base = s->fs.base, .gs_base = s->gs.base,
		.cr0 = s->cr0, .cr2 = s->cr2, .cr3 = s->cr3, .cr4 = s->cr4, .cr8 = s->cr8,
		.efer = s->efer, .apic_base = s->apic_base,
	};
}

/* Marks bit INDEX of *seen; false when out of range or already set. */
static bool mark_seen(uint64_t *seen, uint64_t index)
{
	if (index >= CORE_MAX_CPUS || (*seen & (1ull << index)))
		return false;
	*seen |= 1ull << index;
	return true;
}

/* ---- writing ---- */

/* The notes segment, built in host memory before the file is written. */
struct note_buf {
	uint8_t *data;
	size_t len, capacity;
	bool failed;
};

static size_t align_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

static void note_put(struct note_buf *b, const void *src, size_t len)
{
	size_t padded = align_up(len, NOTE_ALIGN);

	if (b->failed)
		return;
	if (b->len + padded > b->capacity) {
		size_t capacity = (b->len + padded) * 2;
		uint8_t *grown = realloc(b->data, capacity);
		if (!grown) {
			b->failed = true;
			return;
		}
		b->data = grown;
		b->capacity = capacity;
	}
	memcpy(b->data + b->len, src, len);
	memset(b->data + b->len + len, 0, padded - len);
	b->len += padded;
}

static void note_add(struct note_buf *b, const char *name, uint32_t type, const void *desc,
		     uint32_t descsz)
{
	Elf64_Nhdr nh = { .n_namesz = (uint32_t)strlen(name) + 1, .n_descsz = descsz, .n_type = type };

	note_put(b, &nh, sizeof(nh));
	note_put(b, name, nh.n_namesz);
	note_put(b, desc, descsz);
}

static void fill_prstatus(const struct core_vcpu_state *v, struct elf_prstatus *ps)
{
	struct user_regs_struct regs = {
		.r15 = v->r15, .r14 = v->r14, .r13 = v->r13, .r12 = v->r12,
		.rbp = v->rbp, .rbx = v->rbx, .r11 = v->r11, .r10 = v->r10,
		.r9 = v->r9, .r8 = v->r8, .rax = v->rax, .rcx = v->rcx,
		.rdx = v->rdx, .rsi = v->rsi, .rdi = v->rdi,
		.orig_rax = ~0ull,      /* "not in a system call", as Linux writes it */
		.rip = v->rip, .cs = v->cs, .eflags = v->rflags, .rsp = v->rsp,
		.ss = v->ss, .fs_base = v->fs_base, .gs_base = v->gs_base,
		.ds = v->ds, .es = v->es, .fs = v->fs, .gs = v->gs,
	};

	memset(ps, 0, sizeof(*ps));
	ps->pr_pid = (int)v->cpu + 1;   /* debuggers treat pid 0 as "no thread" */
	memcpy(&ps->pr_reg, &regs, sizeof(regs));
}

static void add_vcpu_notes(struct note_buf *b, const struct core_vcpu_state *v)
{
	struct elf_prstatus ps;
	struct hatvm_note_vcpu hv = {
		.cpu = v->cpu, .cr0 = v->cr0, .cr2 = v->cr2, .cr3 = v->cr3, .cr4 = v->cr4,
		.cr8 = v->cr8, .efer = v->efer, .apic_base = v->apic_base,
		.rip = v->rip, .rsp = v->rsp, .rflags = v->rflags,
	};

	fill_prstatus(v, &ps);
	note_add(b, CORE_NOTE_NAME, NT_PRSTATUS, &ps, sizeof(ps));
	note_add(b, HATVM_NOTE_NAME, HATVM_NT_VCPU, &hv, sizeof(hv));
}

static void build_notes(struct note_buf *b, uint64_t ram_size, const struct core_vcpu_state *vcpus,
			unsigned ncpus, uint64_t run_flags)
{
	struct hatvm_note_machine m = {
		.version = HATVM_CORE_VERSION, .ram_size = ram_size, .cpu_count = ncpus,
	};
	struct hatvm_note_run run = { .flags = run_flags };

	note_add(b, HATVM_NOTE_NAME, HATVM_NT_MACHINE, &m, sizeof(m));
	note_add(b, HATVM_NOTE_NAME, HATVM_NT_RUN, &run, sizeof(run));
	for (unsigned i = 0; i < ncpus; i++)
		add_vcpu_notes(b, &vcpus[i]);
}

/* Where everything goes in the file (libelf is told the layout: ELF_F_LAYOUT). */
struct core_layout {
	uint64_t notes_off, notes_len;
	uint64_t ram_off, ram_len;
	uint64_t shstr_off, shoff;
};

static void plan_layout(struct core_layout *l, size_t notes_len, uint64_t ram_len)
{
	l->notes_off = EHDR_SIZE + CORE_PHDRS * PHDR_SIZE;
	l->notes_len = notes_len;
	l->ram_off = align_up(l->notes_off + notes_len, RAM_FILE_ALIGN);
	l->ram_len = ram_len;
	l->shstr_off = l->ram_off + ram_len;
	l->shoff = align_up(l->shstr_off + sizeof(shstrtab), 8);
}

static bool add_section(Elf *e, uint32_t name, uint32_t type, uint64_t flags, uint64_t addr,
			uint64_t offset, const void *buf, uint64_t size, uint64_t align)
{
	Elf_Scn *scn = elf_newscn(e);
	Elf_Data *d = scn ? elf_newdata(scn) : NULL;
	GElf_Shdr sh;

	if (!d || !gelf_getshdr(scn, &sh))
		return false;
	d->d_buf = (void *)buf;         /* libelf only reads it: ELF_T_BYTE is never converted */
	d->d_size = size;
	d->d_type = ELF_T_BYTE;
	d->d_align = align;
	d->d_off = 0;
	d->d_version = EV_CURRENT;
	sh.sh_name = name;
	sh.sh_type = type;
	sh.sh_flags = flags;
	sh.sh_addr = addr;
	sh.sh_offset = offset;
	sh.sh_size = size;
	sh.sh_addralign = align;
	return gelf_update_shdr(scn, &sh) != 0;
}

static bool set_headers(Elf *e, const struct core_layout *l)
{
	GElf_Ehdr eh;
	GElf_Phdr note = {
		.p_type = PT_NOTE, .p_offset = l->notes_off, .p_filesz = l->notes_len,
		.p_align = NOTE_ALIGN,
	};
	GElf_Phdr load = {
		.p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X, .p_offset = l->ram_off,
		.p_vaddr = 0, .p_paddr = 0, .p_filesz = l->ram_len, .p_memsz = l->ram_len,
		.p_align = RAM_FILE_ALIGN,
	};
	/*
	 * The same bytes again where the guest's own pointers point, so gdb
	 * reads variables (KERNEL_BASE + pa) and what they point at (the
	 * direct map) from the core, not from the image file's sections:
	 * aliases, told apart from RAM by p_vaddr != p_paddr.
	 */
	uint64_t klen = l->ram_len < KERNEL_ALIAS_MAX ? l->ram_len : KERNEL_ALIAS_MAX;
	GElf_Phdr direct = load, kernel = load;

	direct.p_vaddr = DIRECT_MAP_BASE;
	kernel.p_vaddr = KERNEL_BASE;
	kernel.p_filesz = kernel.p_memsz = klen;

	if (!gelf_getehdr(e, &eh))
		return false;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = EHDR_SIZE;
	eh.e_shoff = l->shoff;
	eh.e_shstrndx = 3;
	return gelf_update_ehdr(e, &eh) && gelf_update_phdr(e, 0, &note) && gelf_update_phdr(e, 1, &load) &&
	       gelf_update_phdr(e, 2, &direct) && gelf_update_phdr(e, 3, &kernel);
}

/* Describes the whole file to libelf and writes it; false with *why set on any libelf error. */
static bool write_elf(int fd, const struct guest_mem *gm, const struct note_buf *notes, const char **why)
{
	struct core_layout l;
	bool ok;
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);

	if (!e) {
		*why = elf_errmsg(-1);
		return false;
	}
	plan_layout(&l, notes->len, gm->size);
	ok = gelf_newehdr(e, ELFCLASS64) && gelf_newphdr(e, CORE_PHDRS) &&
	     add_section(e, SHNAME_NOTE, SHT_NOTE, 0, 0, l.notes_off, notes->data, l.notes_len, NOTE_ALIGN) &&
	     add_section(e, SHNAME_LOAD, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR, 0,
			 l.ram_off, gm->base, l.ram_len, RAM_FILE_ALIGN) &&
	     add_section(e, SHNAME_SHSTRTAB, SHT_STRTAB, 0, 0, l.shstr_off, shstrtab, sizeof(shstrtab), 1) &&
	     elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT) && set_headers(e, &l) &&
	     elf_update(e, ELF_C_WRITE) >= 0;
	if (!ok)
		*why = elf_errmsg(-1);
	elf_end(e);
	return ok;
}

/* Checks what the reader will insist on; 0 or -1 with err set. */
static int check_dump_args(const char *path, const struct guest_mem *gm,
			   const struct core_vcpu_state *vcpus, unsigned ncpus, char *err, size_t errlen)
{
	uint64_t seen = 0;

	if (ncpus < 1 || ncpus > CORE_MAX_CPUS)
		return path_errf(err, errlen, path, "%u vCPUs: expected 1 to %u", ncpus, CORE_MAX_CPUS);
	if (!gm->base || gm->size == 0 || gm->size > CORE_MAX_RAM || gm->size % 4096)
		return path_errf(err, errlen, path, "guest RAM of %" PRIu64
		                 " bytes cannot be dumped",
			    gm->size);
	for (unsigned i = 0; i < ncpus; i++) {
		if (vcpus[i].cpu >= ncpus || !mark_seen(&seen, vcpus[i].cpu))
			return path_errf(err, errlen, path, "vCPU index %u out of range or repeated", vcpus[i].cpu);
	}
	return 0;
}

/* Writes the core into OUT's temporary file and renames it into place; nothing is left on failure. */
static int write_out(struct out_file *out, const char *path, const struct guest_mem *gm,
		     const struct note_buf *notes, char *err, size_t errlen)
{
	const char *why = "unknown error";

	errno = 0;
	if (!write_elf(out->fd, gm, notes, &why)) {
		int e = errno;   /* libelf keeps the failed write's errno: EFBIG, ENOSPC... */

		out_file_abort(out, NULL);
		if (e)
			return path_errf(err, errlen, path, "cannot write the core: %s (libelf: %s)",
					 strerror(e), why);
		return path_errf(err, errlen, path, "cannot write the core: libelf: %s", why);
	}
	return out_file_commit(out, NULL, err, errlen);
}

int core_dump_write(const char *path, const struct guest_mem *gm,
		    const struct core_vcpu_state *vcpus, unsigned ncpus, uint64_t run_flags,
		    char *err, size_t errlen)
{
	struct note_buf notes = { 0 };
	struct out_file out;
	int rc;

	if (check_dump_args(path, gm, vcpus, ncpus, err, errlen))
		return -1;
	if (elf_file_libelf_init(path, err, errlen))
		return -1;
	build_notes(&notes, gm->size, vcpus, ncpus, run_flags);
	if (notes.failed) {
		free(notes.data);
		return path_errf(err, errlen, path, "out of memory");
	}
	rc = out_file_open(&out, path, err, errlen);
	if (rc == 0)
		rc = write_out(&out, path, gm, &notes, err, errlen);
	free(notes.data);
	return rc;
}

/* ---- reading ---- */

struct core_reader {
	const char *path;
	char *err;
	size_t errlen;
	int fd;
	uint64_t file_size;
	Elf *elf;
	size_t phnum;
	GElf_Phdr note;
	bool have_note;
	struct hatvm_note_machine machine;
	bool have_machine, have_run;
	struct hatvm_note_run run;
	struct core_vcpu_state vcpus[CORE_MAX_CPUS];
	uint64_t seen_prstatus, seen_vcpu;      /* bit i: cpu i's note was read */
};

#define rfail(rd, ...) path_errf((rd)->err, (rd)->errlen, (rd)->path, __VA_ARGS__)

/* True when [off, off+len) lies inside the file, without overflow. */
static bool in_file(const struct core_reader *rd, uint64_t off, uint64_t len)
{
	uint64_t end;

	return !__builtin_add_overflow(off, len, &end) && end <= rd->file_size;
}

static int open_core(struct core_reader *rd)
{
	struct stat st;

	rd->fd = input_file_open(rd->path, &st, rd->err, rd->errlen);
	if (rd->fd < 0)
		return -1;
	rd->file_size = (uint64_t)st.st_size;
	if (rd->file_size < EHDR_SIZE)
		return rfail(rd, "truncated: %" PRIu64 " bytes is shorter than an ELF header",
			     rd->file_size);
	if (elf_file_libelf_init(rd->path, rd->err, rd->errlen))
		return -1;
	rd->elf = elf_begin(rd->fd, ELF_C_READ, NULL);
	if (!rd->elf || elf_kind(rd->elf) != ELF_K_ELF)
		return rfail(rd, "not an ELF file (libelf: %s)", elf_errmsg(-1));
	return 0;
}

static int check_ehdr(struct core_reader *rd)
{
	GElf_Ehdr eh;

	if (gelf_getclass(rd->elf) != ELFCLASS64 || !gelf_getehdr(rd->elf, &eh))
		return rfail(rd, "not a 64-bit ELF file");
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return rfail(rd, "not little-endian");
	if (eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
		return rfail(rd, "bad ELF version");
	if (eh.e_type != ET_CORE)
		return rfail(rd, "not a core file (e_type %u)", eh.e_type);
	if (eh.e_machine != EM_X86_64)
		return rfail(rd, "not x86-64 (e_machine %u)", eh.e_machine);
	if (eh.e_phentsize != PHDR_SIZE)
		return rfail(rd, "bad e_phentsize %u", eh.e_phentsize);
	if (elf_getphdrnum(rd->elf, &rd->phnum) != 0 || rd->phnum == 0)
		return rfail(rd, "no program headers");
	if (rd->phnum > CORE_MAX_PHDRS)
		return rfail(rd, "%zu program headers, at most %u accepted", rd->phnum, CORE_MAX_PHDRS);
	if (!in_file(rd, eh.e_phoff, (uint64_t)rd->phnum * PHDR_SIZE))
		return rfail(rd, "program headers past the end of the file");
	return 0;
}

static int find_notes(struct core_reader *rd)
{
	for (size_t i = 0; i < rd->phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(rd->elf, (int)i, &ph))
			return rfail(rd, "program header %zu unreadable", i);
		if (ph.p_type != PT_NOTE)
			continue;
		if (rd->have_note)
			return rfail(rd, "more than one PT_NOTE");
		if (ph.p_filesz > CORE_MAX_NOTES)
			return rfail(rd, "PT_NOTE of %" PRIu64 " bytes, at most %u accepted",
				     ph.p_filesz, CORE_MAX_NOTES);
		if (!in_file(rd, ph.p_offset, ph.p_filesz))
			return rfail(rd, "PT_NOTE past the end of the file");
		rd->note = ph;
		rd->have_note = true;
	}
	return rd->have_note ? 0 : rfail(rd, "no PT_NOTE");
}

static bool name_is(const char *name, size_t namesz, const char *want)
{
	return namesz == strlen(want) + 1 && memcmp(name, want, namesz) == 0;
}

static void take_prstatus(struct core_vcpu_state *v, const struct elf_prstatus *ps)
{
	struct user_regs_struct r;

	memcpy(&r, &ps->pr_reg, sizeof(r));
	v->r15 = r.r15; v->r14 = r.r14; v->r13 = r.r13; v->r12 = r.r12;
	v->rbp = r.rbp; v->rbx = r.rbx; v->r11 = r.r11; v->r10 = r.r10;
	v->r9 = r.r9; v->r8 = r.r8; v->rax = r.rax; v->rcx = r.rcx;
	v->rdx = r.rdx; v->rsi = r.rsi; v->rdi = r.rdi;
	v->rip = r.rip; v->rflags = r.eflags; v->rsp = r.rsp;
	v->cs = (uint16_t)r.cs; v->ss = (uint16_t)r.ss; v->ds = (uint16_t)r.ds;
	v->es = (uint16_t)r.es; v->fs = (uint16_t)r.fs; v->gs = (uint16_t)r.gs;
	v->fs_base = r.fs_base; v->gs_base = r.gs_base;
}

static void take_vcpu_note(struct core_vcpu_state *v, const struct hatvm_note_vcpu *hv)
{
	v->cr0 = hv->cr0; v->cr2 = hv->cr2; v->cr3 = hv->cr3; v->cr4 = hv->cr4; v->cr8 = hv->cr8;
	v->efer = hv->efer; v->apic_base = hv->apic_base;
}

static int read_prstatus(struct core_reader *rd, const void *desc, size_t descsz)
{
	struct elf_prstatus ps;

	if (descsz != sizeof(ps))
		return rfail(rd, "NT_PRSTATUS of %zu bytes, expected %zu", descsz, sizeof(ps));
	memcpy(&ps, desc, sizeof(ps));
	if (ps.pr_pid < 1 || !mark_seen(&rd->seen_prstatus, (uint64_t)ps.pr_pid - 1))
		return rfail(rd, "NT_PRSTATUS with bad or repeated pr_pid %d", ps.pr_pid);
	take_prstatus(&rd->vcpus[ps.pr_pid - 1], &ps);
	return 0;
}

/* A note the core holds at most once, of exactly SIZE bytes, into DST. */
static int read_once(struct core_reader *rd, const void *desc, size_t descsz, void *dst, size_t size,
		     bool *have, const char *what)
{
	if (descsz != size || *have)
		return rfail(rd, "bad or repeated HATVM %s note", what);
	memcpy(dst, desc, size);
	*have = true;
	return 0;
}

static int read_hatvm_note(struct core_reader *rd, uint32_t type, const void *desc, size_t descsz)
{
	struct hatvm_note_vcpu hv;

	if (type == HATVM_NT_MACHINE)
		return read_once(rd, desc, descsz, &rd->machine, sizeof(rd->machine), &rd->have_machine,
				 "machine");
	if (type == HATVM_NT_RUN)
		return read_once(rd, desc, descsz, &rd->run, sizeof(rd->run), &rd->have_run, "run");
	if (type != HATVM_NT_VCPU)
		return 0;
	if (descsz != sizeof(hv))
		return rfail(rd, "HATVM vCPU note of %zu bytes, expected %zu", descsz, sizeof(hv));
	memcpy(&hv, desc, sizeof(hv));
	if (!mark_seen(&rd->seen_vcpu, hv.cpu))
		return rfail(rd, "HATVM vCPU note with bad or repeated cpu %" PRIu64, hv.cpu);
	take_vcpu_note(&rd->vcpus[hv.cpu], &hv);
	return 0;
}

/* Reads one note at OFF of D; the next note's offset through *next, or -1. */
static int read_note(struct core_reader *rd, Elf_Data *d, size_t off, size_t *next)
{
	GElf_Nhdr nh;
	size_t name_off, desc_off;
	const char *base = d->d_buf;

	*next = gelf_getnote(d, off, &nh, &name_off, &desc_off);
	if (*next == 0 || name_off > d->d_size || nh.n_namesz > d->d_size - name_off ||
	    desc_off > d->d_size || nh.n_descsz > d->d_size - desc_off)
		return rfail(rd, "malformed note at offset %zu of PT_NOTE", off);
	if (name_is(base + name_off, nh.n_namesz, CORE_NOTE_NAME) && nh.n_type == NT_PRSTATUS)
		return read_prstatus(rd, base + desc_off, nh.n_descsz);
	if (name_is(base + name_off, nh.n_namesz, HATVM_NOTE_NAME))
		return read_hatvm_note(rd, nh.n_type, base + desc_off, nh.n_descsz);
	return 0;   /* someone else's note */
}

static int read_notes(struct core_reader *rd)
{
	Elf_Data *d = elf_getdata_rawchunk(rd->elf, (int64_t)rd->note.p_offset, rd->note.p_filesz,
					   ELF_T_NHDR);
	size_t off = 0, next;

	if (!d)
		return rfail(rd, "PT_NOTE unreadable: %s", elf_errmsg(-1));
	while (off < d->d_size) {
		if (read_note(rd, d, off, &next))
			return -1;
		if (next <= off)
			return rfail(rd, "malformed note at offset %zu of PT_NOTE", off);
		off = next;
	}
	return 0;
}

static int check_machine(struct core_reader *rd)
{
	const struct hatvm_note_machine *m = &rd->machine;
	uint64_t all;

	if (!rd->have_machine)
		return rfail(rd, "no HATVM machine note");
	if (m->version != HATVM_CORE_VERSION)
		return rfail(rd, "HATVM core version %" PRIu64 ", expected %u",
			     m->version, HATVM_CORE_VERSION);
	if (m->ram_size == 0 || m->ram_size > CORE_MAX_RAM || m->ram_size % 4096)
		return rfail(rd, "RAM size %" PRIu64 ": expected a multiple of 4096 up to %" PRIu64,
			     m->ram_size, (uint64_t)CORE_MAX_RAM);
	if (m->cpu_count < 1 || m->cpu_count > CORE_MAX_CPUS)
		return rfail(rd, "vCPU count %" PRIu64 ": expected 1 to %u",
			     m->cpu_count, CORE_MAX_CPUS);
	all = m->cpu_count == 64 ? ~0ull : (1ull << m->cpu_count) - 1;
	if (rd->seen_prstatus != all || rd->seen_vcpu != all)
		return rfail(rd, "register notes do not match %" PRIu64 " vCPUs",
			     m->cpu_count);
	return 0;
}

static bool ranges_overlap(const GElf_Phdr *a, const GElf_Phdr *b)
{
	return a->p_paddr < b->p_paddr + b->p_memsz && b->p_paddr < a->p_paddr + a->p_memsz;
}

/*
 * A PT_LOAD that shows RAM at the guest's virtual addresses for gdb, not
 * RAM itself: its p_vaddr lies in the kernel half (RAM's own PT_LOADs have
 * p_vaddr == p_paddr, below RAM's size). Such a segment only has to lie
 * inside the file: what it shows is read from RAM's segments.
 */
static bool is_alias(const GElf_Phdr *ph)
{
	return ph->p_type == PT_LOAD && ph->p_vaddr >= DIRECT_MAP_BASE;
}

/* Checks PT_LOAD I against RAM, the file and every earlier PT_LOAD (an alias: only the file). */
static int check_load(struct core_reader *rd, size_t i, const GElf_Phdr *ph)
{
	uint64_t end;

	if (ph->p_filesz > ph->p_memsz)
		return rfail(rd, "PT_LOAD %zu: p_filesz > p_memsz", i);
	if (is_alias(ph))
		return in_file(rd, ph->p_offset, ph->p_filesz) ? 0 :
		       rfail(rd, "PT_LOAD %zu (an alias at 0x%" PRIx64 "): data past the end of the file",
			     i, ph->p_vaddr);
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &end) || end > rd->machine.ram_size)
		return rfail(rd, "PT_LOAD %zu: GPA range outside the %" PRIu64 " bytes of RAM", i,
			     rd->machine.ram_size);
	if (!in_file(rd, ph->p_offset, ph->p_filesz))
		return rfail(rd, "PT_LOAD %zu: data past the end of the file", i);
	for (size_t j = 0; j < i; j++) {
		GElf_Phdr other;
		if (gelf_getphdr(rd->elf, (int)j, &other) && other.p_type == PT_LOAD && !is_alias(&other) &&
		    ranges_overlap(ph, &other))
			return rfail(rd, "PT_LOAD %zu overlaps PT_LOAD %zu", i, j);
	}
	return 0;
}

static int check_loads(struct core_reader *rd)
{
	for (size_t i = 0; i < rd->phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(rd->elf, (int)i, &ph))
			return rfail(rd, "program header %zu unreadable", i);
		if (ph.p_type == PT_LOAD && check_load(rd, i, &ph))
			return -1;
	}
	return 0;
}

static bool read_fully(int fd, uint8_t *dst, uint64_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, dst, len > (1u << 30) ? (1u << 30) : len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		dst += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return true;
}

/* Copies every PT_LOAD, already checked, into GM. */
static int load_ram(struct core_reader *rd, struct guest_mem *gm)
{
	for (size_t i = 0; i < rd->phnum; i++) {
		GElf_Phdr ph;
		uint8_t *dst;

		if (!gelf_getphdr(rd->elf, (int)i, &ph) || ph.p_type != PT_LOAD || is_alias(&ph))
			continue;
		dst = guest_mem_ptr(gm, ph.p_paddr, ph.p_filesz);
		if (!dst || !read_fully(rd->fd, dst, ph.p_filesz, ph.p_offset))
			return rfail(rd, "PT_LOAD %zu: cannot read its data", i);
	}
	return 0;
}

/* Hands RAM and the vCPU array to the caller; -1 when out of memory. */
static int deliver(struct core_reader *rd, struct guest_mem *gm_out, struct core_vcpu_state **vcpus,
		   unsigned *ncpus)
{
	struct guest_mem gm = { 0 };
	unsigned n = (unsigned)rd->machine.cpu_count;
	struct core_vcpu_state *out = calloc(n, sizeof(*out));
	int rc = guest_mem_map(&gm, rd->machine.ram_size);

	if (!out || rc != 0) {
		free(out);
		if (rc == 0)
			guest_mem_unmap(&gm);
		return rfail(rd, "cannot allocate %" PRIu64 " bytes of RAM", rd->machine.ram_size);
	}
	if (load_ram(rd, &gm)) {
		free(out);
		guest_mem_unmap(&gm);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		out[i] = rd->vcpus[i];
		out[i].cpu = i;
	}
	*gm_out = gm;
	*vcpus = out;
	*ncpus = n;
	return 0;
}

int core_dump_read(const char *path, struct guest_mem *gm_out, struct core_vcpu_state **vcpus,
		   unsigned *ncpus, uint64_t *run_flags, char *err, size_t errlen)
{
	struct core_reader *rd = calloc(1, sizeof(*rd));
	int rc;

	if (!rd)
		return path_errf(err, errlen, path, "out of memory");
	*rd = (struct core_reader){ .path = path, .err = err, .errlen = errlen, .fd = -1 };
	rc = open_core(rd);
	if (rc == 0)
		rc = check_ehdr(rd);
	if (rc == 0)
		rc = find_notes(rd);
	if (rc == 0)
		rc = read_notes(rd);
	if (rc == 0)
		rc = check_machine(rd);
	if (rc == 0)
		rc = check_loads(rd);
	if (rc == 0)
		rc = deliver(rd, gm_out, vcpus, ncpus);
	if (rc == 0)
		*run_flags = rd->run.flags;
	if (rd->elf)
		elf_end(rd->elf);
	if (rd->fd >= 0)
		close(rd->fd);
	free(rd);
	return rc;
}
