/* SPDX-License-Identifier: BSD-2-Clause */
/* The gdb stub's protocol core: one gdb connection served while the guest is stopped, KVM-free. */
#include "gdbstub.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gdbstub_mem.h"
#include "hatvm/layout.h"
#include "pt_walk.h"

#define SIGTRAP_NO 5
#define SIGINT_NO  2
#define HEX_MAX    (GDB_PACKET_MAX / 2)   /* bytes per m reply */

/* Outcome of one command: a reply has been sent, and maybe the guest must move. */
enum cmd_result { CMD_STAY, CMD_CONTINUE, CMD_STEP, CMD_DETACH, CMD_KILL };

void gdbstub_init(struct gdbstub *s, int fd, const struct gdb_target *target)
{
	*s = (struct gdbstub){ .fd = fd, .target = *target, .step_tid = -1 };
	snprintf(s->stop_reply, sizeof(s->stop_reply), "T%02xthread:01;", SIGTRAP_NO);
	snprintf(s->why, sizeof(s->why), "stopped before the first instruction");
}

static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Sends one packet (binary-safe); kept for a resend after '-'. */
static void send_packet(struct gdbstub *s, const void *body, size_t len)
{
	s->last_len = gdb_frame(body, len, s->last, sizeof(s->last));
	if (s->last_len == 0)   /* cannot happen for our replies; say so rather than send half */
		s->last_len = gdb_frame("E22", 3, s->last, sizeof(s->last));
	write_all(s->fd, s->last, s->last_len);
}

static void send_str(struct gdbstub *s, const char *text)
{
	send_packet(s, text, strlen(text));
}

__attribute__((format(printf, 2, 3)))
static void send_fmt(struct gdbstub *s, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	send_str(s, buf);
}

static void send_error(struct gdbstub *s, int err)
{
	send_fmt(s, "E%02x", err & 0xff);
}

/* Console output for gdb ('O' packet), only while gdb waits for a stop reply. */
static void send_console(struct gdbstub *s, const char *text)
{
	char line[202], hex[2 * sizeof(line) + 2];
	int len = snprintf(line, sizeof(line), "%.200s\n", text);

	hex[0] = 'O';
	gdb_hex_encode(line, (size_t)len, hex + 1);
	send_str(s, hex);
}

/* The next unit from the socket: a packet, Ctrl-C, an ack; GDB_IN_MORE at end of stream. */
static enum gdb_input next_input(struct gdbstub *s, bool *eof)
{
	for (;;) {
		while (s->in_pos < s->in_len) {
			enum gdb_input in = gdb_parser_feed(&s->parser, s->in[s->in_pos++]);
			if (in != GDB_IN_MORE)
				return in;
		}
		ssize_t n = read(s->fd, s->in, sizeof(s->in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*eof = true;
			return GDB_IN_MORE;
		}
		s->in_pos = 0;
		s->in_len = (size_t)n;
	}
}

/* gdb's thread id (hex, 1-based) to a vCPU; 0 and -1 name the stopped one. */
static bool parse_thread(struct gdbstub *s, const char *p, unsigned *cpu)
{
	uint64_t tid;

	if (strcmp(p, "-1") == 0 || strcmp(p, "0") == 0) {
		*cpu = s->stop_cpu;
		return true;
	}
	if (!gdb_parse_hex(&p, &tid) || *p || tid == 0 || tid > s->target.ncpus)
		return false;
	*cpu = (unsigned)(tid - 1);
	return true;
}

static int current_regs(struct gdbstub *s, struct gdb_regs *regs)
{
	memset(regs, 0, sizeof(*regs));
	return s->target.get_regs(s->target.ctx, s->cur_cpu, regs);
}

static enum cmd_result cmd_read_regs(struct gdbstub *s)
{
	struct gdb_regs regs;
	uint8_t raw[GDB_REGS_BYTES];
	char hex[2 * GDB_REGS_BYTES + 1];

