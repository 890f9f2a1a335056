"""Unit tests of the ch01_tensors grader and its self-check, in process.

The hidden cases are drawn from the submission's seed; these tests check over many seeds that
every case is of its stated kind (the trusted expected header is torch's own, the hidden slices
are never empty, a stepped slice's length is a rounded-up quotient, the clamped stop and the
size-0 dimension always matter), that the correct and mistaken corpus cases are graded as their
EXPECT says for several seeds, that messages never show hidden values, and that check() passes
the reference and names the same mistakes.
"""

from __future__ import annotations

import harness
import pytest
import torch
from inprocess import (
    corpus_misgrades,
    corpus_namespace,
    corpus_source,
    leaks,
    self_check,
    trusted_cases,
)

from coursekit.problemsets import ch01_tensors as ch01
from fromscratch.rules import CH01
from fromscratch.tensors import row_major_strides

SEEDS = range(100)
AID = "ch01_tensors"
TRUSTED = trusted_cases(AID, "fairness_", "mistake_")


def test_every_seed_draws_cases_of_their_kind() -> None:
    for seed in SEEDS:
        for case in ch01.cases_for(seed, "contiguous_strides"):
            (shape,) = case.args
            assert case.expected() == row_major_strides(shape)
            if case.kind == "c_zero":  # the size 0 has sizes on both sides: the convention shows
                assert shape[1] == 0 and case.expected()[0] != 0
        for grade_id in ("slice_view_basic", "slice_view_rules"):
            for case in ch01.cases_for(seed, grade_id):
                shape, strides, offset, dim, start, stop, step = case.args
                size = shape[dim]
                assert len(range(size)[start:stop:step]) >= 1, "no hidden slice is empty"
                lo, hi, _ = slice(start, stop, step).indices(size)
                if step > 1 and case.kind not in ("s_clamp", "s_none"):
                    assert (hi - lo) % step != 0  # floor division would be one short
                if case.kind == "s_clamp":  # an unclamped stop gives a longer slice
                    assert len(range(start, stop, step)) > len(range(lo, hi, step))
                if case.kind == "s_negative":
                    assert dim < 0 and start < 0 and stop < 0
        for case in ch01.cases_for(seed, "transpose_view"):
            d0, d1 = case.args[3:]
            assert d0 != d1 and (case.kind != "t_negative" or (d0 < 0 and d1 < 0))


def test_hidden_cases_differ_per_seed_and_repeat_for_the_same_seed() -> None:
    for grade_id in ch01.PARTS:
        assert ch01.cases_for(3, grade_id) == ch01.cases_for(3, grade_id)
    drawn = {tuple(c.args for c in ch01.cases_for(s, "slice_view_basic")) for s in range(20)}
    assert len(drawn) == 20


@pytest.mark.parametrize("path", TRUSTED, ids=lambda p: p.stem)
def test_corpus_case_in_process_for_several_seeds(path) -> None:
    assert not corpus_misgrades(ch01.CHECKS, path, seeds=(0, 1, 7, 123))


def test_messages_never_show_hidden_values() -> None:
    for path in TRUSTED:
        for seed in (0, 5):
            assert ch01.hidden_values(seed)
            assert not leaks(ch01, corpus_source(path), seed), path.stem


def test_check_passes_honest_work_and_names_the_mistakes() -> None:
    ns = corpus_namespace(harness.CORPUS / AID / "fairness_class_range_numpy.py")
    report = self_check(ns, CH01).values()
    assert all(r.passed for r in report)
    for stem, part, words in (
        ("mistake_column_major", "contiguous_strides", "expected"),
        ("mistake_step_keeps_stride", "slice_view_basic", "stride · step"),
        ("mistake_element_forgets_offset", "element_offset", "offset"),
    ):
        ns = corpus_namespace(harness.CORPUS / AID / f"{stem}.py")
        got = self_check(ns, CH01)
        assert not got[part].passed and words in got[part].message, (stem, got[part].message)


def test_check_flags_the_torch_shortcut() -> None:
    ns = corpus_namespace(harness.CORPUS / AID / "shortcut_torch_empty_stride.py")
    report = self_check(ns, CH01)
    flags = report["contiguous_strides"].flags  # check() reports what it saw, not a score
    assert not report["contiguous_strides"].passed or any("strides" in f for f in flags)
    assert report["element_offset"].passed
    assert torch.empty(2, 3).stride() == (3, 1)  # the traps were removed after check()
