#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Sets up and builds hatvm, then boots the default guest workload with host checks.
# Extra arguments go to vmm before the image, e.g. scripts/boot.sh --cpus 2
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/setup.sh build
exec build/vmm/vmm "$@" build/guest/guest.elf