	if (current_regs(s, &regs))
		return send_error(s, EIO), CMD_STAY;
	gdb_regs_pack(&regs, raw);
	gdb_hex_encode(raw, sizeof(raw), hex);
	send_str(s, hex);
	return CMD_STAY;
}

static enum cmd_result cmd_write_regs(struct gdbstub *s, const char *hex)
{
	struct gdb_regs regs;
	uint8_t raw[GDB_REGS_BYTES];

	if (strlen(hex) != 2 * GDB_REGS_BYTES || !gdb_hex_decode(hex, raw, sizeof(raw)))
		return send_error(s, EINVAL), CMD_STAY;
	if (current_regs(s, &regs))
		return send_error(s, EIO), CMD_STAY;
	gdb_regs_unpack(&regs, raw);
	if (s->target.set_regs(s->target.ctx, s->cur_cpu, &regs))
		return send_error(s, EIO), CMD_STAY;
	send_str(s, "OK");
	return CMD_STAY;
}

static enum cmd_result cmd_read_reg(struct gdbstub *s, const char *p)
{
	struct gdb_regs regs;
	uint64_t regno;
	uint8_t raw[16];
	char hex[33];

	if (!gdb_parse_hex(&p, &regno) || *p || regno >= GDB_REG_COUNT)
		return send_error(s, EINVAL), CMD_STAY;
	if (current_regs(s, &regs))
		return send_error(s, EIO), CMD_STAY;
	gdb_reg_get(&regs, (unsigned)regno, raw);
	gdb_hex_encode(raw, gdb_reg_size((unsigned)regno), hex);
	send_str(s, hex);
	return CMD_STAY;
}

static enum cmd_result cmd_write_reg(struct gdbstub *s, const char *p)
{
	struct gdb_regs regs;
	uint64_t regno;
	uint8_t raw[16];

	if (!gdb_parse_hex(&p, &regno) || *p++ != '=' || regno >= GDB_REG_COUNT ||
	    strlen(p) != 2 * gdb_reg_size((unsigned)regno) ||
	    !gdb_hex_decode(p, raw, gdb_reg_size((unsigned)regno)))
		return send_error(s, EINVAL), CMD_STAY;
	if (current_regs(s, &regs))
		return send_error(s, EIO), CMD_STAY;
	gdb_reg_set(&regs, (unsigned)regno, raw);
	if (s->target.set_regs(s->target.ctx, s->cur_cpu, &regs))
		return send_error(s, EIO), CMD_STAY;
	send_str(s, "OK");
	return CMD_STAY;
}

/* "ADDR,LEN" followed by END (':' or NUL); LEN at most max. */
static bool parse_range(const char **p, uint64_t *addr, uint64_t *len, uint64_t max, char end)
{
	if (!gdb_parse_hex(p, addr) || *(*p)++ != ',' || !gdb_parse_hex(p, len) || **p != end ||
	    *len > max)
		return false;
	if (end)
		(*p)++;
	return true;
}

static enum cmd_result cmd_read_mem(struct gdbstub *s, const char *p)
{
	struct gdb_regs regs;
	uint64_t addr, len;
	uint8_t buf[HEX_MAX];
	char hex[2 * HEX_MAX + 1];

	if (!parse_range(&p, &addr, &len, HEX_MAX, '\0'))
		return send_error(s, EINVAL), CMD_STAY;
	if (current_regs(s, &regs))
		return send_error(s, EIO), CMD_STAY;
	struct gdb_space sp = { .gm = s->target.gm, .regs = &regs, .phys = s->phys };
	uint64_t got = gdb_mem_read(&sp, &s->bp, addr, buf, len);
	if (got == 0 && len)
		return send_error(s, EFAULT), CMD_STAY;
	gdb_hex_encode(buf, got, hex);
	send_str(s, hex);
	return CMD_STAY;
}

/* M (hex data) and X (binary data, already unescaped to LEN bytes) writes. */
static enum cmd_result cmd_write_mem(struct gdbstub *s, const char *p, size_t body_len, bool binary)
{
	const char *start = p;
	struct gdb_regs regs;
	uint64_t addr, len;
	uint8_t buf[GDB_PACKET_MAX];

