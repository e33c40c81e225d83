/* SPDX-License-Identifier: BSD-2-Clause */
/* VM and vCPU set-up on the KVM API, the per-vCPU run loop, exits, pausing and the watchdog. */
#include "kvm_run.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "boot_x86_64.h"
#include "checker.h"
#include "gdbstub_kvm.h"
#include "hatvm/exit_status.h"
#include "hatvm/layout.h"
#include "hypercall.h"
#include "insn_decode.h"
#include "regs_dump.h"
#include "run_signals.h"

#define KVM_TSS_GPA   0xfffbd000ull   /* 3 pages in the 32-bit hole, never RAM */
#define CPUID_ENTRIES 256
#define KICK_SIGNAL   SIGUSR1

#define MSR_MTRR_DEF_TYPE  0x2ff
#define MTRR_ENABLE        (1u << 11)
#define MTRR_FIXED_ENABLE  (1u << 10)
#define MTRR_TYPE_WB       6u

struct vcpu {
	struct vm *vm;
	unsigned index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
};

struct vm {
	const struct vmm_options *opt;
	const struct guest_mem *gm;
	const struct vm_hooks *hooks;
	uint64_t entry;
	int kvm_fd, fd;
	size_t run_size;
	struct kvm_cpuid2 *cpuid;
	unsigned ncpus;
	bool irqchip;                  /* in-kernel LAPICs: several vCPUs, IPIs */
	struct vcpu vcpus[BOOT_MAX_CPUS];

	pthread_barrier_t start;
	pthread_mutex_t output_lock;   /* console and diagnostics, whole lines */
	pthread_mutex_t lock;          /* everything below */
	pthread_cond_t cond;
	bool stopping;
	enum run_outcome outcome;      /* valid once stopping */
	unsigned finished;             /* vCPU threads that have returned */
	unsigned parked;               /* vCPUs waiting out someone's checkpoint */
	int pause_owner;               /* vCPU running a checkpoint, or -1 */
	struct vcpu_state final[BOOT_MAX_CPUS];   /* each vCPU's registers as it left */

	struct gdb_kvm *gdb;           /* --gdb, or NULL */
	int vcpu_fds[BOOT_MAX_CPUS];   /* for the gdb stub, which serves with every vCPU paused */
	int gdb_interrupt;             /* Ctrl-C from gdb: the next vCPU out of KVM_RUN stops for it */
	int gdb_solo;                  /* a gdb step: only this vCPU may run, or -1 */
	bool done[BOOT_MAX_CPUS];      /* the vCPU's thread has finished */
};

static void kick_handler(int sig)
{
	(void)sig;   /* only here to make KVM_RUN return EINTR */
}

static int kvm_fail(const char *what)
{
	fprintf(stderr, "vmm: %s: %s\n", what, strerror(errno));
	return -1;
}

static int ioctl_retry(int fd, unsigned long req, void *arg)
{
	int rc;

	do
		rc = ioctl(fd, req, arg);
	while (rc < 0 && (errno == EINTR || errno == EAGAIN));
	return rc;
}

/* Opens /dev/kvm and checks the API version and the capabilities we rely on. */
static int kvm_open(struct vm *vm)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0 && (errno == EACCES || errno == EPERM)) {
		fprintf(stderr, "vmm: /dev/kvm: %s: this user may not use KVM; add it to the group "
			"that owns /dev/kvm (usually kvm: sudo usermod -aG kvm $USER, then log in "
			"again), or give it access with a udev rule (README: Running hatvm in your CI)\n",
			strerror(errno));
		return -1;
	}
	if (vm->kvm_fd < 0)
		return kvm_fail("/dev/kvm (is KVM available? load kvm_intel or kvm_amd)");
	int version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		fprintf(stderr, "vmm: KVM API version %d, need %d\n", version, KVM_API_VERSION);
		return -1;
	}
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0) {
		fprintf(stderr, "vmm: KVM lacks KVM_CAP_USER_MEMORY\n");
		return -1;
	}
	int size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return kvm_fail("KVM_GET_VCPU_MMAP_SIZE");
	vm->run_size = (size_t)size;
	return 0;
}

