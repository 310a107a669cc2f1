#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest workload: many distinct stacks, orders 0..9, several processes, comms, memcgs,
# an offline memcg, page cache, and compaction (migrated pages).
W=/bin/pgwork
CG=/sys/fs/cgroup
say() { echo "workload: $*"; }

# find a disk by its virtio serial
disk() { for b in /sys/block/vd*; do [ "$(cat $b/serial 2>/dev/null)" = "$1" ] && echo /dev/${b##*/}; done; }

mount -t tmpfs -o size=160M tmpfs /tmp
mount -t tmpfs -o huge=always,size=16M hugetmp /mnt || say "no huge tmpfs"
mkdir -p $CG && mount -t cgroup2 cgroup2 $CG && echo +memory > $CG/cgroup.subtree_control || say "no memcg"
for c in wl-kmem wl-anon wl-tmpfs wl-gone; do mkdir -p $CG/$c; done
mkdir -p /tmp/kmem /tmp/tmpfs /tmp/gone /tmp/kids /tmp/frag /run/sock
# THP: the kernel turns it off by itself on machines with < 512 MB ("never"); use madvise
echo madvise > /sys/kernel/mm/transparent_hugepage/enabled || say "no THP"
echo madvise > /sys/kernel/mm/transparent_hugepage/defrag || true
# mTHP (6.8+): allow every non-PMD size for MADV_HUGEPAGE regions
for f in /sys/kernel/mm/transparent_hugepage/hugepages-*kB/enabled; do
	[ -e "$f" ] && case $f in *-2048kB/*) ;; *) echo madvise > $f ;; esac
done
say "thp: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"

# in_cg CGROUP CMD...: run CMD as a new process inside CGROUP
in_cg() { cg=$1; shift; sh -c 'echo $$ > '"$CG/$cg"'/cgroup.procs; exec "$@"' sh "$@"; }

# 1. high orders first, while memory is not fragmented:
#    pipe_buffer arrays of 1.3 MB .. 10 KB (orders 9..2), accounted kmem (wl-kmem)
in_cg wl-kmem $W -n wl-kmem -d \
	pipe:134217728:65536 pipe:67108864:32768 pipe:33554432:16384 pipe:16777216:8192 \
	pipe:8388608:4096 pipe:4194304:4096 pipe:2097152:0 pipe:1048576:0 \
	unix:stream:24:65536 unix:dgram:8:32768 unix:stream:64:1000 \
	xattr:/tmp/kmem/x:9000:2 xattr:/tmp/kmem/y:20000:2 xattr:/tmp/kmem/z:40000:2 \
	xattr:/tmp/kmem/w:65000:2 files:/tmp/kmem/d:400 || say "wl-kmem failed"
#    THP (order 9) and mTHP (orders 4..8 on 6.8+), anonymous memory (wl-anon)
in_cg wl-anon $W -n wl-anon -d thp:3 mthp:64:3 mthp:128:3 mthp:256:2 mthp:512:2 \
	mthp:1024:2 anon:8192 || say "wl-anon failed"
#    shmem THP on a huge=always tmpfs (root memcg)
$W -n wl-hugetmp file:/mnt/huge0:4096 || say "wl-hugetmp failed"
#    a root-cgroup holder with other sizes
$W -n wl-hold -d pipe:262144:65536 unix:dgram:4:100000 anon:2048 thp:1 || say "wl-hold failed"

# 2. tmpfs files and many small files charged to wl-tmpfs
in_cg wl-tmpfs $W -n wl-tmpfs file:/tmp/tmpfs/a:8192 files:/tmp/tmpfs/many:300 \
	xattr:/tmp/tmpfs/x:12000:1 || say "wl-tmpfs failed"

# 3. an offline memcg: charge pages to wl-gone, then remove the cgroup
in_cg wl-gone $W -n wl-gone file:/tmp/gone/g:2048 files:/tmp/gone/d:100 || say "wl-gone failed"
rmdir $CG/wl-gone || say "rmdir wl-gone failed"

# 4. many short processes with distinct comms, each leaving a tmpfs file
$W -n wl-kids kids:40:kid:/tmp/kids || say "kids failed"
in_cg wl-tmpfs $W -n wl-kids2 kids:12:cgkid:/tmp/kids || say "kids2 failed"

# 5. page cache of a block device; drop caches; read part of it again
DATA=$(disk data)
$W -n wl-read read:$DATA:8192 || say "read failed"
echo 3 > /proc/sys/vm/drop_caches
$W -n wl-reread read:$DATA:2048 || say "reread failed"

# 6. fragmentation, a big temporary file, then compaction => migrated pages
$W -n wl-frag frag:/tmp/frag:16384 || say "frag failed"
$W -n wl-scratch file:/tmp/scratch:32768 || say "scratch failed"
rm -f /tmp/scratch
echo 1 > /proc/sys/vm/compact_memory
grep -E 'compact_(migrate|stall|success)|pgmigrate|thp_fault_alloc|thp_file_alloc' /proc/vmstat | tr '\n' ' '; echo
say "done; free: $(grep MemFree /proc/meminfo)"
