# SPDX-License-Identifier: LGPL-2.1-or-later
"""
Targets
-------

The ``drgn_pageowner.target`` module opens what a user points at: a crash
dump with its vmlinux, the running kernel, a live QEMU guest, or one of the
bundled sample images in ``vmcores/``. Every failure becomes a
:class:`~drgn_pageowner.errors.TargetError` with one clear sentence.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import uuid
from pathlib import Path
from typing import List, Optional, Sequence

import drgn
from drgn import Program

from drgn_pageowner.errors import MissingDebugInfoError, TargetError

__all__ = (
    "open_core",
    "open_live_kernel",
    "open_qemu",
    "open_sample",
    "sample_dir",
    "list_samples",
    "Sample",
    "plain_vmlinux",
)


def _load_debug_info(prog: Program, vmlinux: Sequence[str], what: str) -> None:
    for path in vmlinux:
        if not os.path.exists(path):
            raise TargetError(f"the debug info file {path} does not exist")
    try:
        if vmlinux:
            prog.load_debug_info(list(vmlinux), main=True)
        else:
            prog.load_default_debug_info()
    except drgn.MissingDebugInfoError:
        # Module debug info may be missing; only the kernel's own matters.
        pass
    except Exception as e:  # drgn raises plain Exceptions for bad files
        raise TargetError(f"could not load debug info for {what}: {e}") from None
    try:
        prog.type("struct page")
    except LookupError:
        if vmlinux:
            raise MissingDebugInfoError(
                f"{', '.join(vmlinux)} does not match {what} (different build) "
                "or has no DWARF debug info"
            ) from None
        raise MissingDebugInfoError(
            f"no debug info was found for {what}: pass the matching vmlinux with -s VMLINUX"
        ) from None
    _check_same_build(prog, vmlinux, what)


def _check_same_build(prog: Program, vmlinux: Sequence[str], what: str) -> None:
    """The release string at vmlinux's init_uts_ns must be the dump's own."""
    try:
        expected = prog["UTS_RELEASE"].string_().decode(errors="replace")
    except (KeyError, LookupError, drgn.FaultError):
        return
    try:
        seen = prog["init_uts_ns"].name.release.string_().decode(errors="replace")
    except (KeyError, LookupError, drgn.FaultError):
        seen = None
    if seen != expected:
        source = ", ".join(vmlinux) if vmlinux else "the debug info found"
        raise TargetError(
            f"{source} does not match {what}: the dump is release {expected} "
            f"but the debug info describes a different build"
        )


def open_core(core: str, vmlinux: Sequence[str] = ()) -> Program:
    """
    Open a crash dump (kdump-compressed or ELF).

    :param core: path of the dump
    :param vmlinux: vmlinux (and module) files with debug info
    """
    if not os.path.exists(core):
        raise TargetError(f"the dump {core} does not exist")
    prog = Program()
    try:
        prog.set_core_dump(core)
    except Exception as e:
        raise TargetError(f"{core} could not be opened as a crash dump: {e}") from None
    if not prog.flags & drgn.ProgramFlags.IS_LINUX_KERNEL:
        raise TargetError(f"{core} is not a Linux kernel crash dump")
    _load_debug_info(prog, vmlinux, core)
    return prog


def open_live_kernel(vmlinux: Sequence[str] = ()) -> Program:
    """Open the running kernel (needs root)."""
    prog = Program()
    try:
        prog.set_kernel()
    except Exception as e:
        raise TargetError(f"the running kernel could not be opened: {e}") from None
    _load_debug_info(prog, vmlinux, "the running kernel")
    return prog


def open_qemu(socket: str, vmlinux: Sequence[str] = ()) -> Program:
    """Open a live QEMU guest through its QMP socket."""
    prog = Program()
    try:
        prog.set_qemu_qmp(socket)  # type: ignore[attr-defined]
    except Exception as e:
        raise TargetError(f"the QEMU guest at {socket} could not be opened: {e}") from None
    _load_debug_info(prog, vmlinux, f"the QEMU guest at {socket}")
    return prog


def plain_vmlinux(path: str) -> str:
    """
    ``path`` itself, or for ``*.xz`` its decompressed copy in
    ``$XDG_CACHE_HOME/drgn-pageowner`` (made once; safe when several workers
    ask for the same file at the same time). :class:`Sample` and the batch
    dumps' vmlinux files both come from here.
    """
    if not path.endswith(".xz"):
        return path
    packed = Path(path)
    try:
        stat = packed.stat()
    except OSError as e:
        raise TargetError(f"the debug info file {path} cannot be read: {e.strerror}") from None
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "drgn-pageowner"
    key = hashlib.sha256(
        f"{packed.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()
    ).hexdigest()[:16]
    # FOLDER-NAME-KEY (for vmcores/NAME/vmlinux.xz: NAME-vmlinux-KEY)
    out = cache / f"{packed.resolve().parent.name}-{packed.name[: -len('.xz')]}-{key}"
    if out.exists():
        return str(out)
    tmp = cache / f".{out.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with lzma.open(packed) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        os.replace(tmp, out)
    except (OSError, lzma.LZMAError, EOFError) as e:
        tmp.unlink(missing_ok=True)
        raise TargetError(f"{path} could not be decompressed: {e}") from None
    return str(out)


def sample_dir() -> Path:
    """
    Where the bundled sample images live: ``$DRGN_PAGEOWNER_VMCORES``, or the
    ``vmcores/`` folder of the source checkout this package runs from.
    """
    env = os.environ.get("DRGN_PAGEOWNER_VMCORES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "vmcores"


class Sample:
    """One bundled image: ``vmcores/NAME/``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name

    @property
    def core(self) -> Path:
        for name in ("vmcore.kdump", "vmcore"):
            if (self.path / name).exists():
                return self.path / name
        raise TargetError(f"the sample {self.name} has no dump in {self.path}")

    def _decompressed(self, name: str) -> Path:
        plain = self.path / name
        if plain.exists():
            return plain
        packed = self.path / (name + ".xz")
        if not packed.exists():
            raise TargetError(f"the sample {self.name} has no {name} in {self.path}")
        return Path(plain_vmlinux(str(packed)))

    @property
    def vmlinux(self) -> Path:
        return self._decompressed("vmlinux")

    def text(self, name: str) -> bytes:
        """A ground-truth text (``page_owner.txt``, ``show_stacks.txt``, …), raw bytes."""
        plain = self.path / name
        if plain.exists():
            return plain.read_bytes()
        packed = self.path / (name + ".xz")
        if packed.exists():
            return lzma.decompress(packed.read_bytes())
        raise TargetError(f"the sample {self.name} has no {name}")