static int cpuid_fetch(struct vm *vm)
{
	vm->cpuid = calloc(1, sizeof(*vm->cpuid) + CPUID_ENTRIES * sizeof(vm->cpuid->entries[0]));
	if (!vm->cpuid)
		return kvm_fail("cpuid buffer");
	vm->cpuid->nent = CPUID_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) < 0)
		return kvm_fail("KVM_GET_SUPPORTED_CPUID");
	return 0;
}

/*
 * Several vCPUs get in-kernel LAPICs (before any vCPU exists), so the
 * guest can send IPIs. One vCPU keeps the plain model, where HLT exits
 * to the host: a foreign image that halts is then finished.
 */
static int vm_create_irqchip(struct vm *vm)
{
	if (vm->ncpus < 2)
		return 0;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0) {
		fprintf(stderr, "vmm: KVM lacks KVM_CAP_IRQCHIP, needed for more than one vCPU\n");
		return -1;
	}
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return kvm_fail("KVM_CREATE_IRQCHIP");
	vm->irqchip = true;
	return 0;
}

static int vm_create(struct vm *vm)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = vm->gm->size,
		.userspace_addr = (uintptr_t)vm->gm->base,
	};

	if (kvm_open(vm) || cpuid_fetch(vm))
		return -1;
	vm->fd = ioctl_retry(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return kvm_fail("KVM_CREATE_VM");
	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0)
		return kvm_fail("KVM_SET_TSS_ADDR");
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return kvm_fail("KVM_SET_USER_MEMORY_REGION");
	return vm_create_irqchip(vm);
}

static int vcpu_create(struct vm *vm, unsigned index)
{
	struct vcpu *v = &vm->vcpus[index];

	v->vm = vm;
	v->index = index;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0)
		return kvm_fail("KVM_CREATE_VCPU");
	vm->vcpu_fds[index] = v->fd;
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return kvm_fail("mmap of kvm_run");
	}
	return 0;
}

/*
 * Makes every vCPU but `self` leave KVM_RUN soon; caller holds vm->lock.
 * A checkpoint's owner is skipped: it is not in KVM_RUN and re-reads
 * `stopping` before it enters again, and a kick would only interrupt the
 * check's output.
 */
static void kick_others(struct vm *vm, int self)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if ((int)i == self || (int)i == vm->pause_owner)
			continue;
		/* immediate_exit covers a vCPU that is about to enter KVM_RUN */
		__atomic_store_n(&vm->vcpus[i].run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(vm->vcpus[i].thread, KICK_SIGNAL);
	}
}

/* Ends the run with `outcome` unless an earlier stop already decided it. */
static void vm_stop(struct vm *vm, int self, enum run_outcome outcome)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->stopping) {
		vm->stopping = true;
		vm->outcome = outcome;
		kick_others(vm, self);
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

static void vcpu_fail(struct vcpu *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reports why this vCPU failed, dumps its registers and stops the VM as crashed. */
static void vcpu_fail(struct vcpu *v, const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&v->vm->output_lock);
	fprintf(stderr, "vmm: vCPU %u: %s\n", v->index, reason);
	regs_dump(v->fd, v->index, reason, stderr);
	pthread_mutex_unlock(&v->vm->output_lock);
	vm_stop(v->vm, (int)v->index, RUN_CRASHED);
}

/*
 * MTRRs reset to "disabled, default uncached": all of RAM would be UC.
 * Firmware would enable them with write-back as the default type.
 */
static int vcpu_enable_mtrrs(struct vcpu *v)
{
	struct {
		struct kvm_msrs header;
		struct kvm_msr_entry entry;
	} msrs = {
		.header.nmsrs = 1,
		.entry = { .index = MSR_MTRR_DEF_TYPE, .data = MTRR_ENABLE | MTRR_FIXED_ENABLE | MTRR_TYPE_WB },
	};

	if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 1)
		return kvm_fail("KVM_SET_MSRS (MTRR default type)");
	return 0;
}