	if (!parse_range(&p, &addr, &len, sizeof(buf), ':'))
		return send_error(s, EINVAL), CMD_STAY;
	size_t data_len = body_len - (size_t)(p - start);
	if (binary ? data_len != len : (data_len != 2 * len || !gdb_hex_decode(p, buf, len)))
		return send_error(s, EINVAL), CMD_STAY;
	if (binary)
		memcpy(buf, p, len);
	if (current_regs(s, &regs))
		return send_error(s, EIO), CMD_STAY;
	struct gdb_space sp = { .gm = s->target.gm, .regs = &regs, .phys = s->phys };
	if (!gdb_mem_write(&sp, &s->bp, addr, buf, len))
		return send_error(s, EFAULT), CMD_STAY;
	send_str(s, "OK");
	return CMD_STAY;
}

/* Z and z: "TYPE,ADDR,KIND". */
static enum cmd_result cmd_breakpoint(struct gdbstub *s, const char *p, bool insert)
{
	uint64_t type, addr, kind, gpa;
	struct gdb_regs regs;
	int rc;

	if (!gdb_parse_hex(&p, &type) || *p++ != ',' || !parse_range(&p, &addr, &kind, 8, '\0'))
		return send_error(s, EINVAL), CMD_STAY;
	if (type > GDB_WP_ACCESS)
		return send_str(s, ""), CMD_STAY;
	if (type != GDB_BP_SW) {
		rc = insert ? gdb_hw_insert(&s->bp, (enum gdb_bp_type)type, addr, (unsigned)kind)
			    : gdb_hw_remove(&s->bp, (enum gdb_bp_type)type, addr, (unsigned)kind);
	} else if (!insert) {
		rc = gdb_sw_remove(&s->bp, s->target.gm, addr);
	} else if (current_regs(s, &regs)) {
		rc = -EIO;
	} else {
		struct gdb_space sp = { .gm = s->target.gm, .regs = &regs, .phys = s->phys };
		rc = gdb_mem_gpa(&sp, addr, &gpa) ? gdb_sw_insert(&s->bp, s->target.gm, addr, gpa) : -EFAULT;
	}
	if (rc == -EINVAL && type == GDB_WP_READ)
		return send_str(s, ""), CMD_STAY;   /* unsupported: gdb says so itself */
	return rc ? send_error(s, -rc) : send_str(s, "OK"), CMD_STAY;
}

/* qXfer:features:read:target.xml:OFF,LEN */
static enum cmd_result cmd_features(struct gdbstub *s, const char *p)
{
	static const char prefix[] = "target.xml:";
	size_t total = strlen(gdb_target_xml);
	uint64_t off, len;
	char reply[GDB_PACKET_MAX];

