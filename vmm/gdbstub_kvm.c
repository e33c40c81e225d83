/* SPDX-License-Identifier: BSD-2-Clause */
/* The gdb stub on KVM: the 127.0.0.1 listener, vCPU registers and KVM_SET_GUEST_DEBUG, Ctrl-C while running. */
#define _GNU_SOURCE   /* accept4, pipe2 */
#include "gdbstub_kvm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/kvm.h>

struct gdb_kvm {
	int listen_fd, conn_fd;
	unsigned port;
	const char *image;
	const struct guest_mem *gm;
	unsigned ncpus;
	const int *fds;              /* valid while serving */
	struct gdbstub stub;
	gdb_interrupt_fn interrupt;
	void *ctx;

	/* the Ctrl-C watcher: polls the connection while the guest runs */
	pthread_t watcher;
	int wake[2];                 /* a byte here: stop polling now */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool watching, polling, quit;
};

/* --gdb waits for gdb before the first instruction; --gdb-on-violation only at a violation. */
static bool wait_at_start = true;

void gdb_kvm_wait_at_start(bool wait)
{
	wait_at_start = wait;
}

static int kvm_get_regs(void *ctx, unsigned cpu, struct gdb_regs *r)
{
	struct gdb_kvm *g = ctx;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	int fd = g->fds[cpu];

	if (ioctl(fd, KVM_GET_REGS, &regs) < 0 || ioctl(fd, KVM_GET_SREGS, &sregs) < 0 ||
	    ioctl(fd, KVM_GET_FPU, &fpu) < 0)
		return -errno;
	const uint64_t gpr[16] = { regs.rax, regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi,
		regs.rbp, regs.rsp, regs.r8, regs.r9, regs.r10, regs.r11, regs.r12, regs.r13,
		regs.r14, regs.r15 };
	memcpy(r->gpr, gpr, sizeof(gpr));
	r->rip = regs.rip;
	r->rflags = regs.rflags;
	const uint16_t seg[6] = { sregs.cs.selector, sregs.ss.selector, sregs.ds.selector,
		sregs.es.selector, sregs.fs.selector, sregs.gs.selector };
	memcpy(r->seg, seg, sizeof(seg));
	for (unsigned i = 0; i < 8; i++)
		memcpy(r->st[i], fpu.fpr[i], 10);
	r->fctrl = fpu.fcw;
	r->fstat = fpu.fsw;
	r->ftag = fpu.ftwx;
	r->fop = fpu.last_opcode;
	r->fioff = (uint32_t)fpu.last_ip;
	r->fooff = (uint32_t)fpu.last_dp;
	memcpy(r->xmm, fpu.xmm, sizeof(r->xmm));
	r->mxcsr = fpu.mxcsr;
	r->fs_base = sregs.fs.base;
	r->gs_base = sregs.gs.base;
	r->cr0 = sregs.cr0, r->cr2 = sregs.cr2, r->cr3 = sregs.cr3, r->cr4 = sregs.cr4;
	r->cr8 = sregs.cr8, r->efer = sregs.efer;
	return 0;
}