/* The VM's CPUID with this vCPU's APIC ID in leaf 1 EBX[31:24] and leaves 0xB/0x1F EDX. */
static int vcpu_set_cpuid(struct vcpu *v)
{
	const struct kvm_cpuid2 *all = v->vm->cpuid;
	size_t size = sizeof(*all) + all->nent * sizeof(all->entries[0]);
	struct kvm_cpuid2 *mine = malloc(size);
	int rc;

	if (!mine)
		return kvm_fail("cpuid buffer");
	memcpy(mine, all, size);
	for (unsigned i = 0; i < mine->nent; i++) {
		struct kvm_cpuid_entry2 *e = &mine->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | (v->index << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = v->index;
	}
	rc = ioctl(v->fd, KVM_SET_CPUID2, mine);
	free(mine);
	return rc < 0 ? kvm_fail("KVM_SET_CPUID2") : 0;
}

/* With an in-kernel irqchip every vCPU but the first starts UNINITIALIZED (waiting for INIT/SIPI). */
static int vcpu_make_runnable(struct vcpu *v)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	if (!v->vm->irqchip || v->index == 0)
		return 0;
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		return kvm_fail("KVM_SET_MP_STATE (runnable)");
	return 0;
}

/* Loads CPUID, MTRRs, long-mode registers and (vCPU 0) the TSC rate; runs on the vCPU's thread. */
static int vcpu_setup(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (vcpu_set_cpuid(v) || vcpu_make_runnable(v))
		return -1;
	if (vcpu_enable_mtrrs(v))
		return -1;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return kvm_fail("KVM_GET_SREGS");
	boot_sregs(&sregs);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return kvm_fail("KVM_SET_SREGS");
	boot_regs(&regs, vm->entry, v->index);
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return kvm_fail("KVM_SET_REGS");
	if (v->index == 0) {
		int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
		boot_set_tsc_khz(vm->gm, khz > 0 ? (uint64_t)khz : 0);
	}
	return 0;
}

/* Whether another vCPU owns the pause (a checkpoint, gdb) or alone runs a gdb step. */
static bool must_wait(const struct vm *vm, const struct vcpu *v)
{
	return (vm->pause_owner >= 0 && vm->pause_owner != (int)v->index) ||
	       (vm->gdb_solo >= 0 && vm->gdb_solo != (int)v->index);
}

/*
 * Waits, counted as parked, while must_wait() or until the VM stops.
 * Caller holds vm->lock; the owner of a checkpoint waits for parked +
 * finished to reach every other vCPU before it checks.
 */
static void park_locked(struct vm *vm, struct vcpu *v)
{
	while (!vm->stopping && must_wait(vm, v)) {
		vm->parked++;
		pthread_cond_broadcast(&vm->cond);
		pthread_cond_wait(&vm->cond, &vm->lock);
		vm->parked--;
	}
}

/* Waits out another vCPU's checkpoint. Returns true when this vCPU should leave its loop. */
static bool vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool stop;

	pthread_mutex_lock(&vm->lock);
	park_locked(vm, v);
	stop = vm->stopping;
	pthread_mutex_unlock(&vm->lock);
	return stop;
}

/* Whether the hooks want the guest frozen after this checkpoint's check. */
static bool check_freezes(struct vm *vm, const struct vm_checkpoint *where)
{
	return vm->hooks && vm->hooks->freeze && vm->hooks->freeze(vm->hooks->ctx, where);
}

static void run_check(struct vm *vm, const struct vm_checkpoint *where)
{
	if (!vm->hooks || !vm->hooks->check) {
		if (!vm->opt->quiet && where->phase == VM_PHASE_CHECKPOINT)
			fprintf(stderr, "vmm: checkpoint '%s' (vCPU %d)\n", where->label, where->cpu);
		return;
	}
	vm->hooks->check(vm->hooks->ctx, where,
			 where->phase == VM_PHASE_EXIT ? vm->final : NULL, vm->ncpus);
}

/*
 * --gdb: hands the guest to gdb while this vCPU owns the pause (every
 * other vCPU parked or finished) until gdb resumes, detaches or kills it.
 * The stub reads and sets the parked vCPUs' state from this thread: KVM
 * allows that for every ioctl but KVM_RUN (at some cost, but here gdb
 * waits for a human).
 */
static enum run_outcome current_outcome(struct vm *vm);

/*
 * A step runs the stepping vCPU alone: the others stay parked until it
 * stops again, so nothing moves under gdb but the thread it steps (and a
 * breakpoint elsewhere cannot steal the step's stop). A vCPU that has
 * finished cannot step: then every vCPU runs (and the next stop reports).
 */