def list_samples() -> List[Sample]:
    """The bundled images, by name."""
    root = sample_dir()
    if not root.is_dir():
        return []
    return sorted(
        (Sample(p) for p in root.iterdir() if p.is_dir() and ((p / "vmcore.kdump").exists() or (p / "vmcore").exists())),
        key=lambda s: tuple(int(x) if x.isdigit() else 0 for x in s.name.split(".")),
    )


def find_sample(name: str) -> Sample:
    """Return the bundled sample ``name`` (e.g. ``"6.12"``)."""
    samples = list_samples()
    for sample in samples:
        if sample.name == name:
            return sample
    known = ", ".join(s.name for s in samples) or "none"
    raise TargetError(f"there is no sample image named {name!r} (available: {known})")


def open_sample(name: str) -> Program:
    """Open the bundled sample image ``name`` with its vmlinux."""
    sample = find_sample(name)
    return open_core(str(sample.core), [str(sample.vmlinux)])


def open_synthetic(spec: str) -> Program:
    """
    Build a synthetic kernel: ``RELEASE:MEMORY:STACKS[:ARCH[:PAGESIZE[:FILL]]]``
    (e.g. ``6.12:16G:50000``), or the path of a debugfs page_owner text to
    rebuild (when the synthetic backend can parse it).
    """
    from drgn_pageowner.synthetic import build_program, parse_preset

    if os.path.exists(spec):
        try:
            from drgn_pageowner.synthetic.fromtext import spec_from_text  # type: ignore[import-not-found]
        except ImportError:
            raise TargetError("rebuilding a synthetic kernel from a text is not supported yet") from None
        with open(spec, "rb") as f:
            return build_program(spec_from_text(f.read()))
    try:
        kernel_spec = parse_preset(spec)
    except (ValueError, KeyError) as e:
        raise TargetError(
            f"{spec!r} is not a synthetic kernel spec (RELEASE[:MEMORY[:STACKS[:ARCH[:PAGE_SIZE[:FILL]]]]], e.g. 6.12:1G:1000): {e}"
        ) from None
    return build_program(kernel_spec)


def open_target(
    *,
    core: Optional[str] = None,
    vmlinux: Sequence[str] = (),
    kernel: bool = False,
    qemu: Optional[str] = None,
    sample: Optional[str] = None,
    synthetic: Optional[str] = None,
) -> Program:
    """Open exactly one of the targets; raise :class:`TargetError` otherwise."""
    chosen = [x for x in (core, kernel or None, qemu, sample, synthetic) if x]
    if len(chosen) > 1:
        raise TargetError(
            "give only one target: -c VMCORE, -k, --qemu SOCKET, --sample NAME or --synthetic SPEC"
        )
    if synthetic:
        return open_synthetic(synthetic)
    if core:
        return open_core(core, vmlinux)
    if kernel:
        return open_live_kernel(vmlinux)
    if qemu:
        return open_qemu(qemu, vmlinux)
    if sample:
        return open_sample(sample)
    raise TargetError(
        "no target given: use -c VMCORE -s VMLINUX, -k, --qemu SOCKET, --sample NAME or "
        "--synthetic SPEC (--demo for a synthetic kernel when no dump is at hand)"
    )
