/* SPDX-License-Identifier: BSD-2-Clause */
/* libFuzzer harness: the gdb stub served an arbitrary byte stream from "gdb", on a fake two-vCPU guest. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdbstub.h"
#include "hatvm/x86.h"

/*
 * The fake guest: 256 KiB of RAM, tables at 0x1000 (PML4) .. 0x5000
 * mapping VA 0x400000.. (16 pages) to GPA 0x10000.., and a 2 MiB leaf at
 * VA 0x40000000 that runs past the end of RAM.
 */
#define FUZZ_RAM   (256u << 10)
#define CR3        0x1000u
#define CODE_VA    0x400000u
#define CODE_GPA   0x10000u
#define MAX_INPUT  (64u << 10)   /* below the socket's buffer: written at once */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake_vcpus {
	struct gdb_regs regs[2];
};

static int fake_get(void *ctx, unsigned cpu, struct gdb_regs *regs)
{
	struct fake_vcpus *f = ctx;

	if (cpu >= 2)
		abort();   /* the stub must never name a vCPU it was not given */
	*regs = f->regs[cpu];
	return 0;
}

static int fake_set(void *ctx, unsigned cpu, const struct gdb_regs *regs)
{
	struct fake_vcpus *f = ctx;

	if (cpu >= 2)
		abort();
	f->regs[cpu] = *regs;
	return 0;
}

static void put64(struct guest_mem *gm, uint64_t gpa, uint64_t value)
{
	if (!guest_mem_write(gm, gpa, &value, 8))
		abort();
}

/* Fresh RAM and registers: the previous input may have written both. */
static void reset_guest(struct guest_mem *gm, struct fake_vcpus *f)
{
	memset(gm->base, 0x90, FUZZ_RAM);
	memset(gm->base, 0, CODE_GPA);
	put64(gm, CR3, 0x2000 | PTE_P | PTE_W);
	put64(gm, 0x2000, 0x3000 | PTE_P | PTE_W);
	put64(gm, 0x3000 + 2 * 8, 0x4000 | PTE_P | PTE_W);            /* VA 0x400000 */
	put64(gm, 0x2000 + 8, 0x5000 | PTE_P | PTE_W);                 /* VA 0x40000000 */
	put64(gm, 0x5000, PTE_P | PTE_W | PTE_PS);                      /* a 2 MiB leaf at GPA 0 */
	for (unsigned i = 0; i < 16; i++)
		put64(gm, 0x4000 + 8 * i, (CODE_GPA + 0x1000ull * i) | PTE_P | PTE_W);
	for (unsigned cpu = 0; cpu < 2; cpu++)
		f->regs[cpu] = (struct gdb_regs){ .rip = CODE_VA + cpu, .rflags = 0x2, .cr3 = CR3,
			.cr0 = 0x80010031, .efer = EFER_LME | EFER_LMA | EFER_NXE,
			.seg = { 0x8, 0x10, 0x10, 0x10, 0x10, 0x10 } };
}

/* Reads and drops what the stub replied, so its writes never block. */
static void drain(int fd)
{
	char buf[8192];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* The stop the stub reports after the Nth resume: every kind in turn, dr6 from the input. */
static struct gdb_stop next_stop(unsigned n, const uint8_t *data, size_t size)
{
	static const int kinds[] = { GDB_STOP_DEBUG, GDB_STOP_SW_BREAK, GDB_STOP_INTERRUPT,
				     GDB_STOP_VIOLATION, GDB_STOP_ATTACH };
	struct gdb_stop stop = { .kind = kinds[n % 5], .cpu = n % 2, .message = "violation" };

	if (size)
		stop.dr6 = 0xffff0ff0u | (data[n % size] & 0xfu) | ((data[n % size] & 0x10u) << 10);
	return stop;
}

/* Serves until gdb's bytes run out; every resume is followed by a poll for Ctrl-C. */
static void serve_stream(struct gdbstub *stub, int client, const uint8_t *data, size_t size)
{
	struct gdb_debug_state d;
	struct gdb_stop stop = { .kind = GDB_STOP_ATTACH };
	const struct gdb_stop *next = &stop;

	for (unsigned n = 0; n < 100000; n++) {
		enum gdb_action action = gdbstub_serve(stub, next);
		drain(client);
		if (action == GDB_ACT_GONE || action == GDB_ACT_KILL)
			break;
		for (unsigned cpu = 0; cpu < 2; cpu++)
			gdbstub_debug_state(stub, cpu, &d);
		if (action == GDB_ACT_DETACH) {
			next = NULL;
			continue;
		}
		gdbstub_interrupted(stub);
		stop = next_stop(n, data, size);
		next = &stop;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	static struct fake_vcpus vcpus;
	static struct gdbstub stub;
	int sv[2];

	if (!gm.base && guest_mem_map(&gm, FUZZ_RAM) != 0)
		abort();
	if (size > MAX_INPUT)
		return 0;
	reset_guest(&gm, &vcpus);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	int buf = 4 * MAX_INPUT;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	/* the stub's replies are dropped when they outgrow the buffer: gdb is not reading */
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);   /* the stub reads the end of the stream after the input */
	struct gdb_target t = { .gm = &gm, .ncpus = 2, .get_regs = fake_get, .set_regs = fake_set,
				.ctx = &vcpus };
	gdbstub_init(&stub, sv[0], &t);
	serve_stream(&stub, sv[1], data, size);
	gdbstub_exited(&stub, 0);
	drain(sv[1]);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
