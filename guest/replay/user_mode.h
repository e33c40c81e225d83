/* SPDX-License-Identifier: BSD-2-Clause */
/* Ring 3 for the replay: one user access at a time, run by the CPU in a process's address space. Guest only. */
#ifndef GUEST_REPLAY_USER_MODE_H
#define GUEST_REPLAY_USER_MODE_H

#include <stdbool.h>
#include <stdint.h>

struct hat;

/* The page at the top of every user half (above Linux's TASK_SIZE) that holds the ring-3 code. */
#define USER_STUB_VA 0x00007ffffffff000ull

/* Outcomes of user_access(). */
enum user_result {
	USER_DONE = 1,       /* the access completed */
	USER_REFUSED,        /* the #PF handler could not resolve a fault (user_finish's code) */
	USER_STRAY,          /* a fault nobody expected: another address, or in the kernel */
};

/*
 * Sets ring 3 up on this CPU (the boot CPU): user code and data
 * segments, the stack the CPU switches to on a trap from ring 3, and the
 * stub page; installs handler as the #PF handler. false when no page
 * was left for the stub.
 */
bool user_mode_init(bool (*handler)(uint64_t cr2, uint64_t error_code));

/*
 * Runs ring-3 code in h (loaded on this CPU first) that reads, writes
 * (one byte; its value is of no interest) or jumps to va (acc:
 * REPLAY_ACC_*). Faults on the way reach the #PF handler, which resolves
 * them or calls user_finish(). Returns how it ended.
 */
enum user_result user_access(struct hat *h, uint64_t va, unsigned acc);

/*
 * For the #PF handler, while user_access() runs. user_fault_kind() says
 * what a fault is: the access's end (the doorbell), a fault on the stub
 * page (a stolen mapping: user_map_stub() it again) or anything else.
 */
enum user_fault { UF_DOORBELL, UF_STUB, UF_OTHER };
enum user_fault user_fault_kind(uint64_t cr2, uint64_t error_code);
bool user_map_stub(struct hat *h);

/* Leaves ring 3 for good and returns `result` from user_access(). Only from the #PF handler. */
void user_finish(enum user_result result) __attribute__((noreturn));

/* True while user_access() runs (a fault may be the replay's). */
bool user_active(void);

#endif