static void hold_for_step(struct vm *vm, enum gdb_action action)
{
	int cpu = action == GDB_ACT_STEP ? (int)gdb_kvm_step_cpu(vm->gdb) : -1;

	pthread_mutex_lock(&vm->lock);
	vm->gdb_solo = cpu >= 0 && !vm->done[cpu] ? cpu : -1;
	pthread_mutex_unlock(&vm->lock);
}

static void gdb_serve_paused(struct vcpu *v, const struct gdb_stop *stop)
{
	struct vm *vm = v->vm;
	enum gdb_action action;
	bool interrupted;

	do
		action = gdb_kvm_stop(vm->gdb, vm->vcpu_fds, stop, &interrupted);
	while (interrupted && current_outcome(vm) == RUN_CLEAN && !run_signals_first());
	hold_for_step(vm, action);
	if (action == GDB_ACT_KILL) {
		fprintf(stderr, "vmm: killed from gdb\n");
		vm_stop(vm, (int)v->index, RUN_INTERRUPTED);
	}
}

/* What pause_others() left this vCPU holding. */
enum pause_result {
	PAUSE_NONE,       /* the VM is stopping: nothing taken, nothing to release */
	PAUSE_STOPPING,   /* pause_owner taken, but the VM began to stop: release it, do nothing */
	PAUSE_HELD,       /* pause_owner taken, every other vCPU parked or finished */
};

/*
 * Takes pause_owner for owner (a vCPU's index, or ncpus for the main
 * thread) and waits until every vCPU but the owner is parked or
 * finished; false when the VM stops meanwhile. vm->lock held.
 */
static bool hold_guest_locked(struct vm *vm, unsigned owner)
{
	unsigned others = owner < vm->ncpus ? vm->ncpus - 1 : vm->ncpus;

	vm->pause_owner = (int)owner;
	kick_others(vm, owner < vm->ncpus ? (int)owner : -1);
	while (!vm->stopping && vm->parked + vm->finished < others)
		pthread_cond_wait(&vm->cond, &vm->lock);
	return !vm->stopping;
}

/* Releases pause_owner and wakes the parked vCPUs. vm->lock held. */
static void release_guest_locked(struct vm *vm)
{
	vm->pause_owner = -1;
	pthread_cond_broadcast(&vm->cond);
}

/*
 * A checkpoint and a gdb stop need the same still guest and must wait
 * out each other's pause: one protocol serves both, so they cannot
 * drift apart. Parking first lets another owner finish before this
 * vCPU takes pause_owner.
 */
static enum pause_result pause_others(struct vm *vm, struct vcpu *v)
{
	enum pause_result paused = PAUSE_NONE;

	pthread_mutex_lock(&vm->lock);
	park_locked(vm, v);   /* someone else's checkpoint first */
	if (!vm->stopping)
		paused = hold_guest_locked(vm, v->index) ? PAUSE_HELD : PAUSE_STOPPING;
	pthread_mutex_unlock(&vm->lock);
	return paused;
}

static void resume_others(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	release_guest_locked(vm);
	pthread_mutex_unlock(&vm->lock);
}

/* Pauses every other vCPU, as a checkpoint does, and hands the guest to gdb. */
static void vcpu_gdb_stop(struct vcpu *v, const struct gdb_stop *stop)
{
	struct vm *vm = v->vm;
	enum pause_result paused = pause_others(vm, v);

	if (paused == PAUSE_NONE)
		return;
	if (paused == PAUSE_HELD)
		gdb_serve_paused(v, stop);
	resume_others(vm);
}

/*
 * The gdb stub's Ctrl-C (its watcher thread): the next vCPU out of
 * KVM_RUN stops for gdb. A step that never ends (its vCPU halted,
 * waiting for an interrupt the parked ones would send) ends here too:
 * every vCPU may take the stop.
 */
