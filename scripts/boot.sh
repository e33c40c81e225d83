#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Sets up and builds hatvm, then boots the default guest workload with host checks.
# Extra arguments go to vmm before the image, e.g. scripts/boot.sh --cpus 2
# Without /dev/kvm the guest boots in scripts/nested-kvm.sh's VM (real kvm-amd, emulated).
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/setup.sh build
kvm=()
if [ ! -e /dev/kvm ]; then
	echo "boot: /dev/kvm is absent; booting in a nested-KVM VM (scripts/nested-kvm.sh)" >&2
	kvm=(scripts/nested-kvm.sh --)
fi
exec "${kvm[@]}" build/vmm/vmm "$@" build/guest/guest.elf
