"""coursekit.verdicts.seeds: one hidden-input seed per student and submission, in the gradebook."""

from __future__ import annotations

import pytest

from coursekit.verdicts import seeds


def test_seed_depends_on_assignment_student_and_code_only() -> None:
    code = seeds.submission_hash(["import torch", "def f():\n    return 1"])
    assert code == seeds.submission_hash(["import torch", "def f():\n    return 1"])
    assert code != seeds.submission_hash(["import torch\ndef f():\n    return 1"])  # cell split
    seed = seeds.seed_for("ps1_power_method", "alice", code)
    assert seed == seeds.seed_for("ps1_power_method", "alice", code)
    assert 0 <= seed < 2**31
    others = {
        seeds.seed_for("ps1_power_method", "bob", code),
        seeds.seed_for("ps2_low_rank", "alice", code),
        seeds.seed_for("ps1_power_method", "alice", seeds.submission_hash(["x = 1"])),
    }
    assert seed not in others and len(others) == 3


def test_record_lookup_and_copy(tmp_path) -> None:
    url, other = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    first, second = seeds.submission_hash(["a"]), seeds.submission_hash(["b"])
    s1 = seeds.seed_for("ps1_power_method", "alice", first)
    s2 = seeds.seed_for("ps1_power_method", "alice", second)
    seeds.record(url, "ps1_power_method", "alice", first, s1)
    seeds.record(url, "ps1_power_method", "alice", first, s1)  # re-grading: idempotent
    seeds.record(url, "ps1_power_method", "alice", second, s2)
    got = seeds.lookup(url, "ps1_power_method", "alice")
    assert [(r.submission_hash, r.seed) for r in got] == [(first, s1), (second, s2)]
    assert seeds.lookup(url, "ps1_power_method", "bob") == []
    with pytest.raises(ValueError, match="seed rule changed"):
        seeds.record(url, "ps1_power_method", "alice", first, s1 + 1)
    assert seeds.copy_records(url, other, "ps1_power_method", "alice") == 2
    assert [r.seed for r in seeds.lookup(other, "ps1_power_method", "alice")] == [s1, s2]