static void gdb_interrupt(void *ctx)
{
	struct vm *vm = ctx;

	__atomic_store_n(&vm->gdb_interrupt, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&vm->lock);
	vm->gdb_solo = -1;
	kick_others(vm, -1);
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

/* --gdb with --stop-on-violation: the frozen guest is gdb's until it lets go. */
static void gdb_on_violation(struct vcpu *v, const char *label)
{
	char message[160];

	snprintf(message, sizeof(message), "vmm: violation at checkpoint '%.64s' (vCPU %u): the "
		 "guest is frozen there", label, v->index);
	gdb_serve_paused(v, &(struct gdb_stop){ .kind = GDB_STOP_VIOLATION, .cpu = v->index,
						.message = message });
}

/*
 * Pauses every other vCPU, runs the checker, resumes them. The check
 * runs without vm->lock, so the watchdog and the signal thread can stop
 * the VM (and ask the checker to stop) meanwhile. No other vCPU can run
 * guest code during it: while pause_owner names this vCPU, a parked one
 * leaves park_locked() only when the VM stops, and then leaves its run
 * loop without entering KVM_RUN again; nor can one start a check, since
 * pause_others() parks first and takes nothing when stopping. The exit
 * check waits for every vCPU thread, this one included, to finish. A
 * freeze stops the VM before pause_owner is released, so no vCPU runs
 * guest code after the check that asked for it.
 */
static void vcpu_checkpoint(struct vcpu *v, const char *label)
{
	struct vm *vm = v->vm;
	struct vm_checkpoint where = { .label = label, .phase = VM_PHASE_CHECKPOINT,
				       .cpu = (int)v->index, .vcpu_fd = v->fd };
	enum pause_result paused = pause_others(vm, v);
	bool freeze = false;

	if (paused == PAUSE_NONE)
		return;
	if (paused == PAUSE_HELD) {
		pthread_mutex_lock(&vm->output_lock);   /* the check's lines stay whole */
		run_check(vm, &where);
		freeze = check_freezes(vm, &where);
		pthread_mutex_unlock(&vm->output_lock);
	}
	if (freeze && vm->gdb)
		gdb_on_violation(v, label);
	if (freeze)   /* not a crash: the violation the check reported decides the status */
		vm_stop(vm, (int)v->index, RUN_CLEAN);
	resume_others(vm);
}

/*
 * True when this hypercall exit came from INS/OUTS, which KVM splits
 * into one exit per iteration, each looking like a single OUT. Costs
 * KVM_GET_REGS and KVM_GET_SREGS per hypercall exit: hypercalls are rare.
 * False when the registers cannot be read (the access is checked as usual).
 */
static bool exit_was_string_io(struct vcpu *v)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return false;
	return insn_exit_was_string_io(v->vm->gm, sregs.cr3, regs.rip);
}

static void handle_hypercall(struct vcpu *v, bool *done)
{
	struct vm *vm = v->vm;
	struct kvm_run *run = v->run;
	struct hc_call call = {
		.port = run->io.port, .out = run->io.direction == KVM_EXIT_IO_OUT,
		.size = run->io.size, .count = run->io.count,
	};
	struct hc_sink sink = { .console = stdout, .diag = stderr };
	struct hc_result res;

	if (call.port == HC_PORT_DONE && call.out) {
		*done = true;   /* this vCPU only; the VM runs on */
		return;
	}
	if (run->io.size <= sizeof(call.value) && run->io.data_offset <= vm->run_size - 4)
		memcpy(&call.value, (uint8_t *)run + run->io.data_offset, run->io.size);
	if (hypercall_name(call.port))
		call.string = exit_was_string_io(v);
	pthread_mutex_lock(&vm->output_lock);
	hypercall_handle(vm->gm, v->index, &call, &sink, &res);
	pthread_mutex_unlock(&vm->output_lock);
	if (res.verdict == HC_CHECKPOINT) {
		vcpu_checkpoint(v, res.label);
	} else if (res.verdict == HC_STOP) {
		if (res.dump_regs)
			vcpu_fail(v, "stopped by the %s hypercall (port 0x%x)",
				  hypercall_name(call.port) ? hypercall_name(call.port) : "unknown",
				  call.port);
		else
			vm_stop(vm, (int)v->index, res.outcome);
		*done = true;
	}
}

/*
 * Where KVM emulates the guest's ring-0 code (kvm_pvm), its emulator
 * gives up on a planted INT3 instead of raising #BP: an emulation error
 * exactly at one of gdb's software breakpoints is that breakpoint, and
 * stops for gdb as one. False for any other internal error.
 */
