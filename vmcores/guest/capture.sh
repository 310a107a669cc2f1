#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Capture the kernel's own page_owner text with as little disturbance as possible.
# Runs as one shell: it and every process it starts have PIDs >= its own PID.
# Only shell builtins are used except for the dd processes, whose PIDs are recorded.
# Each output goes to its own raw virtio disk (found by serial), one read() per 4 KiB
# block (conv=sync pads it), written with O_DIRECT so no block-device page cache is used.
SELF=$$
# last field of /proc/loadavg: the most recently created PID (no ns_last_pid without
# CONFIG_CHECKPOINT_RESTORE)
read _ _ _ _ START_LAST < /proc/loadavg
for b in /sys/block/vd*; do read s < $b/serial; eval "DISK_$s=/dev/${b##*/}"; done
PIDS=""
cap() { # name source
	eval "dev=\$DISK_$1"
	dd if=$2 of=$dev bs=4096 conv=sync,notrunc oflag=direct 2>/dev/console &
	p=$!
	wait $p
	rc=$?
	PIDS="$PIDS $1=$p"
	RCS="$RCS $1=$rc"
}
S=/sys/kernel/debug/page_owner_stacks
FILES=""
for f in show_stacks show_handles show_stacks_handles; do
	if [ -e $S/$f ]; then cap $f $S/$f; FILES="$FILES $f"; fi
done
cap page_owner /sys/kernel/debug/page_owner
FILES="$FILES page_owner"
read _ _ _ _ END_LAST < /proc/loadavg
read REL < /proc/sys/kernel/osrelease
read VER < /proc/sys/kernel/version
read HOST < /proc/sys/kernel/hostname
LIVE=""
for d in /proc/[0-9]*; do
	p=${d#/proc/}
	if [ $p -ge $SELF ]; then read c < $d/comm; LIVE="$LIVE $p:$c"; fi
done
{
	echo "capture_shell_pid=$SELF"
	echo "last_pid_before_capture=$START_LAST"
	echo "capture_dd_pids=$PIDS"
	echo "capture_dd_rcs=$RCS"
	echo "last_pid_after_capture=$END_LAST"
	echo "live_pids_at_or_above_shell=$LIVE"
	echo "files=$FILES"
	echo "uname_sysname=Linux"
	echo "uname_nodename=$HOST"
	echo "uname_release=$REL"
	echo "uname_version=$VER"
	echo "uname_machine=x86_64"
} > /tmp/capture-meta
dd if=/tmp/capture-meta of=$DISK_meta bs=4096 conv=sync,notrunc oflag=direct 2>/dev/console &
MP=$!
wait $MP
echo "DRGN-PAGEOWNER-CAPTURE-DONE shell=$SELF meta_dd=$MP"
exec sleep 100000
