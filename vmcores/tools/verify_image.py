#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Verify one sample image and collect its statistics.

usage: verify_image.py --version X.Y --dir DIR [--vmlinux PATH] [--vmcore PATH] [--stats OUT.json]

DIR holds page_owner.txt, meta.txt, vmlinux, vmcore.kdump (and show_*.txt) as written by
`build.sh VERSION post`.  Checks:
  * drgn opens the dump with the vmlinux and reads page_owner_ops.offset, page_ext_size,
    max_pfn;
  * the ground truth has > 5000 records, high orders, several pids/comms (5.11+),
    memcg lines (5.18+ with MEMCG);
  * for every record in the text, the page_owner handle read from the dump for that PFN
    decodes with drgn.helpers.linux.stackdepot.stack_depot_fetch, and each frame's return
    address equals the text's symbol+offset (ELF symbol of that name), order and gfp equal (records of the capture processes are reported separately).
Writes the statistics as JSON (default DIR/stats.json).  Exit status 1 if a check fails.
"""
import argparse
import collections
import json
import os
import re
import sys

import drgn
from drgn.helpers.linux.stackdepot import stack_depot_fetch

HDR = re.compile(r"^Page allocated via order (\d+), mask (0x[0-9a-f]+)\(([^)]*)\)(.*)$")
PID = re.compile(r", pid (-?\d+)(?:, tgid (-?\d+) \((.*)\))?, ts (\d+) ns")
PFN = re.compile(r"^PFN (0x[0-9a-f]+|\d+) type (\S+) Block (\d+) type (\S+) Flags (\S+)")


def parse_records(text):
    recs = []
    for block in text.split("\n\n"):
        if not block.startswith("Page allocated via order"):
            if block.strip():
                raise ValueError(f"unexpected block: {block[:200]!r}")
            continue
        lines = block.split("\n")
        m = HDR.match(lines[0])
        if not m:
            raise ValueError(f"bad header {lines[0]!r}")
        r = {"order": int(m.group(1)), "gfp": int(m.group(2), 16), "gfp_names": m.group(3)}
        pm = PID.search(m.group(4))
        if pm:
            r["pid"] = int(pm.group(1))
            if pm.group(2) is not None:
                r["tgid"] = int(pm.group(2))
                r["comm"] = pm.group(3)
        f = PFN.match(lines[1])
        if not f:
            raise ValueError(f"bad PFN line {lines[1]!r}")
        r["pfn"] = int(f.group(1), 0)
        r["mt"] = f.group(2)
        r["block_mt"] = f.group(4)
        stack, extra = [], []
        for ln in lines[2:]:
            if ln.startswith(" "):
                stack.append(ln.strip())
            elif ln:
                extra.append(ln)
        r["stack"] = stack
        r["extra"] = extra
        recs.append(r)
    return recs


def sym_name(s):
    return s.split("+", 1)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--vmlinux")
    ap.add_argument("--vmcore")
    ap.add_argument("--stats")
    a = ap.parse_args()
    d = a.dir
    vmlinux = a.vmlinux or os.path.join(d, "vmlinux")
    vmcore = a.vmcore or os.path.join(d, "vmcore.kdump")
    fails = []

    meta = {}
    for line in open(os.path.join(d, "meta.txt"), encoding="utf-8"):
        k, _, v = line.rstrip("\n").partition("=")
        meta[k] = v
    shell_pid = int(meta["capture_shell_pid"])

    text = open(os.path.join(d, "page_owner.txt"), encoding="utf-8").read()
    recs = parse_records(text)
    st = {"records": len(recs), "page_owner_bytes": len(text.encode())}
    st["orders"] = dict(sorted(collections.Counter(r["order"] for r in recs).items()))
    st["gfp_masks"] = len({r["gfp"] for r in recs})
    st["migratetypes"] = dict(collections.Counter(r["mt"] for r in recs))
    st["distinct_stacks"] = len({tuple(r["stack"]) for r in recs})
    extra = collections.Counter()
    for r in recs:
        for e in r["extra"]:
            e = re.sub(r"memcg .*", "memcg NAME", e)
            extra[e] += 1
    st["extra_lines"] = dict(extra)
    memcgs = collections.Counter()
    for r in recs:
        for e in r["extra"]:
            m = re.match(r"Charged .*memcg (.*)$", e)
            if m:
                memcgs[("offline " if "offline memcg" in e else "") + m.group(1)] += 1
    st["memcg_names"] = dict(memcgs)
    if "pid" in recs[0]:
        st["pids"] = len({r["pid"] for r in recs})
        if "comm" in recs[0]:
            st["comms"] = dict(collections.Counter(r["comm"] for r in recs).most_common())
        st["capture_records"] = sum(1 for r in recs if r["pid"] >= shell_pid)
    print(f"verify: {len(recs)} records, orders {st['orders']}", file=sys.stderr)
    print(f"verify: extra lines {st['extra_lines']}", file=sys.stderr)

    if len(recs) <= 5000:
        fails.append(f"only {len(recs)} records")
    if max(st["orders"]) < 9:
        fails.append(f"highest order {max(st['orders'])}")
    if "pids" in st and st["pids"] < 5:
        fails.append("few pids")
    vt = tuple(int(x) for x in a.version.split("."))
    if vt >= (5, 18) and not any(k.startswith("Charged") for k in extra):
        fails.append("no memcg lines")
    if not any(k.startswith("Page has been migrated") for k in extra):
        print("verify: WARNING: no 'Page has been migrated' line", file=sys.stderr)

    # other page_owner_stacks files
    for n in ("show_stacks", "show_handles", "show_stacks_handles"):
        p = os.path.join(d, n + ".txt")
        if os.path.exists(p) and os.path.getsize(p):
            t = open(p, encoding="utf-8").read()
            st[n + "_records"] = len([b for b in t.split("\n\n") if b.strip()])
            st[n + "_bytes"] = len(t.encode())

    # drgn
    prog = drgn.Program()
    prog.set_core_dump(vmcore)
    try:
        prog.load_debug_info([vmlinux])
    except drgn.MissingDebugInfoError as e:
        print(f"verify: (ignored) {e}", file=sys.stderr)
    off = prog["page_owner_ops"].offset.value_()
    pes = prog["page_ext_size"].value_()
    max_pfn = prog["max_pfn"].value_()
    st["drgn"] = {"page_owner_ops.offset": off, "page_ext_size": pes, "max_pfn": max_pfn,
                  "min_low_pfn": prog["min_low_pfn"].value_(),
                  "uts_release": prog["init_uts_ns"].name.release.string_().decode()}
    print(f"verify: drgn: {st['drgn']}", file=sys.stderr)
    if st["drgn"]["uts_release"] != meta.get("uname_release"):
        fails.append("release mismatch between dump and guest")

    ms = prog["mem_section"]
    ms_size = prog.type("struct mem_section").size
    per_root = 4096 // ms_size
    section_shift = 27 - 12
    po_type = prog.type("struct page_owner *")
    flags_owner_alloc = prog.constant("PAGE_EXT_OWNER_ALLOCATED").value_()

    def page_owner_at(pfn):
        nr = pfn >> section_shift
        sec = ms[nr // per_root][nr % per_root]
        base = sec.page_ext.value_() & ~1
        if not base:
            return None, None
        ext = base + pes * pfn
        ext_flags = prog.read_u64(ext)
        return drgn.Object(prog, po_type, value=ext + off), ext_flags

    sym_addrs = {}

    def pc_matches(pc, line):
        # "name+0xoff/0xsize": the kernel picks its own alias among symbols at one address
        # and kallsyms sizes, so compare addresses: some ELF symbol `name` + off == pc
        name, _, rest = line.partition("+")
        if not rest:
            return line == hex(pc)
        offset = int(rest.split("/")[0], 16)
        if name not in sym_addrs:
            try:
                sym_addrs[name] = {s.address for s in prog.symbols(name)}
            except LookupError:
                sym_addrs[name] = set()
        return pc - offset in sym_addrs[name]

    def sym_of(pc):
        try:
            return prog.symbol(pc).name
        except LookupError:
            return hex(pc)

    cache = {}
    checked = matched = capture_mismatch = other_mismatch = 0
    examples = []
    for r in recs:
        po, ext_flags = page_owner_at(r["pfn"])
        if po is None:
            other_mismatch += 1
            continue
        handle = po.handle.value_()
        if handle not in cache:
            trace = stack_depot_fetch(po.handle)
            cache[handle] = None if trace is None else [fr.pc for fr in trace if not fr.is_inline]
        pcs = cache[handle]
        want = [sym_name(s) for s in r["stack"]]
        checked += 1
        ok = (pcs is not None and len(pcs) == len(r["stack"])
              and all(pc_matches(pc, line) for pc, line in zip(pcs, r["stack"]))
              and po.order.value_() == r["order"]
              and po.gfp_mask.value_() == r["gfp"]
              and ext_flags >> flags_owner_alloc & 1)
        if ok:
            matched += 1
        elif r.get("pid", -1) >= shell_pid:
            capture_mismatch += 1
        else:
            other_mismatch += 1
            if len(examples) < 5:
                names = None if pcs is None else [sym_of(pc) for pc in pcs]
                examples.append({"pfn": r["pfn"], "text": want[:4], "dump": (names or [])[:4],
                                 "text_order": r["order"], "dump_order": po.order.value_()})
    st["dump_check"] = {"records_checked": checked, "identical_stack_order_gfp": matched,
                        "differing_capture_pid": capture_mismatch,
                        "differing_other": other_mismatch, "distinct_handles": len(cache)}
    print(f"verify: dump vs text: {st['dump_check']}", file=sys.stderr)
    for e in examples:
        print(f"verify: differing example {e}", file=sys.stderr)
    if not matched:
        fails.append("no record decoded from the dump matches the text")
    elif other_mismatch > 0.02 * checked:
        fails.append(f"{other_mismatch} non-capture records differ")

    out = a.stats or os.path.join(d, "stats.json")
    with open(out, "w") as f:
        json.dump(st, f, indent=1)
    for x in fails:
        print("verify: FAIL: " + x, file=sys.stderr)
    print("verify: " + ("FAILED" if fails else "OK"), file=sys.stderr)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