	if (strncmp(p, prefix, sizeof(prefix) - 1) != 0)
		return send_error(s, ENOENT), CMD_STAY;
	p += sizeof(prefix) - 1;
	if (!parse_range(&p, &off, &len, UINT64_MAX, '\0'))
		return send_error(s, EINVAL), CMD_STAY;
	if (off > total)
		return send_error(s, EINVAL), CMD_STAY;
	/* escaping may double each byte: leave room for it */
	size_t n = total - off < len ? total - off : len;
	n = n < sizeof(reply) / 2 - 8 ? n : sizeof(reply) / 2 - 8;
	reply[0] = off + n < total ? 'm' : 'l';
	memcpy(reply + 1, gdb_target_xml + off, n);
	send_packet(s, reply, n + 1);
	return CMD_STAY;
}

static void monitor_reply(struct gdbstub *s, const char *text)
{
	char hex[2 * 320 + 1];   /* cmd_monitor's lines are shorter */

	gdb_hex_encode(text, strnlen(text, 320), hex);
	send_str(s, hex);
}

/* A number of a monitor command: hex, with or without 0x, after spaces. */
static bool monitor_number(const char **p, uint64_t *value)
{
	while (**p == ' ')
		(*p)++;
	if ((*p)[0] == '0' && ((*p)[1] == 'x' || (*p)[1] == 'X'))
		*p += 2;
	return gdb_parse_hex(p, value) && (**p == ' ' || **p == '\0');
}

/*
 * `monitor pte VA [CR3]`: the entry that maps VA through the current
 * vCPU's CR3 (or CR3), or the one where the walk stops, with its address
 * in the direct map, the address a `watch` on it takes.
 */
static void describe_pte(struct gdbstub *s, const char *args, char *line, size_t size)
{
	struct gdb_regs regs;
	struct pt_translation t;
	uint64_t va, cr3;

	if (!monitor_number(&args, &va)) {
		snprintf(line, size, "usage: monitor pte VA [CR3] (hex)\n");
		return;
	}
	if (current_regs(s, &regs)) {
		snprintf(line, size, "cannot read vCPU %u's registers\n", s->cur_cpu);
		return;
	}
	cr3 = regs.cr3;
	while (*args == ' ')
		args++;
	if (*args && (!monitor_number(&args, &cr3) || args[strspn(args, " ")])) {
		snprintf(line, size, "usage: monitor pte VA [CR3] (hex)\n");
		return;
	}
	struct pt_config cfg = { .nxe_off = !(regs.efer & EFER_NXE) };
	enum pt_error err = pt_translate(s->target.gm, &cfg, cr3, va, &t);
	const struct pt_entry_ref *e = err == PT_OK ? &t.leaf.entry : &t.fault.entry;
	int n = snprintf(line, size, "%s of 0x%" PRIx64 " (cr3 0x%" PRIx64 "): ", pt_level_name(e->level), va, cr3);
	if (e->level == PT_LEVEL_CR3)
		snprintf(line + n, size - (size_t)n, "%s\n", pt_error_string(err));
	else if (err == PT_OK)
		snprintf(line + n, size - (size_t)n, "GPA 0x%" PRIx64 ", VA 0x%" PRIx64 " = 0x%016" PRIx64
			 " (maps PA 0x%" PRIx64 ")\n", e->gpa, (uint64_t)DIRECT_MAP_BASE + e->gpa, e->value, t.leaf.pa);
	else
		snprintf(line + n, size - (size_t)n, "GPA 0x%" PRIx64 ", VA 0x%" PRIx64 " = 0x%016" PRIx64
			 " (%s)\n", e->gpa, (uint64_t)DIRECT_MAP_BASE + e->gpa, e->value, pt_error_string(err));
}

/* qRcmd: `monitor phys on|off`, `monitor why`, `monitor pte VA [CR3]`, `monitor help`. */
static enum cmd_result cmd_monitor(struct gdbstub *s, const char *hex)
{
	char cmd[128], line[320];
	size_t len = strlen(hex) / 2;

	if (strlen(hex) % 2 || len >= sizeof(cmd) || !gdb_hex_decode(hex, cmd, len))
		return send_error(s, EINVAL), CMD_STAY;
	cmd[len] = '\0';
	if (strcmp(cmd, "phys on") == 0 || strcmp(cmd, "phys off") == 0) {
		s->phys = strcmp(cmd, "phys on") == 0;
		snprintf(line, sizeof(line), "addresses are now guest-%s\n", s->phys ? "physical" : "virtual");
	} else if (strcmp(cmd, "why") == 0) {
		snprintf(line, sizeof(line), "%s\n", s->why);
	} else if (strncmp(cmd, "pte ", 4) == 0) {
		describe_pte(s, cmd + 4, line, sizeof(line));
	} else {
		snprintf(line, sizeof(line), "hatvm monitor commands:\n"
			 "  phys on|off  memory and breakpoints by guest-physical / virtual address\n"
			 "  why          why the guest stopped\n"
			 "  pte VA [CR3] the page-table entry that maps VA, and its address\n");
	}
	monitor_reply(s, line);
	return CMD_STAY;
}

static enum cmd_result cmd_thread_info(struct gdbstub *s)
{
	char list[GDB_PACKET_MAX];
	size_t n = 1;

