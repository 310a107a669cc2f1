#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Rebuild one sample image of vmcores/ from nothing on a Debian 12 (x86_64) machine:
#
#   vmcores/build.sh VERSION [STAGE...]
#
# VERSION is 5.10, 6.1, 6.12 or 7.2.  Without STAGE all stages run in order:
#   hostdeps source config kernel initramfs run post verify install
# Each stage can be run on its own (they are idempotent apart from "run").
#
# Environment:
#   DRGN_PAGEOWNER_BUILD  work directory root (default /var/tmp/drgn-pageowner-build);
#                         the kernel tree etc. go to $DRGN_PAGEOWNER_BUILD/VERSION
#   DEB_VERSION           Debian version of linux-source-VERSION to use (default: the one
#                         the committed image was built from, else the archive's newest;
#                         "newest" forces the newest)
#   OUT                   output directory (default vmcores/VERSION next to this script)
#   GUEST_MEM             guest RAM (default 256M)
#   JOBS                  make -j (default 2)
set -euo pipefail

VERSION=${1:?usage: $0 VERSION [STAGE...]  (VERSION: 5.10 6.1 6.12 7.2)}
shift
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${DRGN_PAGEOWNER_BUILD:-/var/tmp/drgn-pageowner-build}
WORK=$ROOT/$VERSION
OUT=${OUT:-$HERE/$VERSION}
GUEST_MEM=${GUEST_MEM:-256M}
JOBS=${JOBS:-2}
SRC=$WORK/linux
TOOLS=$HERE/tools
# the guest's kernel command line, also written into capture.json
CMDLINE=$(cd "$TOOLS" && python3 -c 'from finish_image import CMDLINE; print(CMDLINE)')

# Debian suites that carry linux-source-VERSION, and the version the committed image used.
MAIN=http://deb.debian.org/debian
SEC=http://deb.debian.org/debian-security
case $VERSION in
5.10) SUITES="$MAIN bullseye|$SEC bullseye-security"; PINNED=5.10.262-1 ;;
6.1)  SUITES="$MAIN bookworm|$MAIN bookworm-updates|$SEC bookworm-security"; PINNED=6.1.192-2 ;;
# 6.12.115-1 .. 6.12.118-1 (at least) oops in print_page_owner_memcg() on every page charged
# to a memcg (backport "use memcg_data snapshot to avoid TOCTOU", CVE-2026-93216, treats the
# folio's mem_cgroup pointer as an obj_cgroup); 6.12.113-1 is the last version without it.
6.12) SUITES="$MAIN trixie|$SEC trixie-security"; PINNED=6.12.113-1 ;;
7.2)  SUITES="$MAIN sid"; PINNED=7.2.13-1 ;;
*) echo "unknown VERSION $VERSION" >&2; exit 2 ;;
esac
DEB_VERSION=${DEB_VERSION:-$PINNED}