static bool gdb_break_unemulated(struct vcpu *v)
{
	struct kvm_regs regs;

	if (v->vm->gdb == NULL || v->run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION ||
	    ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || !gdb_kvm_sw_break_at(v->vm->gdb, regs.rip))
		return false;
	vcpu_gdb_stop(v, &(struct gdb_stop){ .kind = GDB_STOP_SW_BREAK, .cpu = v->index });
	return true;
}

/* Handles one exit from KVM_RUN; sets *done when this vCPU is finished. */
static void handle_exit(struct vcpu *v, bool *done)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_hypercall(v, done);
	case KVM_EXIT_HLT:
		*done = true;   /* only without an irqchip: no interrupt can ever wake it */
		return;
	case KVM_EXIT_INTR:
		return;
	case KVM_EXIT_DEBUG:   /* only with --gdb's KVM_SET_GUEST_DEBUG */
		if (v->vm->gdb) {
			struct gdb_stop stop = {
				.kind = run->debug.arch.exception == 3 ? GDB_STOP_SW_BREAK : GDB_STOP_DEBUG,
				.cpu = v->index, .dr6 = run->debug.arch.dr6,
			};
			vcpu_gdb_stop(v, &stop);
			return;
		}
		vcpu_fail(v, "unexpected debug exit (KVM_EXIT_DEBUG) without --gdb");
		break;
	case KVM_EXIT_MMIO:
		vcpu_fail(v, "guest %s %u bytes at GPA 0x%" PRIx64 ": a hole, no RAM there",
			  run->mmio.is_write ? "wrote" : "read", run->mmio.len,
			  (uint64_t)run->mmio.phys_addr);
		break;
	case KVM_EXIT_SHUTDOWN:
		vcpu_fail(v, "triple fault (KVM_EXIT_SHUTDOWN)");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		vcpu_fail(v, "VM entry failed (KVM_EXIT_FAIL_ENTRY), hardware reason 0x%" PRIx64,
			  (uint64_t)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		if (gdb_break_unemulated(v))
			return;
		vcpu_fail(v, "KVM internal error (KVM_EXIT_INTERNAL_ERROR), suberror %u",
			  run->internal.suberror);
		break;
	default:
		vcpu_fail(v, "unhandled exit reason %u", run->exit_reason);
		break;
	}
	*done = true;
}

