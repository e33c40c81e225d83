/* SPDX-License-Identifier: BSD-2-Clause */
/* The guest image vmm boots when no GUEST.ELF is given: the build tree's, else the installed one. */
#ifndef VMM_DEFAULT_GUEST_H
#define VMM_DEFAULT_GUEST_H

#include <stdbool.h>
#include <stddef.h>

/* Where `meson install` puts guest.elf (datadir/hatvm), baked in by vmm/meson.build. */
#ifndef HATVM_INSTALLED_GUEST
#define HATVM_INSTALLED_GUEST "/usr/local/share/hatvm/guest.elf"
#endif

/*
 * Picks the default guest for the vmm executable at EXE: EXE's folder
 * /../guest/guest.elf when it exists (vmm run from its build tree), else
 * EXE's folder /../share/hatvm/guest.elf (an install, staged or moved),
 * else INSTALLED when it exists. Returns true with the canonical path in
 * path[size]; false when neither is readable. Any thread.
 */
bool default_guest_find(const char *exe, const char *installed, char *path, size_t size);

/* default_guest_find for the running executable (/proc/self/exe) and HATVM_INSTALLED_GUEST. */
bool default_guest(char *path, size_t size);

#endif
