/* SPDX-License-Identifier: BSD-2-Clause */
/* The smallest guest image vmm boots: one executable segment holding a HLT. */
#ifndef BENCH_HLT_IMAGE_H
#define BENCH_HLT_IMAGE_H

/* Writes the image to PATH; 0, or -1 with a message on stderr. */
int hlt_image_write(const char *path);

#endif