/* Writes back the general registers, RIP and RFLAGS; control and segment state stay KVM's. */
static int kvm_set_regs(void *ctx, unsigned cpu, const struct gdb_regs *r)
{
	struct gdb_kvm *g = ctx;
	struct kvm_regs regs = {
		.rax = r->gpr[0], .rbx = r->gpr[1], .rcx = r->gpr[2], .rdx = r->gpr[3],
		.rsi = r->gpr[4], .rdi = r->gpr[5], .rbp = r->gpr[6], .rsp = r->gpr[7],
		.r8 = r->gpr[8], .r9 = r->gpr[9], .r10 = r->gpr[10], .r11 = r->gpr[11],
		.r12 = r->gpr[12], .r13 = r->gpr[13], .r14 = r->gpr[14], .r15 = r->gpr[15],
		.rip = r->rip, .rflags = r->rflags | 0x2,   /* bit 1 is always set */
	};

	return ioctl(g->fds[cpu], KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

/* KVM_SET_GUEST_DEBUG on every vCPU; breakpoints must trap on all of them. */
static void apply_debug(struct gdb_kvm *g)
{
	for (unsigned i = 0; i < g->ncpus; i++) {
		struct gdb_debug_state d;
		struct kvm_guest_debug dbg = { 0 };

		gdbstub_debug_state(&g->stub, i, &d);
		if (d.enable)
			dbg.control = KVM_GUESTDBG_ENABLE |
				      (d.single_step ? KVM_GUESTDBG_SINGLESTEP : 0) |
				      (d.sw_breakpoints ? KVM_GUESTDBG_USE_SW_BP : 0) |
				      (d.hw_breakpoints ? KVM_GUESTDBG_USE_HW_BP : 0);
		for (unsigned r = 0; r < 4; r++)
			dbg.arch.debugreg[r] = d.dr[r];
		dbg.arch.debugreg[7] = d.dr7;
		if (ioctl(g->fds[i], KVM_SET_GUEST_DEBUG, &dbg) < 0)
			fprintf(stderr, "vmm: gdb: KVM_SET_GUEST_DEBUG on vCPU %u: %s\n", i,
				strerror(errno));
	}
}

static void *watch_thread(void *arg)
{
	struct gdb_kvm *g = arg;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		while (!g->quit && !g->watching)
			pthread_cond_wait(&g->cond, &g->lock);
		if (g->quit)
			break;
		g->polling = true;
		pthread_mutex_unlock(&g->lock);
		struct pollfd p[2] = { { .fd = g->conn_fd, .events = POLLIN }, { .fd = g->wake[0], .events = POLLIN } };
		bool stop = false;
		if (poll(p, 2, -1) > 0 && !(p[1].revents & POLLIN) && p[0].revents)
			stop = gdbstub_interrupted(&g->stub);
		pthread_mutex_lock(&g->lock);
		g->polling = false;
		if (stop)
			g->watching = false;
		pthread_cond_broadcast(&g->cond);
		if (stop) {
			pthread_mutex_unlock(&g->lock);
			g->interrupt(g->ctx);
			pthread_mutex_lock(&g->lock);
		}
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* Makes the watcher leave the connection alone (it is about to be served). */
static void watch_pause(struct gdb_kvm *g)
{
	char byte;

	pthread_mutex_lock(&g->lock);
	g->watching = false;
	if (g->polling)
		(void)!write(g->wake[1], "x", 1);
	while (g->polling)
		pthread_cond_wait(&g->cond, &g->lock);
	while (read(g->wake[0], &byte, 1) == 1)   /* non-blocking: drain */
		;
	pthread_mutex_unlock(&g->lock);
}

static void watch_resume(struct gdb_kvm *g)
{
	pthread_mutex_lock(&g->lock);
	g->watching = g->conn_fd >= 0;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

struct gdb_kvm *gdb_kvm_open(unsigned port, const char *image, const struct guest_mem *gm,
			     unsigned ncpus, gdb_interrupt_fn interrupt, void *ctx)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_port = htons(port == GDB_KVM_ANY_PORT ? 0 : (uint16_t)port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t addr_len = sizeof(addr);
	struct gdb_kvm *g = calloc(1, sizeof(*g));
	int one = 1;

	if (!g)
		return NULL;
	*g = (struct gdb_kvm){ .conn_fd = -1, .port = port, .image = image, .gm = gm,
			       .ncpus = ncpus, .interrupt = interrupt, .ctx = ctx };
	g->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g->listen_fd < 0 ||
	    setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(g->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(g->listen_fd, 1) < 0 ||
	    getsockname(g->listen_fd, (struct sockaddr *)&addr, &addr_len) < 0 ||
	    pipe2(g->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		if (port == GDB_KVM_ANY_PORT)
			fprintf(stderr, "vmm: gdb: cannot listen on 127.0.0.1: %s\n", strerror(errno));
		else
			fprintf(stderr, "vmm: gdb: cannot listen on 127.0.0.1:%u: %s\n", port, strerror(errno));
		if (g->listen_fd >= 0)
			close(g->listen_fd);
		free(g);
		return NULL;
	}
	g->port = ntohs(addr.sin_port);   /* the one the kernel chose for GDB_KVM_ANY_PORT */
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	if (pthread_create(&g->watcher, NULL, watch_thread, g) != 0) {
		fprintf(stderr, "vmm: --gdb: cannot start the Ctrl-C watcher\n");
		close(g->listen_fd);
		free(g);
		return NULL;
	}
	return g;
}

/* Waits for gdb to connect; false when a signal interrupted the wait. */
static bool wait_for_gdb(struct gdb_kvm *g)
{
	struct gdb_target t = { .gm = g->gm, .ncpus = g->ncpus, .get_regs = kvm_get_regs,
				.set_regs = kvm_set_regs, .ctx = g };
	char image[PATH_MAX];
	int one = 1, fd;

	/* an absolute path, so the command works from any directory */
	if (!realpath(g->image, image))
		snprintf(image, sizeof(image), "%s", g->image);
	fprintf(stderr, "vmm: waiting for gdb on 127.0.0.1:%u; attach with:\n"
		"  gdb -ex 'target remote 127.0.0.1:%u' %s\n", g->port, g->port, image);
	do
		fd = accept4(g->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == ECONNABORTED);
	if (fd < 0)
		return false;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	g->conn_fd = fd;
	gdbstub_init(&g->stub, fd, &t);
	fprintf(stderr, "vmm: gdb attached\n");
	return true;
}

/* gdb left (detach, or the connection ended): no breakpoint may outlive it. */
static void forget_gdb(struct gdb_kvm *g)
{
	gdbstub_release(&g->stub);
	memset(&g->stub.bp, 0, sizeof(g->stub.bp));
	g->stub.stepping = false;
	apply_debug(g);
	close(g->conn_fd);
	g->conn_fd = -1;
	fprintf(stderr, "vmm: gdb detached; the guest runs on\n");
}

enum gdb_action gdb_kvm_stop(struct gdb_kvm *g, const int fds[], const struct gdb_stop *stop,
			     bool *interrupted)
{
	struct gdb_stop attach = *stop;

	*interrupted = false;
	watch_pause(g);
	g->fds = fds;
	if (g->conn_fd < 0 && !wait_at_start && stop->kind != GDB_STOP_VIOLATION)
		return GDB_ACT_CONTINUE;   /* nothing to resume: no debug state was ever set */
	if (g->conn_fd < 0) {
		if (!wait_for_gdb(g)) {
			*interrupted = true;
			return GDB_ACT_GONE;
		}
		if (stop->kind != GDB_STOP_VIOLATION)
			attach.kind = GDB_STOP_ATTACH;
	}
	enum gdb_action action = gdbstub_serve(&g->stub, &attach);
	if (action == GDB_ACT_DETACH || action == GDB_ACT_GONE)
		forget_gdb(g);
	else
		apply_debug(g);
	if (action == GDB_ACT_CONTINUE || action == GDB_ACT_STEP)
		watch_resume(g);
	return action;
}

bool gdb_kvm_sw_break_at(const struct gdb_kvm *g, uint64_t va)
{
	return gdb_sw_at(&g->stub.bp, va);
}

unsigned gdb_kvm_step_cpu(const struct gdb_kvm *g)
{
	return g->stub.step_cpu;
}

void gdb_kvm_close(struct gdb_kvm *g, int status)
{
	if (!g)
		return;
	watch_pause(g);
	pthread_mutex_lock(&g->lock);
	g->quit = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->watcher, NULL);
	if (g->conn_fd >= 0) {
		gdbstub_exited(&g->stub, status);
		close(g->conn_fd);
	}
	close(g->listen_fd);
	close(g->wake[0]);
	close(g->wake[1]);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->cond);
	free(g);
}
