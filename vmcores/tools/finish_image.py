#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Write one image's committed files into vmcores/X.Y/ from build.sh's post directory.

usage: finish_image.py --version X.Y --post DIR --out DIR --deb-version V --guest-mem M
                       [--no-binaries]

Writes vmlinux.xz, vmcore.kdump, page_owner.txt.xz (and show_*.txt.xz), config,
capture.json and README.md.  Needs DIR/stats.json from verify_image.py.
--no-binaries rewrites only capture.json and README.md.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

TEXTS = ["show_stacks", "show_handles", "show_stacks_handles", "page_owner"]
CMDLINE = "console=ttyS0 page_owner=on nokaslr panic=-1 init_on_free=1 transparent_hugepage=madvise"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def xz(src, dst):
    with open(dst, "wb") as o:
        subprocess.run(["xz", "-9e", "-T1", "-c", src], stdout=o, check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", required=True)
    ap.add_argument("--post", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--deb-version", required=True)
    ap.add_argument("--guest-mem", required=True)
    ap.add_argument("--no-binaries", action="store_true")
    a = ap.parse_args()
    p, out = a.post, a.out
    st = json.load(open(os.path.join(p, "stats.json")))
    meta = {}
    for line in open(os.path.join(p, "meta.txt"), encoding="utf-8"):
        k, _, v = line.rstrip("\n").partition("=")
        meta[k] = v
    console = open(os.path.join(p, "console.log"), encoding="utf-8", errors="replace").read()
    m = re.search(r"DRGN-PAGEOWNER-CAPTURE-DONE shell=(\d+) meta_dd=(\d+)", console)
    meta_dd = int(m.group(2)) if m else None
    shell = int(meta["capture_shell_pid"])
    dd_pids = {}
    for item in meta["capture_dd_pids"].split():
        k, _, v = item.partition("=")
        dd_pids[k] = int(v)
    live = []
    for item in meta["live_pids_at_or_above_shell"].split():
        pid, _, comm = item.partition(":")
        live.append({"pid": int(pid), "comm": comm})
    files = meta["files"].split()

    os.makedirs(out, exist_ok=True)
    outputs = {}
    for n in TEXTS:
        src = os.path.join(p, n + ".txt")
        if n not in files:
            continue
        dst = os.path.join(out, n + ".txt.xz")
        if not a.no_binaries:
            xz(src, dst)
        outputs[n] = {"file": n + ".txt.xz", "bytes": os.path.getsize(src), "sha256": sha256(src),
                      "xz_bytes": os.path.getsize(dst)}
    if not a.no_binaries:
        xz(os.path.join(p, "vmlinux"), os.path.join(out, "vmlinux.xz"))
        shutil.copyfile(os.path.join(p, "vmcore.kdump"), os.path.join(out, "vmcore.kdump"))
        shutil.copyfile(os.path.join(p, "config"), os.path.join(out, "config"))
    outputs["vmlinux"] = {"file": "vmlinux.xz", "bytes": os.path.getsize(os.path.join(p, "vmlinux")),
                          "sha256": sha256(os.path.join(p, "vmlinux")),
                          "xz_bytes": os.path.getsize(os.path.join(out, "vmlinux.xz")),
                          "note": "debug sections decompressed (objcopy --decompress-debug-sections)"}
    outputs["vmcore"] = {"file": "vmcore.kdump",
                         "bytes": os.path.getsize(os.path.join(out, "vmcore.kdump")),
                         "sha256": sha256(os.path.join(out, "vmcore.kdump")),
                         "format": "kdump-compressed (zlib), from QEMU dump-guest-memory "
                                   "kdump-zlib, reassembled and utsname filled"}
    outputs["config"] = {"file": "config", "bytes": os.path.getsize(os.path.join(out, "config")),
                         "sha256": sha256(os.path.join(out, "config"))}

    capture_pids = sorted({shell, *dd_pids.values(), *([meta_dd] if meta_dd else [])})
    cj = {
        "version": a.version,
        "debian_package": f"linux-source-{a.version} {a.deb_version}",
        "uname_release": meta["uname_release"],
        "uname_version": meta["uname_version"],
        "guest": {"memory": a.guest_mem, "cpus": 2, "accel": "tcg", "cmdline": CMDLINE},
        "capture_shell_pid": shell,
        "capture_pids": capture_pids,
        "capture_dd_pids": dd_pids,
        "capture_meta_writer_pid": meta_dd,
        "pids_at_or_above_shell_alive_after_capture": live,
        "last_pid_before_capture": int(meta["last_pid_before_capture"]),
        "last_pid_after_capture": int(meta["last_pid_after_capture"]),
        "capture_note": "every PID >= capture_shell_pid belongs to the capture (the shell, its dd "
                        "processes, and any kernel thread started meanwhile); records of these PIDs "
                        "may differ between the text and the dump",
        "capture_order": files,
        "page_owner_records": st["records"],
        "files": outputs,
        "stats": st,
    }
    with open(os.path.join(out, "capture.json"), "w") as f:
        json.dump(cj, f, indent=1)
        f.write("\n")

    d = st["drgn"]
    orders = ", ".join(f"{k}: {v}" for k, v in st["orders"].items())
    extra = "\n".join(f"| `{k}` | {v} |" for k, v in sorted(st["extra_lines"].items()))
    comms = ""
    if "comms" in st:
        comms = ", ".join(f"`{k}` {v}" for k, v in list(st["comms"].items())[:25])
    memcgs = ", ".join(f"`{k}` {v}" for k, v in st.get("memcg_names", {}).items())
    stacks_lines = ""
    for n in ("show_stacks", "show_handles", "show_stacks_handles"):
        if n in outputs:
            stacks_lines += (f"| `{n}.txt.xz` | {n} (captured before page_owner) | "
                             f"{st.get(n + '_records', 0)} blocks, {outputs[n]['bytes']} bytes |\n")
    dc = st["dump_check"]
    why = ("(this version prints no pid, so the capture processes' own records cannot be told "
           "apart: these are mostly the capture's page tables, and pages reallocated between "
           "capture and dump)" if "pids" not in st else
           "(pages reallocated between capture and dump)")
    readme = f"""# Sample image: Linux {meta['uname_release']} (Debian linux-source-{a.version} {a.deb_version})

Built by `vmcores/build.sh {a.version}` (see ../README.md): `make tinyconfig` plus
`kconfig/common.config` and `kconfig/{a.version}.config`, booted under QEMU 7.2 TCG with
{a.guest_mem} RAM, 2 CPUs, command line `{CMDLINE}`.
`uname -v`: `{meta['uname_version']}`.

| File | What | Size |
|---|---|---|
| `vmlinux.xz` | vmlinux with DWARF (debug sections decompressed), `xz -9e` | {outputs['vmlinux']['xz_bytes']} bytes ({outputs['vmlinux']['bytes']} uncompressed) |
| `vmcore.kdump` | kdump-compressed dump (QEMU kdump-zlib, reassembled, utsname filled), no pages excluded | {outputs['vmcore']['bytes']} bytes |
| `page_owner.txt.xz` | exact bytes of `/sys/kernel/debug/page_owner`, captured last | {outputs['page_owner']['bytes']} bytes, {st['records']} records |
{stacks_lines}| `config` | the kernel's .config | {outputs['config']['bytes']} bytes |
| `capture.json` | PIDs of the capture, sizes and sha256 of the uncompressed files, statistics | |

Open with `drgn -c vmcore.kdump -s vmlinux` after `xz -dk vmlinux.xz`.

## Ground truth

- Records ("Page allocated via order ..."): **{st['records']}**; distinct stacks {st['distinct_stacks']},
  distinct gfp masks {st['gfp_masks']}.
- Orders: {orders}.
- Page migratetypes: {', '.join(f'{k} {v}' for k, v in st['migratetypes'].items())}.
""" + (f"- PIDs: {st['pids']} distinct; comms: {comms}.\n" if "pids" in st else
       "- This version prints no pid/comm.\n") + f"""- Capture: shell PID **{shell}**; dd PIDs {', '.join(f'{k} {v}' for k, v in dd_pids.items())};
  metadata writer {meta_dd}. Every PID >= {shell} belongs to the capture.""" + (
        f" Records owned by capture PIDs: {st['capture_records']}.\n" if "capture_records" in st else "\n") + f"""
Lines after the stacks:

| Line | Records |
|---|---|
{extra}
""" + (f"\nMemcg names: {memcgs}.\n" if memcgs else "") + f"""
## Checked against the dump (tools/verify_image.py, drgn {__import__('drgn').__version__})

`page_owner_ops.offset` = {d['page_owner_ops.offset']}, `page_ext_size` = {d['page_ext_size']},
`max_pfn` = {d['max_pfn']}, `min_low_pfn` = {d['min_low_pfn']}.
For each record of the text, the page_owner entry of that PFN was read from the dump and its
handle decoded with `stack_depot_fetch`: {dc['identical_stack_order_gfp']} of {dc['records_checked']}
have identical stacks (every return address equals the text's `symbol+offset`), order and gfp mask; {dc['differing_capture_pid']} differ and belong to
capture PIDs; {dc['differing_other']} others differ {why}.

## Workload (guest/workload.sh, guest/pgwork.c)

cgroup2 with the memory controller; cgroups `wl-kmem` (pipes resized with F_SETPIPE_SZ so their
pipe_buffer arrays are kmalloc'd at orders 2..9, queued unix stream/dgram messages, tmpfs
xattrs of 9..65 KB, 400 files), `wl-anon` (THP order 9 via MADV_HUGEPAGE, mTHP 64 KB..1 MB on
6.8+, 8 MB anonymous memory), `wl-tmpfs` (8 MB tmpfs file, 300 small files, 12 children),
`wl-gone` (2 MB tmpfs file + 100 files, then the cgroup is removed: offline memcg); root
cgroup: a huge=always tmpfs file (shmem THP), another holder, 40 short-lived children `kid-NN`
each leaving a tmpfs file, page cache of a virtio disk read, `drop_caches`, read again, a
fragmenting pair of tmpfs files (one deleted), a 32 MB scratch file (deleted), then
`compact_memory`. Holders (`wl-kmem`, `wl-anon`, `wl-hold`) sleep until the dump.
"""
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(readme)
    print(f"finish: wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
