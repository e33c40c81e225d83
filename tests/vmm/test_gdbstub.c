/* SPDX-License-Identifier: BSD-2-Clause */
/* unit suite: the gdb stub's protocol core over a socketpair, with a fake target in guest_mem. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdbstub.h"
#include "hatvm/x86.h"
#include "run_vmm.h"

/*
 * The fake guest: 4 MiB of RAM, tables at 0x1000 (PML4) .. 0x4000 (PT)
 * mapping the 4 KiB page at VA CODE_VA to GPA CODE_GPA, and VA DATA_VA
 * to DATA_GPA; nothing else is mapped.
 */
#define RAM       (4ull << 20)
#define CR3       0x1000ull
#define CODE_VA   0x400000ull
#define CODE_GPA  0x5000ull
#define DATA_VA   0x401000ull
#define DATA_GPA  0x6000ull
#define FAKE_RIP  (CODE_VA + 0x10)

struct fake {
	struct guest_mem gm;
	struct gdb_regs regs[2];
	int sets;
};

static struct fake fake;
static struct gdbstub stub;
static int client;   /* gdb's end of the socketpair */

static int fake_get(void *ctx, unsigned cpu, struct gdb_regs *regs)
{
	struct fake *f = ctx;

	*regs = f->regs[cpu];
	return 0;
}

static int fake_set(void *ctx, unsigned cpu, const struct gdb_regs *regs)
{
	struct fake *f = ctx;

	f->regs[cpu] = *regs;
	f->sets++;
	return 0;
}

static void put64(uint64_t gpa, uint64_t value)
{
	ck_assert(guest_mem_write(&fake.gm, gpa, &value, 8));
}