	list[0] = 'm';
	for (unsigned i = 0; i < s->target.ncpus && n + 10 < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%x", i ? "," : "", i + 1);
	send_packet(s, list, n);
	return CMD_STAY;
}

static enum cmd_result cmd_query(struct gdbstub *s, const char *q)
{
	static const char features[] = "qXfer:features:read:";

	if (strncmp(q, "qSupported", 10) == 0)
		send_fmt(s, "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+",
			 GDB_PACKET_MAX);
	else if (strncmp(q, features, sizeof(features) - 1) == 0)
		return cmd_features(s, q + sizeof(features) - 1);
	else if (strcmp(q, "qfThreadInfo") == 0)
		return cmd_thread_info(s);
	else if (strcmp(q, "qsThreadInfo") == 0)
		send_str(s, "l");
	else if (strcmp(q, "qC") == 0)
		send_fmt(s, "QC%x", s->stop_cpu + 1);
	else if (strcmp(q, "qAttached") == 0)
		send_str(s, "1");
	else if (strncmp(q, "qRcmd,", 6) == 0)
		return cmd_monitor(s, q + 6);
	else
		send_str(s, "");   /* unknown: gdb falls back */
	return CMD_STAY;
}

static enum cmd_result cmd_set_thread(struct gdbstub *s, const char *p)
{
	unsigned cpu;

	if ((p[0] != 'g' && p[0] != 'c') || !parse_thread(s, p + 1, &cpu))
		return send_error(s, EINVAL), CMD_STAY;
	if (p[0] == 'g')
		s->cur_cpu = cpu;
	else   /* "any" and "all" leave the choice to the stop: the vCPU that stopped steps */
		s->step_tid = strcmp(p + 1, "0") == 0 || strcmp(p + 1, "-1") == 0 ? -1 : (int)cpu;
	send_str(s, "OK");
	return CMD_STAY;
}

static enum cmd_result cmd_thread_alive(struct gdbstub *s, const char *p)
{
	unsigned cpu;

	if (parse_thread(s, p, &cpu))
		send_str(s, "OK");
	else
		send_error(s, ESRCH);
	return CMD_STAY;
}

/* c, s: an address to resume at is not supported (gdb never sends one). */
static enum cmd_result cmd_resume(struct gdbstub *s, const char *p, bool step)
{
	if (*p)
		return send_error(s, EINVAL), CMD_STAY;
	s->stepping = step;
	s->step_cpu = s->step_tid < 0 ? s->stop_cpu : (unsigned)s->step_tid;
	s->resumed = true;
	return step ? CMD_STEP : CMD_CONTINUE;
}

/*
 * One vCont action's thread (":TID" up to the next ';'), or the stopped
 * vCPU without one; advances *p past it.
 */
static bool vcont_thread(struct gdbstub *s, const char **p, unsigned *cpu)
{
	char tid[20];
	size_t n;

	if (**p != ':') {
		*cpu = s->stop_cpu;
		return true;
	}
	n = strcspn(++*p, ";");
	if (n == 0 || n >= sizeof(tid))
		return false;
	memcpy(tid, *p, n);
	tid[n] = '\0';
	*p += n;
	return parse_thread(s, tid, cpu);
}

/*
 * vCont;ACTION[:TID]...: c and C continue, s and S step (a signal to
 * deliver is ignored: the guest has no signals). The first step action
 * names the vCPU that steps; the others stay stopped until it has (the
 * VMM holds them), whatever action names them.
 */
static enum cmd_result cmd_vcont(struct gdbstub *s, const char *p)
{
	bool step = false;
	unsigned cpu, step_cpu = s->stop_cpu;
	uint64_t sig;

