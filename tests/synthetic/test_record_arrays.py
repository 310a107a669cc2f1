# SPDX-License-Identifier: LGPL-2.1-or-later
"""RecordArrays: columns the same for every record are stored once."""

import numpy as np
import pytest

from drgn_pageowner.synthetic.spec import GFP_KERNEL, RecordArrays


def test_defaults_are_stored_once() -> None:
    recs = RecordArrays(1_000_000)
    assert recs.constant("gfp") == GFP_KERNEL
    assert recs.constant("free_stack") == -1
    assert recs.nbytes() < 1000
    assert len(recs["pid"]) == 1_000_000 and (recs["pid"][:10] == 1).all()


def test_put_and_write_through_cols() -> None:
    recs = RecordArrays(4)
    pid = np.array([5, 6, 7, 8], dtype=np.int32)
    recs.put("pid", pid)
    recs.put("tgid", pid)
    recs.put("order", [2, 2, 2, 2])
    assert recs.constant("order") == 2
    assert recs.constant("pid") is None
    with pytest.raises(ValueError):
        recs["pid"][0] = 1  # read-only: it may share memory with tgid
    recs.cols["pid"][0] = 1  # a copy of its own
    assert recs["pid"].tolist() == [1, 6, 7, 8]
    assert recs["tgid"].tolist() == [5, 6, 7, 8]
    recs.cols["order"][1] = 0
    assert recs["order"].tolist() == [2, 0, 2, 2]
    assert recs.constant("order") is None
    with pytest.raises(ValueError):
        recs.put("pfn", [1, 2])