static void setup(void)
{
	int sv[2];

	ck_assert_int_eq(guest_mem_map(&fake.gm, RAM), 0);
	put64(CR3, 0x2000 | PTE_P | PTE_W);
	put64(0x2000, 0x3000 | PTE_P | PTE_W);
	put64(0x3000 + 2 * 8, 0x4000 | PTE_P | PTE_W);   /* VA 0x400000: PD index 2 */
	put64(0x4000, CODE_GPA | PTE_P);
	put64(0x4000 + 8, DATA_GPA | PTE_P | PTE_W | PTE_NX);
	for (unsigned i = 0; i < 64; i++)
		ck_assert(guest_mem_write(&fake.gm, CODE_GPA + i, &(uint8_t){ (uint8_t)(0x90 + i) }, 1));
	ck_assert(guest_mem_write(&fake.gm, CODE_GPA + 0xfff, &(uint8_t){ 0x77 }, 1));
	ck_assert(guest_mem_write(&fake.gm, DATA_GPA, &(uint8_t){ 0x66 }, 1));
	for (unsigned cpu = 0; cpu < 2; cpu++) {
		fake.regs[cpu] = (struct gdb_regs){ .rip = FAKE_RIP + cpu, .rflags = 0x246,
			.cr3 = CR3, .cr0 = 0x80010031, .efer = EFER_LME | EFER_LMA | EFER_NXE,
			.seg = { 0x8, 0x10, 0x10, 0x10, 0x10, 0x10 } };
		fake.regs[cpu].gpr[0] = 0x1122334455667788ull + cpu;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	client = sv[1];
	struct gdb_target t = { .gm = &fake.gm, .ncpus = 2, .get_regs = fake_get,
				.set_regs = fake_set, .ctx = &fake };
	gdbstub_init(&stub, sv[0], &t);
}

static void teardown(void)
{
	close(stub.fd);
	close(client);
	guest_mem_unmap(&fake.gm);
}

/* gdb's side: one framed packet. */
static void send_body(const char *body, size_t len)
{
	char framed[2 * GDB_PACKET_MAX + 8];
	size_t n = gdb_frame(body, len, framed, sizeof(framed));

	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(write(client, framed, n), (ssize_t)n);
}

static void send_cmd(const char *body)
{
	send_body(body, strlen(body));
}

/* Everything the stub has sent so far, as one string. */
static char *drain(void)
{
	static char buf[1 << 17];
	size_t len = 0;
	ssize_t n;

	fcntl(client, F_SETFL, O_NONBLOCK);
	while ((n = read(client, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

/* The body of the Nth packet ('$'...'#') in what the stub sent. */
static const char *reply(const char *all, unsigned nth, char *out, size_t size)
{
	const char *p = all;

	for (unsigned i = 0; i <= nth; i++) {
		p = strchr(p, '$');
		ck_assert_msg(p, "no reply %u in: %.300s", nth, all);
		p++;
	}
	const char *end = strchr(p, '#');
	ck_assert(end && (size_t)(end - p) < size);
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return out;
}

/* Sends CMDS, then `c`, serves them; returns the reply to each command, in order. */
static char *serve_all(const char *const cmds[], char replies[][4200])
{
	unsigned i;

	for (i = 0; cmds[i]; i++)
		send_cmd(cmds[i]);
	send_cmd("c");
	ck_assert_int_eq(gdbstub_serve(&stub, NULL), GDB_ACT_CONTINUE);
	char *all = drain();
	for (unsigned j = 0; j < i; j++)
		reply(all, j, replies[j], 4200);
	return all;
}

static uint8_t gpa_byte(uint64_t gpa)
{
	uint8_t b;

	ck_assert(guest_mem_read(&fake.gm, gpa, &b, 1));
	return b;
}

START_TEST(checksum_and_framing)
{
	char out[64];

	ck_assert_uint_eq(gdb_checksum("OK", 2), (uint8_t)('O' + 'K'));
	ck_assert_uint_eq(gdb_frame("OK", 2, out, sizeof(out)), 6);
	ck_assert_str_eq((out[6] = '\0', out), "$OK#9a");
	/* '#', '$', '}' and '*' travel escaped; the checksum covers what is sent */
	size_t n = gdb_frame("a#$}*", 5, out, sizeof(out));
	ck_assert_uint_eq(n, 13);
	out[n] = '\0';
	ck_assert_str_eq(out, "$a}\x03}\x04}]}\x0a#c3");
	ck_assert_uint_eq(gdb_frame("hello", 5, out, 8), 0);   /* does not fit: nothing */
	char esc[] = "a}\x03}\x04}]}\x0a";
	ck_assert_int_eq(gdb_unescape(esc, strlen(esc)), 5);
	ck_assert_mem_eq(esc, "a#$}*", 5);
	char bad[] = "ab}";
	ck_assert_int_eq(gdb_unescape(bad, 3), -1);
}
END_TEST

static enum gdb_input feed(struct gdb_parser *p, const char *bytes)
{
	enum gdb_input last = GDB_IN_MORE;

	for (; *bytes; bytes++)
		if ((last = gdb_parser_feed(p, (uint8_t)*bytes)) != GDB_IN_MORE && bytes[1])
			ck_abort_msg("unit ended early at '%s'", bytes);
	return last;
}

START_TEST(parser_units)
{
	static struct gdb_parser p;

	ck_assert_int_eq(feed(&p, "noise$OK#9a"), GDB_IN_PACKET);
	ck_assert_str_eq(p.body, "OK");
	ck_assert_int_eq(feed(&p, "$OK#9b"), GDB_IN_BAD);
	ck_assert_int_eq(feed(&p, "$OK#x"), GDB_IN_BAD);
	ck_assert_int_eq(feed(&p, "$OK#9"), GDB_IN_MORE);
	ck_assert_int_eq(feed(&p, "A"), GDB_IN_PACKET);   /* "9A": either case */
	ck_assert_int_eq(feed(&p, "\x03"), GDB_IN_INTERRUPT);
	ck_assert_int_eq(feed(&p, "+"), GDB_IN_ACK);
	ck_assert_int_eq(feed(&p, "-"), GDB_IN_NAK);
	ck_assert_int_eq(feed(&p, "$g$OK#9a"), GDB_IN_PACKET);   /* restarted packet */
	ck_assert_str_eq(p.body, "OK");
	/* longer than GDB_PACKET_MAX: refused even with the right checksum */
	uint8_t sum = 0;
	gdb_parser_feed(&p, '$');
	for (unsigned i = 0; i < GDB_PACKET_MAX + 10; i++) {
		ck_assert_int_eq(gdb_parser_feed(&p, 'a'), GDB_IN_MORE);
		sum = (uint8_t)(sum + 'a');
	}
	char tail[4];
	snprintf(tail, sizeof(tail), "#%02x", sum);
	ck_assert_int_eq(feed(&p, tail), GDB_IN_BAD);
}
END_TEST

START_TEST(hex_numbers)
{
	const char *p = "ffffffffffffffff,";
	uint64_t v;
	uint8_t b[2];

	ck_assert(gdb_parse_hex(&p, &v));
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(*p, ',');
	p = "10000000000000000";
	ck_assert(!gdb_parse_hex(&p, &v));   /* 17 digits overflow */
	p = "xyz";
	ck_assert(!gdb_parse_hex(&p, &v));
	ck_assert(gdb_hex_decode("a0Ff", b, 2));
	ck_assert_uint_eq(b[0], 0xa0);
	ck_assert_uint_eq(b[1], 0xff);
	ck_assert(!gdb_hex_decode("a", b, 1));
	ck_assert(!gdb_hex_decode("g0", b, 1));
}
END_TEST

/* The n-th <reg name="..."> of target.xml. */
static void xml_reg_name(unsigned n, char *name, size_t size)
{
	const char *p = gdb_target_xml;

	for (unsigned i = 0; i <= n; i++) {
		p = strstr(p, "<reg name=\"");
		ck_assert_msg(p, "target.xml has only %u registers", i);
		p += strlen("<reg name=\"");
	}
	size_t len = strcspn(p, "\"");
	ck_assert_uint_lt(len, size);
	memcpy(name, p, len);
	name[len] = '\0';
}

START_TEST(register_file_matches_description)
{
	static const struct { unsigned regno; const char *name; } named[] = {
		{ GDB_REG_RAX, "rax" }, { GDB_REG_RSP, "rsp" }, { GDB_REG_RIP, "rip" },
		{ GDB_REG_EFLAGS, "eflags" }, { GDB_REG_CS, "cs" }, { GDB_REG_ST0, "st0" },
		{ GDB_REG_FCTRL, "fctrl" }, { GDB_REG_XMM0, "xmm0" }, { GDB_REG_MXCSR, "mxcsr" },
		{ GDB_REG_FS_BASE, "fs_base" }, { GDB_REG_K_GS_BASE, "k_gs_base" },
		{ GDB_REG_CR0, "cr0" }, { GDB_REG_CR3, "cr3" }, { GDB_REG_EFER, "efer" },
	};
	char name[32];
	size_t total = 0;

	for (unsigned i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		xml_reg_name(named[i].regno, name, sizeof(name));
		ck_assert_str_eq(name, named[i].name);
	}
	for (unsigned i = 0; i < GDB_REG_COUNT; i++) {
		xml_reg_name(i, name, sizeof(name));
		ck_assert_uint_gt(gdb_reg_size(i), 0);
		total += gdb_reg_size(i);
	}
	ck_assert_ptr_null(strstr(strstr(gdb_target_xml, "name=\"efer\""), "<reg "));
	ck_assert_uint_eq(total, GDB_REGS_BYTES);
	ck_assert_uint_eq(gdb_reg_size(GDB_REG_COUNT), 0);
}
END_TEST

START_TEST(register_encoding)
{
	struct gdb_regs r = { .rip = 0x0102030405060708ull, .rflags = 0x246, .cr3 = 0xabc000,
			      .seg = { 0x8 } }, back;
	uint8_t raw[GDB_REGS_BYTES];

	r.gpr[7] = 0xdeadbeef;
	gdb_regs_pack(&r, raw);
	ck_assert_uint_eq(raw[16 * 8], 0x08);       /* rip, little-endian, after 16 GPRs */
	ck_assert_uint_eq(raw[16 * 8 + 7], 0x01);
	ck_assert_uint_eq(raw[17 * 8], 0x46);       /* eflags: 4 bytes */
	ck_assert_uint_eq(raw[17 * 8 + 4], 0x08);   /* cs: 4 bytes */
	ck_assert_uint_eq(raw[7 * 8], 0xef);
	memset(&back, 0, sizeof(back));
	gdb_regs_unpack(&back, raw);
	ck_assert_mem_eq(&back, &r, sizeof(r));
	uint8_t eflags[4] = { 0x02, 0, 0, 0 };
	back.rflags = 0xffffffff00000246ull;
	ck_assert(gdb_reg_set(&back, GDB_REG_EFLAGS, eflags));
	ck_assert_uint_eq(back.rflags, 0x2);
}
END_TEST

START_TEST(session_registers_and_threads)
{
	static char r[16][4200];
	const char *cmds[] = { "?", "qSupported:multiprocess+;swbreak+", "g", "p10", "p3e",
			       "qfThreadInfo", "qsThreadInfo", "Hg2", "p0", "T2", "T3", "p99",
			       "vMustReplyEmpty", "qC", NULL };

	serve_all(cmds, r);
	ck_assert_str_eq(r[0], "T05thread:01;");
	ASSERT_HAS(r[1], "qXfer:features:read+");
	ASSERT_HAS(r[1], "PacketSize=1000");
	ck_assert_uint_eq(strlen(r[2]), 2 * GDB_REGS_BYTES);
	ck_assert_str_eq(r[3], "1000400000000000");          /* rip = 0x400010 */
	ck_assert_str_eq(r[4], "0010000000000000");          /* cr3 = 0x1000 */
	ck_assert_str_eq(r[5], "m1,2");
	ck_assert_str_eq(r[6], "l");
	ck_assert_str_eq(r[7], "OK");
	ck_assert_str_eq(r[8], "8977665544332211");          /* vCPU 1's rax */
	ck_assert_str_eq(r[9], "OK");
	ck_assert_str_eq(r[10], "E03");
	ck_assert_str_eq(r[11], "E16");
	ck_assert_str_eq(r[12], "");
	ck_assert_str_eq(r[13], "QC1");
}
END_TEST

START_TEST(session_target_description)
{
	static char r[4][4200];
	char want[4200];
	const char *cmds[] = { "qXfer:features:read:target.xml:0,20",
			       "qXfer:features:read:target.xml:0,ffff",
			       "qXfer:features:read:other.xml:0,10", NULL };

	serve_all(cmds, r);
	snprintf(want, sizeof(want), "m%.32s", gdb_target_xml);
	ck_assert_str_eq(r[0], want);
	ck_assert_msg(r[1][0] == 'm' || r[1][0] == 'l', "%s", r[1]);
	ck_assert_str_eq(r[2], "E02");
}
END_TEST

START_TEST(session_memory_by_virtual_and_physical_address)
{
	static char r[12][4200];
	const char *cmds[] = { "m400000,4", "m400fff,2", "m402000,4", "M401000,2:abcd",
			       "m401000,2", "qRcmd,7068797320 6f6e", "qRcmd,70687973206f6e",
			       "m5000,2", "m500000,1", "qRcmd,70687973206f6666", "M400000,1:zz",
			       NULL };

	serve_all(cmds, r);
	ck_assert_str_eq(r[0], "90919293");
	/* 0x400fff: the code page's last byte, then the data page's first */
	ck_assert_str_eq(r[1], "7766");
	ck_assert_str_eq(r[2], "E0e");                   /* not mapped */
	ck_assert_str_eq(r[3], "OK");
	ck_assert_uint_eq(gpa_byte(DATA_GPA), 0xab);
	ck_assert_str_eq(r[4], "abcd");
	ck_assert_str_eq(r[5], "E16");                   /* malformed hex */
	ASSERT_HAS(r[6], "");                            /* "addresses are now ...", hex */
	ck_assert_str_eq(r[7], "9091");                  /* GPA 0x5000 */
	ck_assert_str_eq(r[8], "E0e");                   /* beyond RAM */
	ck_assert_str_eq(r[10], "E16");
}
END_TEST

START_TEST(session_binary_write)
{
	static char r[2][4200];
	char body[64];
	const uint8_t data[4] = { '#', '$', '}', '*' };
	int n = snprintf(body, sizeof(body), "X401000,4:");
	size_t framed_len = (size_t)n;

	memcpy(body + n, data, 4);
	framed_len += 4;
	send_body(body, framed_len);   /* gdb_frame escapes the four */
	send_cmd("m401000,4");
	send_cmd("c");
	ck_assert_int_eq(gdbstub_serve(&stub, NULL), GDB_ACT_CONTINUE);
	char *all = drain();
	ck_assert_str_eq(reply(all, 0, r[0], 4200), "OK");
	ck_assert_str_eq(reply(all, 1, r[1], 4200), "23247d2a");
}
END_TEST

START_TEST(session_software_breakpoints)
{
	static char r[8][4200];
	const char *cmds[] = { "Z0,400020,1", "m400020,1", "Z0,402000,1", "z0,400020,1",
			       "z0,400020,1", NULL };

	send_cmd("Z0,400020,1");
	send_cmd("c");
	ck_assert_int_eq(gdbstub_serve(&stub, NULL), GDB_ACT_CONTINUE);
	ck_assert_uint_eq(gpa_byte(CODE_GPA + 0x20), 0xcc);   /* planted */
	struct gdb_debug_state d;
	gdbstub_debug_state(&stub, 0, &d);
	ck_assert(d.enable && d.sw_breakpoints && !d.single_step);
	/* the stop at the INT3 reaches gdb, who resumed */
	struct gdb_stop stop = { .kind = GDB_STOP_SW_BREAK, .cpu = 1 };
	send_cmd("k");
	ck_assert_int_eq(gdbstub_serve(&stub, &stop), GDB_ACT_KILL);
	char *all = drain();
	ck_assert_str_eq(reply(all, 1, r[0], 4200), "T05thread:2;swbreak:;");

	serve_all(cmds, r);
	ck_assert_str_eq(r[0], "OK");                    /* twice: one breakpoint */
	ck_assert_str_eq(r[1], "b0");                    /* gdb reads the guest's byte */
	ck_assert_str_eq(r[2], "E0e");
	ck_assert_str_eq(r[3], "OK");
	ck_assert_str_eq(r[4], "E02");
	ck_assert_uint_eq(gpa_byte(CODE_GPA + 0x20), 0xb0);   /* restored */
}
END_TEST

START_TEST(session_watchpoints_and_step)
{
	static char r[8][4200];
	const char *cmds[] = { "Z2,401008,8", "Z4,401010,4", "Z1,400030,1", "Z3,401000,4",
			       "Z2,401001,4", "Z2,401000,3", "Z2,401020,8", NULL };
	struct gdb_debug_state d;

	serve_all(cmds, r);
	ck_assert_str_eq(r[0], "OK");
	ck_assert_str_eq(r[1], "OK");
	ck_assert_str_eq(r[2], "OK");
	ck_assert_str_eq(r[3], "");      /* read-only watchpoints: x86 has none */
	ck_assert_str_eq(r[4], "E16");   /* misaligned */
	ck_assert_str_eq(r[5], "E16");   /* no such length */
	ck_assert_str_eq(r[6], "OK");    /* the fourth debug register */
	gdbstub_debug_state(&stub, 0, &d);
	ck_assert(d.hw_breakpoints && !d.sw_breakpoints);
	ck_assert_uint_eq(d.dr[0], 0x401008);
	ck_assert_uint_eq(d.dr[2], 0x400030);
	/* DR0: write, 8 bytes; DR1: read/write, 4 bytes; DR2: execute; all global */
	ck_assert_uint_eq(d.dr7 & 0xff, 0xaa);
	ck_assert_uint_eq((d.dr7 >> 16) & 0xf, 0x9);
	ck_assert_uint_eq((d.dr7 >> 20) & 0xf, 0xf);
	ck_assert_uint_eq((d.dr7 >> 24) & 0xf, 0x0);

	struct gdb_stop hit = { .kind = GDB_STOP_DEBUG, .cpu = 0, .dr6 = 0xffff0ff1 };
	send_cmd("s");
	ck_assert_int_eq(gdbstub_serve(&stub, &hit), GDB_ACT_STEP);
	gdbstub_debug_state(&stub, 0, &d);
	ck_assert(d.single_step);
	gdbstub_debug_state(&stub, 1, &d);
	ck_assert(!d.single_step);       /* only the stepping vCPU */
	struct gdb_stop step = { .kind = GDB_STOP_DEBUG, .cpu = 0, .dr6 = 0xffff4ff0 };
	send_cmd("D");
	ck_assert_int_eq(gdbstub_serve(&stub, &step), GDB_ACT_DETACH);
	char *all = drain();
	ck_assert_str_eq(reply(all, 0, r[0], 4200), "T05thread:1;watch:401008;");
	ck_assert_str_eq(reply(all, 1, r[0], 4200), "T05thread:1;");
	ck_assert_str_eq(reply(all, 2, r[0], 4200), "OK");
	gdbstub_debug_state(&stub, 0, &d);
	ck_assert(!d.enable);            /* detached: nothing left */
}
END_TEST

START_TEST(session_violation_stop)
{
	static char r[4][4200];
	char hex[256];
	const char *msg = "vmm: violation RM_MISSING at checkpoint 'x'";

	send_cmd("c");
	ck_assert_int_eq(gdbstub_serve(&stub, NULL), GDB_ACT_CONTINUE);
	struct gdb_stop v = { .kind = GDB_STOP_VIOLATION, .cpu = 1, .message = msg };
	send_cmd("qRcmd,776879");   /* monitor why */
	send_cmd("k");
	ck_assert_int_eq(gdbstub_serve(&stub, &v), GDB_ACT_KILL);
	char *all = drain();
	hex[0] = 'O';
	gdb_hex_encode(msg, strlen(msg), hex + 1);
	ck_assert_msg(strncmp(reply(all, 0, r[0], 4200), hex, strlen(hex)) == 0, "%s", r[0]);
	ck_assert_str_eq(reply(all, 1, r[1], 4200), "T05thread:2;");
	ck_assert_str_eq(reply(all, 2, r[2], 4200), r[0] + 1);   /* why: the same line */
}
END_TEST

/* vCont names the vCPU that steps; so does Hc before `s`; "any" means the one that stopped. */
START_TEST(session_step_names_the_vcpu)
{
	static char r[4][4200];
	const char *cmds[] = { "vCont?", "vCont;x", "vCont;s:3", "vCont;", NULL };
	struct gdb_stop stop = { .kind = GDB_STOP_DEBUG, .cpu = 0, .dr6 = 0 };
	struct gdb_debug_state d0, d1;

	serve_all(cmds, r);
	ck_assert_str_eq(r[0], "vCont;c;C;s;S");
	ck_assert_str_eq(r[1], "E16");
	ck_assert_str_eq(r[2], "E16");   /* there is no thread 3 */
	ck_assert_str_eq(r[3], "E16");
	const char *const steps[][2] = { { "vCont;s:2;c", NULL }, { "Hc2", "s" }, { "Hc0", "s" },
					 { "Hc-1", "vCont;S05:1;c" } };
	const bool second_steps[] = { true, true, false, false };
	for (unsigned i = 0; i < 4; i++) {
		for (unsigned j = 0; j < 2 && steps[i][j]; j++)
			send_cmd(steps[i][j]);
		ck_assert_int_eq(gdbstub_serve(&stub, &stop), GDB_ACT_STEP);
		gdbstub_debug_state(&stub, 0, &d0);
		gdbstub_debug_state(&stub, 1, &d1);
		ck_assert_msg(d1.single_step == second_steps[i] && d0.single_step != second_steps[i],
			      "%s: vCPU 0 %d, vCPU 1 %d", steps[i][0], d0.single_step, d1.single_step);
	}
	send_cmd("vCont;c");
	ck_assert_int_eq(gdbstub_serve(&stub, &stop), GDB_ACT_CONTINUE);
	gdbstub_debug_state(&stub, 0, &d0);
	gdbstub_debug_state(&stub, 1, &d1);
	ck_assert(!d0.single_step && !d1.single_step);
}
END_TEST

/* `monitor CMD`'s output, decoded. */
static const char *monitor_cmd(const char *cmd, char *out, size_t size)
{
	char pkt[300] = "qRcmd,", hex[4200];

	gdb_hex_encode(cmd, strlen(cmd), pkt + 6);
	send_cmd(pkt);
	send_cmd("c");
	ck_assert_int_eq(gdbstub_serve(&stub, NULL), GDB_ACT_CONTINUE);
	reply(drain(), 0, hex, sizeof(hex));
	ck_assert_uint_lt(strlen(hex) / 2, size);
	ck_assert(gdb_hex_decode(hex, out, strlen(hex) / 2));
	out[strlen(hex) / 2] = '\0';
	return out;
}

START_TEST(session_monitor_pte)
{
	char out[400];

	ck_assert_str_eq(monitor_cmd("pte 0x400000", out, sizeof(out)),
			 "pte of 0x400000 (cr3 0x1000): GPA 0x4000, VA 0xffff800000004000 = "
			 "0x0000000000005001 (maps PA 0x5000)\n");
	ASSERT_HAS(monitor_cmd("pte 401abc", out, sizeof(out)), "GPA 0x4008, VA 0xffff800000004008 = "
		   "0x8000000000006003 (maps PA 0x6000)");
	ASSERT_HAS(monitor_cmd("pte 402000", out, sizeof(out)), "pte of 0x402000 (cr3 0x1000): GPA 0x4010,");
	ASSERT_HAS(monitor_cmd("pte 400000 0x7000", out, sizeof(out)), "pgd of 0x400000 (cr3 0x7000): GPA 0x7000,");
	ASSERT_HAS(monitor_cmd("pte zz", out, sizeof(out)), "usage: monitor pte");
	ASSERT_HAS(monitor_cmd("pte 1 2 3", out, sizeof(out)), "usage: monitor pte");
}
END_TEST

START_TEST(session_acks_and_resend)
{
	char buf[64];

	ck_assert_int_eq(write(client, "$?#00", 5), 5);     /* bad checksum */
	ck_assert_int_eq(write(client, "$?#3f", 5), 5);
	ck_assert_int_eq(write(client, "-", 1), 1);         /* resend, please */
	ck_assert_int_eq(write(client, "\x03", 1), 1);      /* Ctrl-C while stopped: nothing */
	send_cmd("QStartNoAckMode");
	send_cmd("c");
	ck_assert_int_eq(gdbstub_serve(&stub, NULL), GDB_ACT_CONTINUE);
	snprintf(buf, sizeof(buf), "%s", drain());
	ck_assert_str_eq(buf, "-+$T05thread:01;#07$T05thread:01;#07+$OK#9a");
}
END_TEST

START_TEST(interrupt_while_running)
{
	send_cmd("c");
	ck_assert_int_eq(gdbstub_serve(&stub, NULL), GDB_ACT_CONTINUE);
	fcntl(stub.fd, F_SETFL, O_NONBLOCK);
	ck_assert(!gdbstub_interrupted(&stub));             /* nothing sent */
	ck_assert_int_eq(write(client, "\x03", 1), 1);
	ck_assert(gdbstub_interrupted(&stub));
	fcntl(stub.fd, F_SETFL, 0);
	struct gdb_stop stop = { .kind = GDB_STOP_INTERRUPT, .cpu = 0 };
	send_cmd("D");
	ck_assert_int_eq(gdbstub_serve(&stub, &stop), GDB_ACT_DETACH);
	char r[64];
	ck_assert_str_eq(reply(drain(), 0, r, sizeof(r)), "T02thread:1;");
	shutdown(client, SHUT_WR);
	ck_assert_int_eq(gdbstub_serve(&stub, NULL), GDB_ACT_GONE);
}
END_TEST

START_TEST(exit_reply_and_release)
{
	send_cmd("Z0,400000,1");
	send_cmd("c");
	ck_assert_int_eq(gdbstub_serve(&stub, NULL), GDB_ACT_CONTINUE);
	ck_assert_uint_eq(gpa_byte(CODE_GPA), 0xcc);
	gdbstub_exited(&stub, 3);
	ck_assert_uint_eq(gpa_byte(CODE_GPA), 0x90);
	char r[64];
	ck_assert_str_eq(reply(drain(), 1, r, sizeof(r)), "W03");
}
END_TEST

/* Hostile input: random bytes and random well-framed packets never crash the stub. */
START_TEST(hostile_packets)
{
	static const char *const prefixes[] = { "m", "M", "X", "Z", "z", "p", "P", "G", "H", "T",
		"qXfer:features:read:target.xml:", "qRcmd,", "g", "?", "q", "Q", "v" };
	char body[GDB_PACKET_MAX + 64];
	unsigned seed = 12345;

	fcntl(client, F_SETFL, O_NONBLOCK);
	for (unsigned round = 0; round < 3000; round++) {
		size_t n = (size_t)snprintf(body, sizeof(body), "%s",
					    prefixes[rand_r(&seed) % (sizeof(prefixes) / sizeof(prefixes[0]))]);
		size_t extra = (size_t)rand_r(&seed) % (round % 50 == 0 ? GDB_PACKET_MAX + 40 : 40);
		static const char alphabet[] = "0123456789abcdefABCDEF,:;=-}#$*xyz\x03\xff";
		for (size_t i = 0; i < extra && n < sizeof(body) - 1; i++)
			body[n++] = alphabet[(size_t)rand_r(&seed) % (sizeof(alphabet) - 1)];
		if (round % 7 == 0)
			ck_assert_int_eq(write(client, body, n), (ssize_t)n);   /* raw bytes */
		else if (n <= GDB_PACKET_MAX)
			send_body(body, n);
		send_cmd("c");
		ck_assert_int_ne(gdbstub_serve(&stub, NULL), GDB_ACT_GONE);
		drain();
	}
	/* the fake guest's tables are intact or the stub's own writes only */
	ck_assert_uint_eq(gpa_byte(0x4000) & PTE_P, PTE_P);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gdbstub");
	TCase *pure = tcase_create("protocol");
	TCase *session = tcase_create("session");

	tcase_add_test(pure, checksum_and_framing);
	tcase_add_test(pure, parser_units);
	tcase_add_test(pure, hex_numbers);
	tcase_add_test(pure, register_file_matches_description);
	tcase_add_test(pure, register_encoding);
	tcase_add_checked_fixture(session, setup, teardown);
	tcase_add_test(session, session_registers_and_threads);
	tcase_add_test(session, session_target_description);
	tcase_add_test(session, session_memory_by_virtual_and_physical_address);
	tcase_add_test(session, session_binary_write);
	tcase_add_test(session, session_software_breakpoints);
	tcase_add_test(session, session_watchpoints_and_step);
	tcase_add_test(session, session_violation_stop);
	tcase_add_test(session, session_step_names_the_vcpu);
	tcase_add_test(session, session_monitor_pte);
	tcase_add_test(session, session_acks_and_resend);
	tcase_add_test(session, interrupt_while_running);
	tcase_add_test(session, exit_reply_and_release);
	tcase_add_test(session, hostile_packets);
	tcase_set_timeout(session, 60);
	suite_add_tcase(s, pure);
	suite_add_tcase(s, session);
	return run_suite(s);
}