static void vcpu_loop(struct vcpu *v)
{
	bool done = false;

	while (!done && !vcpu_park(v)) {
		if (v->vm->gdb && __atomic_exchange_n(&v->vm->gdb_interrupt, 0, __ATOMIC_SEQ_CST)) {
			vcpu_gdb_stop(v, &(struct gdb_stop){ .kind = GDB_STOP_INTERRUPT, .cpu = v->index });
			continue;
		}
		int rc = ioctl(v->fd, KVM_RUN, 0);
		/* clear before the next vcpu_park(), which re-reads the flags it guards */
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		if (rc < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (rc < 0) {
			vcpu_fail(v, "KVM_RUN failed: %s", strerror(errno));
			return;
		}
		handle_exit(v, &done);
	}
}

/*
 * --gdb: vCPU 0 owns the pause from the start (vm_run set it), so no
 * vCPU has run an instruction when gdb attaches.
 */
static void gdb_first_stop(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (current_outcome(vm) == RUN_CLEAN)
		gdb_serve_paused(v, &(struct gdb_stop){ .kind = GDB_STOP_ATTACH, .cpu = 0 });
	resume_others(vm);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	int setup = vcpu_setup(v);

	pthread_barrier_wait(&vm->start);
	if (setup)
		vm_stop(vm, (int)v->index, RUN_SETUP_FAILED);
	else if (v->index == 0 && vm->gdb)
		gdb_first_stop(v);
	if (!setup)
		vcpu_loop(v);
	pthread_mutex_lock(&vm->lock);
	bool timed_out = vm->stopping && vm->outcome == RUN_TIMEOUT;
	pthread_mutex_unlock(&vm->lock);
	struct vcpu_state *final = &vm->final[v->index];
	final->valid = ioctl(v->fd, KVM_GET_REGS, &final->regs) == 0 &&
		       ioctl(v->fd, KVM_GET_SREGS, &final->sregs) == 0;
	if (timed_out) {
		pthread_mutex_lock(&vm->output_lock);
		regs_dump(v->fd, v->index, "stopped by the watchdog", stderr);
		pthread_mutex_unlock(&vm->output_lock);
	}
	pthread_mutex_lock(&vm->lock);
	vm->finished++;
	vm->done[v->index] = true;
	if (vm->gdb_solo == (int)v->index) {   /* it ended mid-step: the others report to gdb */
		vm->gdb_solo = -1;
		__atomic_store_n(&vm->gdb_interrupt, 1, __ATOMIC_SEQ_CST);
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

static void install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);   /* no SA_RESTART: KVM_RUN must return */
}

/*
 * --check=async: this (the main) thread owns the pause, as a vCPU does
 * at a checkpoint; every vCPU parks wherever it is (a kick takes it out
 * of KVM_RUN, HLT included) and the instant check runs. A tick that
 * finds a checkpoint or gdb holding the guest passes. vm->lock held.
 */
static void async_check(struct vm *vm)
{
	struct vm_checkpoint where = { .label = "async", .phase = VM_PHASE_ASYNC, .cpu = -1,
				       .vcpu_fd = -1 };

	if (vm->pause_owner >= 0 || vm->gdb_solo >= 0 || vm->stopping || vm->gdb)
		return;
	/* no vCPU's index: every one of them waits */
	if (hold_guest_locked(vm, vm->ncpus) && vm->finished < vm->ncpus) {
		pthread_mutex_unlock(&vm->lock);
		pthread_mutex_lock(&vm->output_lock);
		run_check(vm, &where);
		pthread_mutex_unlock(&vm->output_lock);
		pthread_mutex_lock(&vm->lock);
	}
	release_guest_locked(vm);
}

static void timespec_add_ms(struct timespec *t, unsigned ms)
{
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	t->tv_sec += ms / 1000 + t->tv_nsec / 1000000000L;
	t->tv_nsec %= 1000000000L;
}

static bool timespec_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/*
 * Waits until every vCPU thread returned, or the watchdog fires; runs
 * --check=async's checks meanwhile, each async_ms after the last one
 * ended (a slow check delays the next, never piles them up).
 */
static void wait_for_vcpus(struct vm *vm)
{
	unsigned ms = vm->opt->async_ms;
	struct timespec deadline, next_async;
	bool watchdog = vm->opt->timeout_s != 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	next_async = deadline;
	deadline.tv_sec += vm->opt->timeout_s;
	timespec_add_ms(&next_async, ms);
	pthread_mutex_lock(&vm->lock);
	while (vm->finished < vm->ncpus) {
		bool async = ms != 0 && (!watchdog || timespec_before(&next_async, &deadline));

		if ((!watchdog && !async) || vm->stopping || vm->gdb) {   /* gdb: a human waits */
			pthread_cond_wait(&vm->cond, &vm->lock);
			continue;
		}
		if (pthread_cond_timedwait(&vm->cond, &vm->lock, async ? &next_async : &deadline) != ETIMEDOUT)
			continue;
		if (async) {
			async_check(vm);
			clock_gettime(CLOCK_REALTIME, &next_async);
			timespec_add_ms(&next_async, ms);
			continue;
		}
		if (!vm->stopping) {
			fprintf(stderr, "vmm: timeout: the guest ran for more than %u s\n",
				vm->opt->timeout_s);
			vm->stopping = true;
			vm->outcome = RUN_TIMEOUT;
			kick_others(vm, -1);
			pthread_cond_broadcast(&vm->cond);   /* parked vCPUs leave now */
			checker_request_stop();   /* a checkpoint's check may be what runs on */
		}
	}
	pthread_mutex_unlock(&vm->lock);
}

static void start_vcpus(struct vm *vm, unsigned *started)
{
	for (*started = 0; *started < vm->ncpus; (*started)++) {
		struct vcpu *v = &vm->vcpus[*started];
		if (pthread_create(&v->thread, NULL, vcpu_thread, v) != 0) {
			/* the threads already started wait at the barrier forever */
			fprintf(stderr, "vmm: cannot start vCPU %u thread\n", *started);
			_exit(exit_status_decide(RUN_SETUP_FAILED, NULL));
		}
	}
}

static void vm_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, vm->run_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
	}
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->cpuid);
	pthread_barrier_destroy(&vm->start);
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->output_lock);
	pthread_cond_destroy(&vm->cond);
}

