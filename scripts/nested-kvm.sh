#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs a command where /dev/kvm works, on a machine that has none: inside a QEMU
# virtual machine (software emulation, TCG) whose CPU offers AMD SVM, so that
# Debian's own Linux kernel loads kvm-amd and gives the command a real /dev/kvm.
#
# Usage: scripts/nested-kvm.sh [--mem SIZE] [--cpus N] [--timeout SECONDS] -- COMMAND [ARGS...]
#
# The VM sees the host's whole file system through 9p (read-write, as the user
# who runs this script) and runs COMMAND there, in the current directory, with
# the current environment, as root of the VM. COMMAND's output is streamed here
# and its exit status becomes this script's. 125 means the VM itself failed (its
# console log is printed). Everything a KVM guest does is emulated twice over
# (QEMU emulates the CPU that runs KVM's guest): timings are not hardware's.
#
# Needs (Debian 12; scripts/setup.sh installs them when /dev/kvm is absent):
# qemu-system-x86, busybox-static, cpio, kmod, and Debian's package archive to
# download the kernel package once into $HATVM_NESTED_CACHE
# (default ~/.cache/hatvm/nested-kvm; nothing is installed into /boot).
# The emulated kernel has now and then locked up (both emulated CPUs stuck in its
# own code, while a KVM guest ran; with multi-threaded TCG, see below). A lockup
# it notices panics it; a heartbeat catches the silent ones. Either ends the VM
# with status 125 and its console instead of a hang until --timeout.
set -euo pipefail

mem=${HATVM_NESTED_MEM:-8G}
cpus=${HATVM_NESTED_CPUS:-$(nproc)}
timeout=${HATVM_NESTED_TIMEOUT:-5400}
stall_limit=${HATVM_NESTED_STALL:-120}
cache=${HATVM_NESTED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hatvm/nested-kvm}
modules=(kvm-amd 9p 9pnet_virtio virtio_pci)

usage() { sed -n '/^# Usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-2}"; }
die() { echo "nested-kvm: $*" >&2; exit 125; }

while [ $# -gt 0 ]; do
	case "$1" in
	--mem) mem=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	--) shift; break ;;
	*) echo "nested-kvm: unknown option '$1'" >&2; usage ;;
	esac