	while (*p == ';') {
		char action = p[1];
		if (action == '\0' || !strchr("cCsS", action))
			return send_error(s, EINVAL), CMD_STAY;
		p += 2;
		if ((action == 'C' || action == 'S') && !gdb_parse_hex(&p, &sig))
			return send_error(s, EINVAL), CMD_STAY;
		if (!vcont_thread(s, &p, &cpu))
			return send_error(s, EINVAL), CMD_STAY;
		if ((action == 's' || action == 'S') && !step) {
			step = true;
			step_cpu = cpu;
		}
	}
	if (*p)
		return send_error(s, EINVAL), CMD_STAY;
	s->stepping = step;
	s->step_cpu = step_cpu;
	s->resumed = true;
	return step ? CMD_STEP : CMD_CONTINUE;
}

static enum cmd_result cmd_v(struct gdbstub *s, const char *body)
{
	if (strcmp(body, "vCont?") == 0)
		return send_str(s, "vCont;c;C;s;S"), CMD_STAY;
	if (strncmp(body, "vCont;", 6) == 0)
		return cmd_vcont(s, body + 5);
	return send_str(s, ""), CMD_STAY;   /* vMustReplyEmpty and the rest */
}

static enum cmd_result cmd_detach(struct gdbstub *s)
{
	gdbstub_release(s);
	memset(&s->bp.hw, 0, sizeof(s->bp.hw));
	send_str(s, "OK");
	return CMD_DETACH;
}

static enum cmd_result dispatch(struct gdbstub *s, char *body, size_t len)
{
	switch (body[0]) {
	case '?': send_str(s, s->stop_reply); return CMD_STAY;
	case 'g': return cmd_read_regs(s);
	case 'G': return cmd_write_regs(s, body + 1);
	case 'p': return cmd_read_reg(s, body + 1);
	case 'P': return cmd_write_reg(s, body + 1);
	case 'm': return cmd_read_mem(s, body + 1);
	case 'M': return cmd_write_mem(s, body + 1, len - 1, false);
	case 'X': {
		long n = gdb_unescape(body + 1, len - 1);
		if (n < 0)
			return send_error(s, EINVAL), CMD_STAY;
		return cmd_write_mem(s, body + 1, (size_t)n, true);
	}
	case 'Z': return cmd_breakpoint(s, body + 1, true);
	case 'z': return cmd_breakpoint(s, body + 1, false);
	case 'q': return cmd_query(s, body);
	case 'Q':
		if (strcmp(body, "QStartNoAckMode") != 0)
			return send_str(s, ""), CMD_STAY;
		send_str(s, "OK");
		s->no_ack = true;
		return CMD_STAY;
	case 'H': return cmd_set_thread(s, body + 1);
	case 'T': return cmd_thread_alive(s, body + 1);
	case 'c': return cmd_resume(s, body + 1, false);
	case 's': return cmd_resume(s, body + 1, true);
	case 'v': return cmd_v(s, body);
	case 'D': return cmd_detach(s);
	case 'k': return CMD_KILL;
	default:  send_str(s, ""); return CMD_STAY;
	}
}

/* Stop reply and the words of `monitor why` for STOP. */
static void describe_stop(struct gdbstub *s, const struct gdb_stop *stop)
{
	unsigned tid = stop->cpu + 1;
	struct gdb_hw_hit hit = { .kind = GDB_HIT_NONE };
	int n = snprintf(s->stop_reply, sizeof(s->stop_reply), "T%02xthread:%x;",
			 stop->kind == GDB_STOP_INTERRUPT ? SIGINT_NO : SIGTRAP_NO, tid);
	size_t room = sizeof(s->stop_reply) - (size_t)n;
	char *end = s->stop_reply + n;

	if (stop->kind == GDB_STOP_DEBUG)
		hit = gdb_hw_decode(&s->bp, stop->dr6);
	if (stop->kind == GDB_STOP_SW_BREAK)
		snprintf(end, room, "swbreak:;");
	else if (hit.kind == GDB_HIT_HW_BREAK)
		snprintf(end, room, "hwbreak:;");
	else if (hit.kind == GDB_HIT_WATCH)
		snprintf(end, room, "%s:%" PRIx64 ";", hit.type == GDB_WP_WRITE ? "watch" : "awatch", hit.va);
	switch (stop->kind) {
	case GDB_STOP_ATTACH:    snprintf(s->why, sizeof(s->why), "stopped for gdb (vCPU %u)", stop->cpu); break;
	case GDB_STOP_INTERRUPT: snprintf(s->why, sizeof(s->why), "interrupted (vCPU %u)", stop->cpu); break;
	case GDB_STOP_VIOLATION:
		snprintf(s->why, sizeof(s->why), "%s", stop->message ? stop->message : "checker violation");
		break;
	default: snprintf(s->why, sizeof(s->why), "debug trap (vCPU %u)", stop->cpu); break;
	}
}

static enum gdb_action action_of(enum cmd_result r)
{
	switch (r) {
	case CMD_CONTINUE: return GDB_ACT_CONTINUE;
	case CMD_STEP:     return GDB_ACT_STEP;
	case CMD_DETACH:   return GDB_ACT_DETACH;
	default:           return GDB_ACT_KILL;
	}
}

enum gdb_action gdbstub_serve(struct gdbstub *s, const struct gdb_stop *stop)
{
	bool eof = false;