/* How the run ended so far; the signal thread may still decide it. */
static enum run_outcome current_outcome(struct vm *vm)
{
	enum run_outcome outcome;

	pthread_mutex_lock(&vm->lock);
	outcome = vm->stopping ? vm->outcome : RUN_CLEAN;
	pthread_mutex_unlock(&vm->lock);
	return outcome;
}

/*
 * Runs the exit check (every vCPU thread has finished) and returns how
 * the run ended. After the watchdog the exit check still runs in full
 * (it is what finds a hung guest's corruption), as the check of a guest
 * stopped where it stood: what it finds may be an operation's half-done
 * state, so it is reported but not counted as a violation; after a signal it is
 * abandoned at once, and a signal during it turns a clean end into an
 * interrupted one (its check is incomplete).
 */
static enum run_outcome final_outcome(struct vm *vm)
{
	struct vm_checkpoint where = { .label = "exit", .phase = VM_PHASE_EXIT, .cpu = -1,
				       .vcpu_fd = -1 };
	enum run_outcome outcome = current_outcome(vm);

	if (outcome == RUN_TIMEOUT) {
		where.mid_run = true;
		checker_clear_stop();
		if (run_signals_first())   /* a signal that came meanwhile still counts */
			checker_request_stop();
	}
	run_check(vm, &where);
	outcome = current_outcome(vm);
	if (outcome == RUN_CLEAN && run_signals_first())
		outcome = RUN_INTERRUPTED;
	return outcome;
}

/* The signal thread's first signal: stop every vCPU and any check, like the watchdog. */
static void interrupt_run(void *ctx, int sig)
{
	struct vm *vm = ctx;

	checker_request_stop();
	vm_stop(vm, -1, RUN_INTERRUPTED);
	fprintf(stderr, "vmm: interrupted by %s; stopping the guest\n", run_signal_name(sig));
}

int vm_interrupt_signal(void)
{
	return run_signals_first();
}

enum run_outcome vm_run(const struct vmm_options *opt, const struct guest_mem *gm,
			const struct elf_image *img, const struct vm_hooks *hooks)
{
	static struct vm vm;   /* large (64 vCPUs); one VM per process */
	unsigned started = 0;
	enum run_outcome outcome = RUN_SETUP_FAILED;   /* until the vCPUs run */

	vm = (struct vm){ .opt = opt, .gm = gm, .hooks = hooks, .entry = img->entry,
			  .ncpus = opt->cpus, .pause_owner = -1, .gdb_solo = -1, .kvm_fd = -1, .fd = -1 };
	for (unsigned i = 0; i < BOOT_MAX_CPUS; i++)
		vm.vcpus[i].fd = -1;
	pthread_mutex_init(&vm.lock, NULL);
	pthread_mutex_init(&vm.output_lock, NULL);
	pthread_cond_init(&vm.cond, NULL);
	pthread_barrier_init(&vm.start, NULL, vm.ncpus);
	install_kick_handler();
	if (vm_create(&vm) == 0) {
		unsigned i;
		for (i = 0; i < vm.ncpus && vcpu_create(&vm, i) == 0; i++)
			;
		if (i == vm.ncpus && opt->gdb_port) {
			vm.gdb = gdb_kvm_open(opt->gdb_port, opt->image, gm, vm.ncpus, gdb_interrupt, &vm);
			vm.pause_owner = 0;   /* see gdb_first_stop() */
		}
		if (i == vm.ncpus && (vm.gdb || !opt->gdb_port) && run_signals_start() == 0) {
			start_vcpus(&vm, &started);
			run_signals_arm(interrupt_run, &vm);   /* kicks need the threads */
			wait_for_vcpus(&vm);
			outcome = final_outcome(&vm);
			run_signals_disarm();
		}
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(vm.vcpus[i].thread, NULL);
	gdb_kvm_close(vm.gdb, exit_status_decide(outcome, NULL));   /* the checker's findings may still raise it */
	vm_destroy(&vm);
	return outcome;
}
