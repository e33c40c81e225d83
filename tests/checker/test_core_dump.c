/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: ELF core files: write -> read round trip, gdb opens them, hostile cores are rejected. */
#include <check.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core_dump.h"
#include "hatvm/layout.h"
#include "fifo_guard.h"
#include "run_vmm.h"

static const char *guest_elf;   /* argv[1], optional: gdb opens the core against it */
static char core_path[64], bad_path[64];

static uint64_t rng_next(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dull;
}

static void make_temp(char *path)
{
	int fd;

	strcpy(path, "/tmp/hatvm-core-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void setup(void)
{
	make_temp(core_path);
	make_temp(bad_path);
}

static void teardown(void)
{
	unlink(core_path);
	unlink(bad_path);
}

/* RAM of SIZE bytes filled from SEED. */
static void make_ram(struct guest_mem *gm, uint64_t size, uint64_t seed)
{
	uint64_t *words;

	ck_assert_int_eq(guest_mem_map(gm, size), 0);
	words = guest_mem_ptr(gm, 0, size);
	for (uint64_t i = 0; i < size / 8; i++)
		words[i] = rng_next(&seed);
}

/* Distinct values in every register of vCPU CPU. */
static void make_vcpu(struct core_vcpu_state *v, unsigned cpu)
{
	uint64_t k = (uint64_t)(cpu + 1) << 40;

	*v = (struct core_vcpu_state){
		.cpu = cpu,
		.rax = k | 1, .rbx = k | 2, .rcx = k | 3, .rdx = k | 4, .rsi = k | 5, .rdi = k | 6,
		.rsp = 0x100000 + cpu * 0x4000 - 8, .rbp = k | 8, .r8 = k | 9, .r9 = k | 10,
		.r10 = k | 11, .r11 = k | 12, .r12 = k | 13, .r13 = k | 14, .r14 = k | 15, .r15 = k | 16,
		.rip = 0xffffffff80100000ull + cpu * 0x10, .rflags = 0x246,
		.cs = 0x8, .ds = 0x10, .es = 0x10, .fs = 0x10, .gs = 0x10, .ss = 0x10,
		.fs_base = k | 17, .gs_base = k | 18,
		.cr0 = 0x80050033, .cr2 = k | 19, .cr3 = 0x10000 + cpu * 0x1000, .cr4 = 0x20,
		.cr8 = cpu, .efer = 0xd01, .apic_base = 0xfee00900,
	};
}

#define FIELDS(X) X(cpu) X(rax) X(rbx) X(rcx) X(rdx) X(rsi) X(rdi) X(rsp) X(rbp) X(r8) X(r9) \
	X(r10) X(r11) X(r12) X(r13) X(r14) X(r15) X(rip) X(rflags) X(cs) X(ds) X(es) X(fs) X(gs) \
	X(ss) X(fs_base) X(gs_base) X(cr0) X(cr2) X(cr3) X(cr4) X(cr8) X(efer) X(apic_base)

static void assert_vcpu_eq(const struct core_vcpu_state *a, const struct core_vcpu_state *b)
{
#define SAME(f) ck_assert_msg(a->f == b->f, "cpu %u: " #f " %" PRIx64 " != %" PRIx64, a->cpu, \
			      (uint64_t)a->f, (uint64_t)b->f);
	FIELDS(SAME)
#undef SAME
}

static uint64_t run_flags;   /* what the last core_dump_read said of the run */

/* Writes a core of RAM_SIZE bytes and NCPUS vCPUs to core_path, of a run that ended as FLAGS says. */
static void write_core_of(struct guest_mem *gm, uint64_t ram_size, struct core_vcpu_state *v,
			  unsigned ncpus, uint64_t flags)
{
	char err[256];

	make_ram(gm, ram_size, 0xc0de);
	for (unsigned i = 0; i < ncpus; i++)
		make_vcpu(&v[i], i);
	ck_assert_msg(core_dump_write(core_path, gm, v, ncpus, flags, err, sizeof(err)) == 0, "%s", err);
}

static void write_core(struct guest_mem *gm, uint64_t ram_size, struct core_vcpu_state *v, unsigned ncpus)
{
	write_core_of(gm, ram_size, v, ncpus, 0);
}

START_TEST(round_trip)
{
	struct core_vcpu_state in[3], *out = NULL;
	struct guest_mem gm, back = { 0 };
	unsigned n = 0;
	char err[256];

	write_core_of(&gm, 8u << 20, in, 3, (uint64_t)_i);
	ck_assert_msg(core_dump_read(core_path, &back, &out, &n, &run_flags, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(run_flags, (uint64_t)_i);   /* 1: HATVM_RUN_MID_RUN */
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(back.size, gm.size);
	ck_assert_int_eq(memcmp(back.base, gm.base, gm.size), 0);
	for (unsigned i = 0; i < n; i++)
		assert_vcpu_eq(&out[i], &in[i]);
	free(out);
	guest_mem_unmap(&back);
	guest_mem_unmap(&gm);
}
END_TEST

START_TEST(file_layout)
{
	struct core_vcpu_state v[2];
	struct guest_mem gm;
	GElf_Ehdr eh;
	GElf_Phdr note, load, direct, kernel;
	size_t phnum;
	int fd;
	Elf *e;

	write_core(&gm, 1u << 20, v, 2);
	ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
	fd = open(core_path, O_RDONLY);
	e = elf_begin(fd, ELF_C_READ, NULL);
	ck_assert_ptr_nonnull(gelf_getehdr(e, &eh));
	ck_assert_uint_eq(eh.e_type, ET_CORE);
	ck_assert_uint_eq(eh.e_machine, EM_X86_64);
	ck_assert_int_eq(elf_getphdrnum(e, &phnum), 0);
	ck_assert_uint_eq(phnum, 4);
	gelf_getphdr(e, 0, &note);
	gelf_getphdr(e, 1, &load);
	gelf_getphdr(e, 2, &direct);
	gelf_getphdr(e, 3, &kernel);
	/* RAM again where the guest's pointers point: the direct map and the kernel image */
	ck_assert_uint_eq(direct.p_vaddr, DIRECT_MAP_BASE);
	ck_assert_uint_eq(kernel.p_vaddr, KERNEL_BASE);
	ck_assert_uint_eq(direct.p_offset, load.p_offset);
	ck_assert_uint_eq(kernel.p_offset, load.p_offset);
	ck_assert_uint_eq(direct.p_filesz, 1u << 20);
	ck_assert_uint_eq(kernel.p_filesz, 1u << 20);
	ck_assert_uint_eq(note.p_type, PT_NOTE);
	ck_assert_uint_eq(load.p_type, PT_LOAD);
	ck_assert_uint_eq(load.p_paddr, 0);
	ck_assert_uint_eq(load.p_vaddr, 0);
	ck_assert_uint_eq(load.p_filesz, 1u << 20);
	ck_assert_uint_eq(load.p_memsz, 1u << 20);
	ck_assert_uint_eq(load.p_offset % 4096, 0);
	elf_end(e);
	close(fd);
	guest_mem_unmap(&gm);
}
END_TEST

/* Runs CMD through the shell; its output (both streams) into OUT. */
static void run_capture(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	pclose(p);
}

START_TEST(gdb_opens_the_core)
{
	struct core_vcpu_state v[2];
	struct guest_mem gm;
	char cmd[1024], out[8192];
	bool with_image = guest_elf && access(guest_elf, R_OK) == 0;

	if (system("command -v gdb >/dev/null 2>&1") != 0) {
		fprintf(stderr, "gdb_opens_the_core: gdb not found, case skipped\n");
		return;
	}
	write_core(&gm, 1u << 20, v, 2);
	snprintf(cmd, sizeof(cmd),
		 "gdb -nx -batch -ex 'info registers rip rsp' -ex 'info threads' %s%s %s '%s' 2>&1",
		 with_image ? "'" : "", with_image ? guest_elf : "", with_image ? "'" : "-c", core_path);
	run_capture(cmd, out, sizeof(out));
	ck_assert_msg(strstr(out, "0xffffffff80100000"), "gdb said:\n%s", out);
	ck_assert_msg(strstr(out, "0xffff8"), "gdb said:\n%s", out);      /* rsp of cpu 0 */
	ck_assert_msg(strstr(out, "LWP 2"), "gdb said:\n%s", out);        /* the second vCPU */
	ck_assert_msg(!strstr(out, "format") && !strstr(out, "not a core") && !strstr(out, "arning"),
		      "gdb said:\n%s", out);
	/* the guest's virtual addresses read the core's RAM, not the image file's sections */
	uint64_t at_pa = *(uint64_t *)guest_mem_ptr(&gm, 0x1000, 8), at_kpa = *(uint64_t *)guest_mem_ptr(&gm, 0x2000, 8);
	char want[64];

	snprintf(cmd, sizeof(cmd), "gdb -nx -batch -ex 'x/gx 0x%llx' -ex 'x/gx 0x%llx' %s%s %s '%s' 2>&1",
		 (unsigned long long)(DIRECT_MAP_BASE + 0x1000), (unsigned long long)(KERNEL_BASE + 0x2000),
		 with_image ? "'" : "", with_image ? guest_elf : "", with_image ? "'" : "-c", core_path);
	run_capture(cmd, out, sizeof(out));
	snprintf(want, sizeof(want), "0x%016llx", (unsigned long long)at_pa);
	ck_assert_msg(strstr(out, want), "want %s at the direct map; gdb said:\n%s", want, out);
	snprintf(want, sizeof(want), "0x%016llx", (unsigned long long)at_kpa);
	ck_assert_msg(strstr(out, want), "want %s at KERNEL_BASE; gdb said:\n%s", want, out);
	guest_mem_unmap(&gm);
}
END_TEST

START_TEST(from_kvm_registers)
{
	struct kvm_regs r = { .rax = 1, .rbx = 2, .r15 = 15, .rip = 0xffffffff80001000ull, .rsp = 0x1ff8,
			      .rflags = 0x202 };
	struct kvm_sregs s = { .cr0 = 0x80050033, .cr2 = 0xdead000, .cr3 = 0x10000, .cr4 = 0x20,
			       .efer = 0xd01, .apic_base = 0xfee00900 };
	struct core_vcpu_state v;

	s.cs.selector = 0x8;
	s.ss.selector = 0x10;
	s.gs.base = 0x7000;
	core_vcpu_from_kvm(&r, &s, 5, &v);
	ck_assert_uint_eq(v.cpu, 5);
	ck_assert_uint_eq(v.rax, 1);
	ck_assert_uint_eq(v.rbx, 2);
	ck_assert_uint_eq(v.r15, 15);
	ck_assert_uint_eq(v.rip, 0xffffffff80001000ull);
	ck_assert_uint_eq(v.rsp, 0x1ff8);
	ck_assert_uint_eq(v.rflags, 0x202);
	ck_assert_uint_eq(v.cs, 0x8);
	ck_assert_uint_eq(v.ss, 0x10);
	ck_assert_uint_eq(v.gs_base, 0x7000);
	ck_assert_uint_eq(v.cr0, 0x80050033);
	ck_assert_uint_eq(v.cr2, 0xdead000);
	ck_assert_uint_eq(v.cr3, 0x10000);
	ck_assert_uint_eq(v.cr4, 0x20);
	ck_assert_uint_eq(v.efer, 0xd01);
	ck_assert_uint_eq(v.apic_base, 0xfee00900);
}
END_TEST

START_TEST(write_rejects_bad_arguments)
{
	struct core_vcpu_state v[1];
	struct guest_mem gm, empty = { 0 };
	char err[256];

	make_ram(&gm, 1u << 16, 1);
	make_vcpu(&v[0], 0);
	ck_assert_int_eq(core_dump_write(core_path, &gm, v, 0, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "0 vCPUs"));
	ck_assert_int_eq(core_dump_write(core_path, &gm, v, CORE_MAX_CPUS + 1, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(core_dump_write(core_path, &empty, v, 1, 0, err, sizeof(err)), -1);
	v[0].cpu = 1;
	ck_assert_int_eq(core_dump_write(core_path, &gm, v, 1, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "vCPU index 1"));
	v[0].cpu = 0;
	gm.size -= 1;
	ck_assert_int_eq(core_dump_write(core_path, &gm, v, 1, 0, err, sizeof(err)), -1);
	gm.size += 1;
	ck_assert_int_eq(core_dump_write("/nonexistent-dir/core", &gm, v, 1, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/core: "));
	guest_mem_unmap(&gm);
}
END_TEST

/* ---- targets that must not be written, and writes that fail: nothing lost ---- */

static char out_dir[64], out_path[128];

static void out_dir_setup(void)
{
	strcpy(out_dir, "/tmp/hatvm-core-out-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(out_dir));
	snprintf(out_path, sizeof(out_path), "%s/core", out_dir);
}

/* Entries in out_dir besides . and ..; unlinks them when REMOVE. */
static unsigned out_dir_entries(bool remove)
{
	DIR *d = opendir(out_dir);
	struct dirent *e;
	unsigned n = 0;
	char path[512];

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", out_dir, e->d_name);
		if (remove)
			unlink(path);
	}
	closedir(d);
	return n;
}

static void out_dir_teardown(void)
{
	out_dir_entries(true);
	rmdir(out_dir);
}

/* core_dump_write of 4 KiB of RAM and one vCPU to out_path. */
static int write_small_core(char *err, size_t errlen)
{
	struct core_vcpu_state v;
	struct guest_mem gm;

	make_ram(&gm, 4096, 7);
	make_vcpu(&v, 0);
	int rc = core_dump_write(out_path, &gm, &v, 1, 0, err, errlen);
	guest_mem_unmap(&gm);
	return rc;
}

/* The write was refused, naming the path; out_path is still of TYPE; nothing else appeared. */
static void assert_refused_and_kept(int rc, const char *err, mode_t type)
{
	struct stat st;

	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strncmp(err, out_path, strlen(out_path)) == 0, "error without the path: %s", err);
	ck_assert_msg(lstat(out_path, &st) == 0, "%s was removed", out_path);
	ck_assert_msg((st.st_mode & S_IFMT) == type, "%s changed type", out_path);
	ck_assert_uint_eq(out_dir_entries(false), 1);
}

START_TEST(write_keeps_a_symlink_to_a_device)
{
	char err[256] = "";

	ck_assert_int_eq(symlink("/dev/full", out_path), 0);
	assert_refused_and_kept(write_small_core(err, sizeof(err)), err, S_IFLNK);
	ASSERT_HAS(err, "not a regular file");
}
END_TEST

START_TEST(write_refuses_a_fifo_without_blocking)
{
	char err[256] = "";

	ck_assert_int_eq(mkfifo(out_path, 0600), 0);
	fifo_guard_arm(out_path, 10);
	int rc = write_small_core(err, sizeof(err));
	ck_assert_msg(!fifo_guard_disarm(), "core_dump_write blocked on a FIFO");
	assert_refused_and_kept(rc, err, S_IFIFO);
}
END_TEST

/* A copy of /dev/null's node (needs root to create; the case is skipped otherwise). */
START_TEST(write_keeps_a_device_node)
{
	struct stat null;
	char err[256] = "";

	ck_assert_int_eq(stat("/dev/null", &null), 0);
	if (mknod(out_path, S_IFCHR | 0666, null.st_rdev) != 0) {
		fprintf(stderr, "write_keeps_a_device_node: mknod: %s, case skipped\n", strerror(errno));
		return;
	}
	assert_refused_and_kept(write_small_core(err, sizeof(err)), err, S_IFCHR);
}
END_TEST

/* RLIMIT_FSIZE (SIGXFSZ ignored) makes the write fail with EFBIG as a full disk would. */
START_TEST(failed_write_keeps_the_previous_file)
{
	static const char previous[] = "the previous core\n";
	struct rlimit saved, small;
	char err[256] = "", back[64] = "";
	FILE *f = fopen(out_path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(previous, f);
	fclose(f);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = (struct rlimit){ .rlim_cur = 1024, .rlim_max = saved.rlim_max };
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	int rc = write_small_core(err, sizeof(err));
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	assert_refused_and_kept(rc, err, S_IFREG);
	ASSERT_HAS(err, strerror(EFBIG));
	f = fopen(out_path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(back, sizeof(back), f));
	fclose(f);
	ck_assert_str_eq(back, previous);
}
END_TEST

/* A symlink to a regular file: the file gets the core, the link stays a link. */
START_TEST(write_through_a_symlink_replaces_its_file)
{
	char real[160], err[256] = "";
	struct stat st;

	snprintf(real, sizeof(real), "%s/real", out_dir);
	fclose(fopen(real, "w"));
	ck_assert_int_eq(symlink(real, out_path), 0);
	ck_assert_msg(write_small_core(err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(lstat(out_path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(stat(real, &st), 0);
	ck_assert_int_gt(st.st_size, 4096);
	ck_assert_uint_eq(out_dir_entries(false), 2);
}
END_TEST

START_TEST(read_refuses_a_fifo_without_blocking)
{
	struct guest_mem gm = { 0 };
	struct core_vcpu_state *v = NULL;
	unsigned n = 0;
	char err[256] = "";

	ck_assert_int_eq(mkfifo(out_path, 0600), 0);
	fifo_guard_arm(out_path, 10);
	int rc = core_dump_read(out_path, &gm, &v, &n, &run_flags, err, sizeof(err));
	ck_assert_msg(!fifo_guard_disarm(), "core_dump_read blocked on a FIFO");
	ck_assert_int_eq(rc, -1);
	ASSERT_HAS(err, out_path);
	ASSERT_HAS(err, "not a regular file");
	ck_assert_ptr_null(gm.base);
	ck_assert_ptr_null(v);
}
END_TEST

/* ---- hostile cores ---- */

#define SMALL_RAM (1u << 16)

static uint8_t *good;           /* a valid core: SMALL_RAM, 2 vCPUs */
static size_t good_len;

static void load_good_core(void)
{
	struct core_vcpu_state v[2];
	struct guest_mem gm;
	struct stat st;
	FILE *f;

	setup();
	write_core(&gm, SMALL_RAM, v, 2);
	guest_mem_unmap(&gm);
	ck_assert_int_eq(stat(core_path, &st), 0);
	good_len = (size_t)st.st_size;
	good = malloc(good_len);
	f = fopen(core_path, "rb");
	ck_assert_uint_eq(fread(good, 1, good_len, f), good_len);
	fclose(f);
}

static void free_good_core(void)
{
	free(good);
	teardown();
}

static void put64(uint8_t *buf, size_t off, uint64_t v) { memcpy(buf + off, &v, 8); }
static void put32(uint8_t *buf, size_t off, uint32_t v) { memcpy(buf + off, &v, 4); }
static void put16(uint8_t *buf, size_t off, uint16_t v) { memcpy(buf + off, &v, 2); }

#define PH(i, field) (sizeof(Elf64_Ehdr) + (i) * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, field))
#define EH(field)    offsetof(Elf64_Ehdr, field)

/* Offset of the Nth (from 0) note of TYPE in the valid core: its header, or its desc if DESC. */
static size_t note_at(uint32_t type, unsigned nth, bool desc)
{
	Elf64_Phdr note;
	size_t off;

	memcpy(&note, good + sizeof(Elf64_Ehdr), sizeof(note));
	for (off = note.p_offset; off < note.p_offset + note.p_filesz;) {
		Elf64_Nhdr nh;
		memcpy(&nh, good + off, sizeof(nh));
		size_t desc_off = off + sizeof(nh) + ((nh.n_namesz + 3) & ~3u);
		if (nh.n_type == type && nth-- == 0)
			return desc ? desc_off : off;
		off = desc_off + ((nh.n_descsz + 3) & ~3u);
	}
	ck_abort_msg("note %x not found", type);
	return 0;
}

struct hostile {
	const char *what;
	const char *expect;         /* part of the error message */
};

static const struct hostile hostile[] = {
	{ "empty file",                "truncated" },
	{ "cut inside the ELF header", "truncated" },
	{ "cut inside the notes",      "PT_NOTE past the end" },
	{ "cut inside RAM",            "PT_LOAD 1: data past the end" },
	{ "bad magic",                 "not an ELF file" },
	{ "ELFCLASS32",                "not a 64-bit ELF" },
	{ "big-endian",                "not little-endian" },
	{ "ET_EXEC",                   "not a core file" },
	{ "EM_386",                    "not x86-64" },
	{ "bad e_phentsize",           "e_phentsize" },
	{ "no program headers",        "no program headers" },
	{ "e_phoff past the end",      "" },
	{ "e_phnum 65535",             "" },
	{ "PT_NOTE offset huge",       "PT_NOTE past the end" },
	{ "PT_NOTE size huge",         "PT_NOTE of" },
	{ "PT_NOTE turned PT_NULL",    "no PT_NOTE" },
	{ "PT_LOAD offset wraps",      "PT_LOAD 1: data past the end" },
	{ "PT_LOAD filesz huge",       "PT_LOAD 1: p_filesz > p_memsz" },
	{ "PT_LOAD memsz wraps",       "outside the" },
	{ "PT_LOAD beyond RAM",        "outside the" },
	{ "RAM size 8 GiB",            "RAM size 8589934592" },
	{ "RAM size 0",                "RAM size 0" },
	{ "RAM size unaligned",        "RAM size 65537" },
	{ "RAM size 3 GiB + 4K",       "RAM size" },
	{ "cpu count 0",               "vCPU count 0" },
	{ "cpu count 65",              "vCPU count 65" },
	{ "cpu count 3, notes for 2",  "register notes do not match 3 vCPUs" },
	{ "cpu count 1, notes for 2",  "register notes do not match 1 vCPUs" },
	{ "core version 2",            "version 2" },
	{ "machine note wrong size",   "machine note" },
	{ "note namesz huge",          "malformed note" },
	{ "note descsz huge",          "malformed note" },
	{ "note descsz odd",           "" },
	{ "pr_pid 0",                  "pr_pid 0" },
	{ "pr_pid 99",                 "pr_pid 99" },
	{ "pr_pid repeated",           "repeated pr_pid 1" },
	{ "vCPU note cpu huge",        "cpu 18446744073709551615" },
	{ "vCPU note cpu repeated",    "repeated cpu 0" },
	{ "machine note missing",      "no HATVM machine note" },
	{ "alias past the file",       "an alias at 0xffff800000000000" },
};

/* Applies hostile case I to BUF; returns the new length. */
static size_t mutate(unsigned i, uint8_t *buf, size_t len)
{
	size_t machine = note_at(HATVM_NT_MACHINE, 0, true);
	size_t machine_hdr = note_at(HATVM_NT_MACHINE, 0, false);
	size_t prstatus = note_at(NT_PRSTATUS, 1, true) + offsetof(struct elf_prstatus, pr_pid);
	size_t vcpu = note_at(HATVM_NT_VCPU, 1, true);
	size_t second_hdr = note_at(NT_PRSTATUS, 0, false);

	switch (i) {
	case 0:  return 0;
	case 1:  return 40;
	case 2:  return machine + 4;
	case 3:  return len - SMALL_RAM / 2;
	case 4:  buf[1] = 'X'; break;
	case 5:  buf[EI_CLASS] = ELFCLASS32; break;
	case 6:  buf[EI_DATA] = ELFDATA2MSB; break;
	case 7:  put16(buf, EH(e_type), ET_EXEC); break;
	case 8:  put16(buf, EH(e_machine), EM_386); break;
	case 9:  put16(buf, EH(e_phentsize), 10); break;
	case 10: put16(buf, EH(e_phnum), 0); break;
	case 11: put64(buf, EH(e_phoff), len - 8); break;
	case 12: put16(buf, EH(e_phnum), 0xffff); break;
	case 13: put64(buf, PH(0, p_offset), UINT64_MAX - 8); break;
	case 14: put64(buf, PH(0, p_filesz), 1ull << 62); break;
	case 15: put32(buf, PH(0, p_type), PT_NULL); break;
	case 16: put64(buf, PH(1, p_offset), UINT64_MAX - 100); break;
	case 17: put64(buf, PH(1, p_filesz), 1ull << 62); break;
	case 18: put64(buf, PH(1, p_paddr), 0x1000); put64(buf, PH(1, p_memsz), UINT64_MAX); break;
	case 19: put64(buf, PH(1, p_paddr), 0x1000); break;
	case 20: put64(buf, machine + 8, 8ull << 30); break;
	case 21: put64(buf, machine + 8, 0); break;
	case 22: put64(buf, machine + 8, SMALL_RAM + 1); break;
	case 23: put64(buf, machine + 8, CORE_MAX_RAM + 4096); break;
	case 24: put64(buf, machine + 16, 0); break;
	case 25: put64(buf, machine + 16, 65); break;
	case 26: put64(buf, machine + 16, 3); break;
	case 27: put64(buf, machine + 16, 1); break;
	case 28: put64(buf, machine, 2); break;
	case 29: put32(buf, machine_hdr + 4, 16); put32(buf, machine_hdr + 8, HATVM_NT_MACHINE); break;
	case 30: put32(buf, second_hdr, 0xfffffff0); break;
	case 31: put32(buf, second_hdr + 4, 0x7fffffff); break;
	case 32: put32(buf, second_hdr + 4, 335); break;
	case 33: put32(buf, prstatus, 0); break;
	case 34: put32(buf, prstatus, 99); break;
	case 35: put32(buf, prstatus, 1); break;
	case 36: put64(buf, vcpu, UINT64_MAX); break;
	case 37: put64(buf, vcpu, 0); break;
	case 38: put32(buf, machine_hdr + 8, 0x1234); break;
	case 39: put64(buf, PH(2, p_offset), len - 8); break;
	}
	return len;
}

static int read_file(const uint8_t *buf, size_t len, char *err, size_t errlen, struct guest_mem *gm,
		     struct core_vcpu_state **v, unsigned *n)
{
	FILE *f = fopen(bad_path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
	return core_dump_read(bad_path, gm, v, n, &run_flags, err, errlen);
}

START_TEST(good_core_reads)
{
	struct guest_mem gm = { 0 };
	struct core_vcpu_state *v = NULL;
	unsigned n = 0;
	char err[256] = "";

	ck_assert_msg(read_file(good, good_len, err, sizeof(err), &gm, &v, &n) == 0, "%s", err);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(gm.size, SMALL_RAM);
	free(v);
	guest_mem_unmap(&gm);
}
END_TEST

START_TEST(hostile_core_rejected)
{
	uint8_t *buf = malloc(good_len);
	struct guest_mem gm = { 0 };
	struct core_vcpu_state *v = NULL;
	unsigned n = 0;
	char err[256] = "";
	size_t len;

	memcpy(buf, good, good_len);
	len = mutate((unsigned)_i, buf, good_len);
	ck_assert_msg(read_file(buf, len, err, sizeof(err), &gm, &v, &n) == -1, "%s accepted", hostile[_i].what);
	ck_assert_msg(strncmp(err, bad_path, strlen(bad_path)) == 0, "%s: %s", hostile[_i].what, err);
	ck_assert_msg(strstr(err, hostile[_i].expect), "%s: got '%s', expected '%s'", hostile[_i].what, err,
		      hostile[_i].expect);
	ck_assert_ptr_null(gm.base);
	ck_assert_ptr_null(v);
	free(buf);
}
END_TEST

START_TEST(not_a_file)
{
	struct guest_mem gm = { 0 };
	struct core_vcpu_state *v = NULL;
	unsigned n = 0;
	char err[256];

	ck_assert_int_eq(core_dump_read("/tmp", &gm, &v, &n, &run_flags, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/tmp: is a directory, not a file");
	ck_assert_int_eq(core_dump_read("/nonexistent-core", &gm, &v, &n, &run_flags, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

/* Random byte flips in the headers and notes, random cuts: never a crash, and a success is whole. */
START_TEST(fuzzed_cores_do_not_crash)
{
	size_t head = note_at(HATVM_NT_VCPU, 1, true) + sizeof(struct hatvm_note_vcpu);
	uint8_t *buf = malloc(good_len);
	uint64_t state = 0xf022 + (uint64_t)_i;

	for (unsigned round = 0; round < 300; round++) {
		struct guest_mem gm = { 0 };
		struct core_vcpu_state *v = NULL;
		unsigned n = 0, flips = 1 + (unsigned)(rng_next(&state) % 8);
		size_t len = good_len;
		char err[256];

		memcpy(buf, good, good_len);
		for (unsigned f = 0; f < flips; f++)
			buf[rng_next(&state) % head] ^= (uint8_t)(1u << (rng_next(&state) % 8));
		if (rng_next(&state) % 4 == 0)
			len = rng_next(&state) % good_len;
		if (read_file(buf, len, err, sizeof(err), &gm, &v, &n) == 0) {
			ck_assert_uint_ge(n, 1);
			ck_assert_uint_le(gm.size, CORE_MAX_RAM);
			free(v);
			guest_mem_unmap(&gm);
		}
	}
	free(buf);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core_dump");
	TCase *tw = tcase_create("write"), *th = tcase_create("hostile");
	TCase *to = tcase_create("unsafe_paths");

	tcase_add_checked_fixture(tw, setup, teardown);
	tcase_set_timeout(tw, 60);
	tcase_add_loop_test(tw, round_trip, 0, 2);
	tcase_add_test(tw, file_layout);
	tcase_add_test(tw, gdb_opens_the_core);
	tcase_add_test(tw, from_kvm_registers);
	tcase_add_test(tw, write_rejects_bad_arguments);
	suite_add_tcase(s, tw);

	tcase_add_checked_fixture(to, out_dir_setup, out_dir_teardown);
	tcase_set_timeout(to, 60);
	tcase_add_test(to, write_keeps_a_symlink_to_a_device);
	tcase_add_test(to, write_refuses_a_fifo_without_blocking);
	tcase_add_test(to, write_keeps_a_device_node);
	tcase_add_test(to, failed_write_keeps_the_previous_file);
	tcase_add_test(to, write_through_a_symlink_replaces_its_file);
	tcase_add_test(to, read_refuses_a_fifo_without_blocking);
	suite_add_tcase(s, to);

	tcase_add_checked_fixture(th, load_good_core, free_good_core);
	tcase_set_timeout(th, 60);
	tcase_add_test(th, good_core_reads);
	tcase_add_loop_test(th, hostile_core_rejected, 0, sizeof(hostile) / sizeof(hostile[0]));
	tcase_add_test(th, not_a_file);
	tcase_add_loop_test(th, fuzzed_cores_do_not_crash, 0, 4);
	suite_add_tcase(s, th);
	return s;
}

int main(int argc, char **argv)
{
	guest_elf = argc > 1 ? argv[1] : NULL;
	return run_suite(core_suite());
}