	if (stop) {
		describe_stop(s, stop);
		s->stop_cpu = s->cur_cpu = stop->cpu;
		if (s->resumed) {
			if (stop->kind == GDB_STOP_VIOLATION)
				send_console(s, s->why);
			send_str(s, s->stop_reply);
		}
	}
	s->resumed = false;
	s->stepping = false;
	for (;;) {
		enum gdb_input in = next_input(s, &eof);
		if (eof)
			return GDB_ACT_GONE;
		if (in == GDB_IN_BAD && !s->no_ack)
			write_all(s->fd, "-", 1);
		if (in == GDB_IN_NAK && s->last_len)
			write_all(s->fd, s->last, s->last_len);
		if (in != GDB_IN_PACKET)
			continue;   /* Ctrl-C while stopped: already stopped */
		if (!s->no_ack)
			write_all(s->fd, "+", 1);
		if (s->parser.len == 0) {
			send_str(s, "");
			continue;
		}
		enum cmd_result r = dispatch(s, s->parser.body, s->parser.len);
		if (r != CMD_STAY)
			return action_of(r);
	}
}

void gdbstub_debug_state(const struct gdbstub *s, unsigned cpu, struct gdb_debug_state *d)
{
	*d = (struct gdb_debug_state){
		.single_step = s->stepping && cpu == s->step_cpu,
		.sw_breakpoints = gdb_sw_any(&s->bp),
	};
	gdb_hw_debugregs(&s->bp, d->dr, &d->dr7);
	d->hw_breakpoints = d->dr7 != 0;
	d->enable = d->single_step || d->sw_breakpoints || d->hw_breakpoints;
}

bool gdbstub_interrupted(struct gdbstub *s)
{
	ssize_t n = read(s->fd, s->in, sizeof(s->in));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (n <= 0)
		return true;   /* gdb went away: stop, and the next serve sees the end */
	s->in_pos = 0;
	s->in_len = (size_t)n;
	while (s->in_pos < s->in_len)   /* gdb sends nothing but Ctrl-C while the guest runs */
		if (gdb_parser_feed(&s->parser, s->in[s->in_pos++]) == GDB_IN_INTERRUPT)
			return true;
	return false;
}

void gdbstub_exited(struct gdbstub *s, int status)
{
	gdbstub_release(s);
	if (s->resumed)
		send_fmt(s, "W%02x", status & 0xff);
	s->resumed = false;
}

void gdbstub_release(struct gdbstub *s)
{
	gdb_sw_remove_all(&s->bp, s->target.gm);
}