done
[ $# -gt 0 ] || { echo "nested-kvm: no command given" >&2; usage; }
PATH=$PATH:/usr/sbin:/sbin   # modprobe and depmod, outside a user's PATH on Debian
for tool in qemu-system-x86_64 busybox cpio modprobe depmod dpkg-deb apt-get; do
	command -v "$tool" >/dev/null || die "'$tool' is missing: run scripts/setup.sh (it installs it when /dev/kvm is absent)"
done

# Debian's kernel, unpacked once: the newest package linux-image-amd64 depends on.
kernel_tree() {
	local pkg
	pkg=$(apt-cache depends --important linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || die "no kernel package behind linux-image-amd64 (is this Debian? run 'apt-get update')"
	if [ ! -f "$cache/$pkg/.unpacked" ]; then
		echo "nested-kvm: downloading $pkg into $cache (once)" >&2
		rm -rf "${cache:?}/$pkg" && mkdir -p "$cache/$pkg"
		# (apt warns that _apt cannot write here when run as root; the download is the same)
		(cd "$cache/$pkg" && apt-get download -qq "$pkg" >download.log 2>&1) ||
			{ cat "$cache/$pkg/download.log" >&2; die "apt-get download $pkg failed"; }
		dpkg-deb -x "$cache/$pkg"/*.deb "$cache/$pkg/root" && rm -f "$cache/$pkg"/*.deb
		depmod -b "$cache/$pkg/root" "$(basename "$(ls -d "$cache/$pkg/root"/lib/modules/*)")"
		touch "$cache/$pkg/.unpacked"
	fi
	echo "$cache/$pkg/root"
}

# The modules' insmod order, as modprobe resolves it against the unpacked tree.
module_files() {
	local root=$1 version=$2
	for m in "${modules[@]}"; do
		modprobe -d "$root" -S "$version" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}

# A busybox initramfs: load the modules, mount the host at /host, run the job there.
build_initramfs() {
	local root=$1 version=$2 out=$3 dir files
	files=$(module_files "$root" "$version") || die "cannot resolve the modules ${modules[*]} in $root"
	dir=$(mktemp -d)
	mkdir -p "$dir"/{bin,mods,proc,sys,dev,host}
	cp "$(command -v busybox)" "$dir/bin/busybox"
	: >"$dir/mods/order"
	while read -r f; do
		local name
		name=$(basename "${f%.ko*}").ko
		case "$f" in
		*.xz) xz -dc "$f" >"$dir/mods/$name" ;;
		*.zst) zstd -qdc "$f" >"$dir/mods/$name" ;;
		*) cp "$f" "$dir/mods/$name" ;;
		esac
		echo "$name" >>"$dir/mods/order"
	done <<<"$files"
	cat >"$dir/init" <<-'EOF'
	#!/bin/busybox sh
	/bin/busybox --install -s /bin
	mount -t proc proc /proc && mount -t sysfs sys /sys && mount -t devtmpfs dev /dev
	for m in $(cat /mods/order); do insmod "/mods/$m" || echo "nested-kvm: insmod $m failed"; done
	ifconfig lo 127.0.0.1 up
	job=$(sed -n 's/.*hatvm_job=\([^ ]*\).*/\1/p' /proc/cmdline)
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 host /host || echo "nested-kvm: 9p mount failed"
	for fs in proc sys dev; do mount --bind "/$fs" "/host/$fs"; done
	# what Debian's udev rule does: /dev/kvm root:kvm 0660 (no udev here)
	kvm_gid=$(awk -F: '$1 == "kvm" { print $3 }' /host/etc/group)
	[ -z "$kvm_gid" ] || { chgrp "$kvm_gid" /dev/kvm && chmod 660 /dev/kvm; }
	mkdir -p /host/dev/shm /host/dev/pts && mount -t tmpfs shm /host/dev/shm && mount -t devpts pts /host/dev/pts
	(while :; do date +%s >"/host$job/heartbeat"; sleep 5; done) &
	chroot /host /bin/bash "$job/run" >"/host$job/out" 2>&1
	echo $? >"/host$job/rc"
	sync
	poweroff -f
	EOF
	chmod +x "$dir/init"
	# written aside and renamed: another run may be booting the previous one
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.$$"
	mv -f "$out.$$" "$out"
	rm -rf "$dir"
}

root=$(kernel_tree)
version=$(basename "$(ls -d "$root"/lib/modules/*)")
initrd="$cache/initrd-$version.gz"
[ "$initrd" -nt "$0" ] || build_initramfs "$root" "$version" "$initrd"

# The emulated machine has also frozen silently (its timers dead, so no lockup
# report): the VM's init writes a heartbeat every 5 s, and a VM whose heartbeat
# is older than $stall_limit s (or that never wrote one) is stopped: status 125.
watch_heartbeat() {
	local pid=$1 last now
	while kill -0 "$pid" 2>/dev/null; do
		sleep 10
		now=$(date +%s)
		last=$(stat -c %Y "$job/heartbeat" 2>/dev/null || stat -c %Y "$job/run")
		if [ $((now - last)) -gt "$stall_limit" ]; then
			echo "nested-kvm: the VM stopped answering (no heartbeat for $((now - last)) s); stopping it" >"$job/stalled"
			kill -TERM "$pid" 2>/dev/null   # timeout passes it on to QEMU (-k: then KILL)
			return
		fi
	done
}

job=$(mktemp -d /tmp/nested-kvm.XXXXXX)
trap 'rm -rf "$job"' EXIT
{
	export -p
	printf 'cd %q || exit 125\n' "$PWD"
	printf 'exec'; printf ' %q' "$@"; printf '\n'
} >"$job/run"
: >"$job/out"

# TCG emulates SVM (not VMX), so the VM's CPU is an AMD one whatever the host's is.
# One TCG thread for all vCPUs: with a thread each (thread=multi) the emulated
# kernel froze in about one run in four, both vCPUs spinning with interrupts off
# (seen through QEMU's monitor), and it ran no faster on 2 host cores.
timeout -k 10 "$timeout" qemu-system-x86_64 -machine q35 -accel tcg,thread=single -cpu max,+svm \
	-smp "$cpus" -m "$mem" -display none -no-reboot -serial "file:$job/console" \
	-kernel "$root/boot/vmlinuz-$version" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 softlockup_panic=1 sysctl.kernel.panic_on_rcu_stall=1 hatvm_job=$job" \
	-virtfs "local,path=/,mount_tag=host,security_model=none,multidevs=remap" &
qemu=$!
watch_heartbeat "$qemu" >/dev/null 2>&1 &
watcher=$!
tail -n +1 -f --pid="$qemu" "$job/out"
wait "$qemu" || true
kill "$watcher" 2>/dev/null || true
[ ! -e "$job/stalled" ] || cat "$job/stalled" >&2
if [ ! -s "$job/rc" ]; then
	echo "nested-kvm: the VM stopped before the command finished; its console:" >&2
	# from the kernel's first complaint (lockup, stall, BUG, panic), else the end
	first=$(grep -n -m1 -E 'soft lockup|hard LOCKUP|rcu_.*stall|BUG:|Kernel panic|Oops' "$job/console" | cut -d: -f1 || true)
	if [ -n "$first" ]; then sed -n "${first},$((first + 30))p" "$job/console" >&2; echo "[...]" >&2; fi
	tail -n 15 "$job/console" >&2 || true
	[ -z "${HATVM_NESTED_KEEP_CONSOLE:-}" ] || cp "$job/console" "$HATVM_NESTED_KEEP_CONSOLE"
	exit 125
fi
exit "$(cat "$job/rc")"
