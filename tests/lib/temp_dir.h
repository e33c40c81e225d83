/* SPDX-License-Identifier: BSD-2-Clause */
/* A test's own temporary folder: created once, files named inside it, removed with everything in it at the end. */
#ifndef TESTS_LIB_TEMP_DIR_H
#define TESTS_LIB_TEMP_DIR_H

/*
 * Creates $TMPDIR (else /tmp)/PREFIX-XXXXXX and returns its path; on
 * failure prints why and exits 99 (meson's "hard error": no test ran).
 */
const char *temp_dir_make(const char *prefix);

/* The folder temp_dir_make() created (NULL before). */
const char *temp_dir(void);

/* DIR/NAME in one of four rotating buffers: one call may use several. */
const char *temp_path(const char *name);

/* Removes the folder and everything in it; says on stderr when it cannot. */
void temp_dir_remove(void);

#endif