log() { printf '[build.sh %s %s] %s\n' "$VERSION" "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

stage_hostdeps() {
	local pkgs="qemu-system-x86 busybox-static bc bison flex libelf-dev libssl-dev dwarves
		cpio xz-utils gzip gcc make libc6-dev python3 binutils perl kmod"
	local missing=()
	for p in $pkgs; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if ((${#missing[@]})); then
		log "installing ${missing[*]}"
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
	fi
	python3 -c 'import drgn' 2>/dev/null || log "warning: python3 module drgn missing (pip install drgn) - verify stage needs it"
}

# Private apt configuration: own sources, lists and cache; the system's apt state is untouched.
apt_private() {
	local a=$ROOT/apt
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
	APT_OPTS=(-o "Dir::Etc::SourceList=$a/sources-$VERSION.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache"
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
		-o APT::Get::List-Cleanup=false)
	: >"$a/sources-$VERSION.list"
	local IFS='|' s
	for s in $SUITES; do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${s} main" >>"$a/sources-$VERSION.list"
	done
}

stage_source() {
	if [ -f "$SRC/Makefile" ] && [ -f "$WORK/deb-version" ]; then
		if [ "$DEB_VERSION" = newest ] || [ "$(cat "$WORK/deb-version")" = "$DEB_VERSION" ]; then
			log "source already unpacked: $(cat "$WORK/deb-version")"
			return
		fi
		log "unpacked source is $(cat "$WORK/deb-version"), want $DEB_VERSION: fetching again"
	fi
	mkdir -p "$WORK"
	apt_private
	log "apt-get update (private lists under $ROOT/apt)"
	apt-get "${APT_OPTS[@]}" update >&2
	local pkg=linux-source-$VERSION ver=$DEB_VERSION
	if [ "$ver" = newest ] || ! apt-cache "${APT_OPTS[@]}" show "$pkg=$ver" >/dev/null 2>&1; then
		[ "$ver" = newest ] || log "warning: $pkg=$ver not in the archive any more; using the newest"
		ver=$(apt-cache "${APT_OPTS[@]}" policy "$pkg" | awk '/Candidate:/ {print $2}')
		[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "$pkg not found"
	fi
	log "downloading $pkg=$ver"
	rm -rf "$WORK/deb" && mkdir -p "$WORK/deb"
	(cd "$WORK/deb" && apt-get "${APT_OPTS[@]}" download "$pkg=$ver" >&2)
	dpkg-deb -x "$WORK"/deb/*.deb "$WORK/deb/x"
	local tarball
	tarball=$(ls "$WORK"/deb/x/usr/src/linux-source-"$VERSION".tar.*)
	log "unpacking $tarball"
	rm -rf "$SRC" "$WORK/src.tmp" && mkdir -p "$WORK/src.tmp"
	tar -C "$WORK/src.tmp" -xf "$tarball"
	mv "$WORK/src.tmp"/linux-source-"$VERSION" "$SRC"
	rmdir "$WORK/src.tmp"
	rm -rf "$WORK/deb/x"
	echo "$ver" >"$WORK/deb-version"
}

stage_config() {
	[ -f "$SRC/Makefile" ] || die "run the source stage first"
	local frags=("$HERE/kconfig/common.config")
	[ -f "$HERE/kconfig/$VERSION.config" ] && frags+=("$HERE/kconfig/$VERSION.config")
	log "tinyconfig + ${frags[*]}"
	make -C "$SRC" -s tinyconfig >&2
	(cd "$SRC" && ./scripts/kconfig/merge_config.sh -m .config "${frags[@]}" >&2)
	make -C "$SRC" -s olddefconfig >&2
	# Verify every option of the fragments landed.
	python3 "$TOOLS/check_config.py" "$SRC/.config" "${frags[@]}" || die "kernel config check failed"
}

stage_kernel() {
	log "make -j$JOBS bzImage (log: $WORK/kernel-build.log)"
	local t0=$SECONDS
	if ! make -C "$SRC" -j"$JOBS" bzImage >"$WORK/kernel-build.log" 2>&1; then
		tail -40 "$WORK/kernel-build.log" >&2
		die "kernel build failed"
	fi
	log "kernel built in $((SECONDS - t0)) s: $(uname -m) $(make -C "$SRC" -s kernelrelease)"
}

stage_initramfs() {
	local d=$WORK/initramfs
	rm -rf "$d" && mkdir -p "$d"/{bin,dev,proc,sys,tmp,mnt,run,etc}
	cp /bin/busybox "$d/bin/busybox"
	ln -s busybox "$d/bin/sh"
	gcc -static -O2 -Wall -o "$d/bin/pgwork" "$HERE/guest/pgwork.c"
	install -m 0755 "$HERE/guest/init" "$d/init"
	install -m 0755 "$HERE/guest/workload.sh" "$d/workload.sh"
	install -m 0755 "$HERE/guest/capture.sh" "$d/capture.sh"
	(cd "$d" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) |
		gzip -9 -n >"$WORK/initramfs.cpio.gz"
	log "initramfs: $(stat -c %s "$WORK/initramfs.cpio.gz") bytes"
}

stage_run() {
	local r=$WORK/run
	rm -rf "$r" && mkdir -p "$r"
	# One raw disk per output; the guest finds them by serial.
	truncate -s 512M "$r/page_owner.img"
	truncate -s 64M "$r/show_stacks.img" "$r/show_handles.img" "$r/show_stacks_handles.img"
	truncate -s 1M "$r/meta.img"
	python3 -c "import sys; [sys.stdout.buffer.write(bytes([i % 251]) * 4096) for i in range(4096)]" >"$r/data.img"
	local drives=() n
	for n in page_owner show_stacks show_handles show_stacks_handles meta data; do
		drives+=(-drive "file=$r/$n.img,format=raw,if=none,id=$n,cache=writethrough"
			-device "virtio-blk-pci,drive=$n,serial=$n")
	done
	log "booting QEMU (TCG, $GUEST_MEM, 2 CPUs)"
	qemu-system-x86_64 -accel tcg -m "$GUEST_MEM" -smp 2 -cpu max \
		-kernel "$SRC/arch/x86/boot/bzImage" -initrd "$WORK/initramfs.cpio.gz" \
		-append "$CMDLINE" \
		-display none -vga none -nic none -monitor none -serial "file:$r/console.log" \
		-qmp "unix:$r/qmp.sock,server=on,wait=off" -device vmcoreinfo \
		"${drives[@]}" -no-reboot >"$r/qemu.log" 2>&1 &
	local qpid=$!
	echo "$qpid" >"$r/qemu.pid"
	# Wait for the guest's marker, then stop it and dump at once.
	if ! python3 "$TOOLS/qmp_dump.py" --console "$r/console.log" --qmp "$r/qmp.sock" \
		--qemu-pid "$qpid" --out "$r/vmcore.flat" --timeout 900; then
		kill "$qpid" 2>/dev/null || true
		tail -30 "$r/console.log" >&2
		die "guest run failed"
	fi
	wait "$qpid" || true
	log "dump written: $(stat -c %s "$r/vmcore.flat") bytes"
}

stage_post() {
	local r=$WORK/run p=$WORK/post
	rm -rf "$p" && mkdir -p "$p"
	# Guest texts: one read() per 4 KiB block, NUL-padded.
	local n
	for n in page_owner show_stacks show_handles show_stacks_handles meta; do
		python3 "$TOOLS/blocks_to_text.py" "$r/$n.img" "$p/$n.txt"
	done
	python3 "$TOOLS/kdump_fix.py" "$r/vmcore.flat" "$p/vmcore.kdump" --meta "$p/meta.txt"
	# vmlinux with decompressed debug sections (drgn reads it directly).
	objcopy --decompress-debug-sections "$SRC/vmlinux" "$p/vmlinux"
	cp "$SRC/.config" "$p/config"
	cp "$WORK/deb-version" "$p/deb-version"
	cp "$r/console.log" "$p/console.log"
}

stage_verify() {
	python3 "$TOOLS/verify_image.py" --version "$VERSION" --dir "$WORK/post"
}

stage_install() {
	local p=$WORK/post
	mkdir -p "$OUT"
	log "writing $OUT"
	python3 "$TOOLS/finish_image.py" --version "$VERSION" --post "$p" --out "$OUT" \
		--deb-version "$(cat "$WORK/deb-version")" --guest-mem "$GUEST_MEM"
	ls -l "$OUT" >&2
}

STAGES=("$@")
((${#STAGES[@]})) || STAGES=(hostdeps source config kernel initramfs run post verify install)
for s in "${STAGES[@]}"; do
	log "=== stage $s ==="
	"stage_$s"
done
log "done"
