"""The problem sets: one module per nbgrader assignment id, each listing its graded parts as data.

Module contract (checked by ``load``)::

    ASSIGNMENT_ID: str                      # == the module name == the nbgrader assignment id
    FUNCTIONS: tuple[str, ...]              # the graded function names (the student API)
    FORBIDDEN: dict[str, tuple[str, ...]]   # function name (or "*" for every graded function)
                                            #   -> shortcut families banned inside it, from
                                            #   coursekit.verdicts.shortcuts.FAMILIES
    CHECKS: list[Check]                     # one Check per graded test cell, in notebook order
                                            #   (``checks.part_checks`` builds them for parts
                                            #   whose cases are drawn from the seed)

``ASSIGNMENT_ID``, ``FUNCTIONS`` and ``FORBIDDEN`` may be left out by a module that sets
``RULES`` (its ``fromscratch.rules.SetRules``, as every set here does): ``load`` then sets them
from ``RULES.assignment_id``, ``RULES.functions`` and ``RULES.forbidden`` before checking the
contract. Reach a set through ``load``: a plain import of the module has ``RULES`` only.

Optional::

    SHORTCUT_HINTS: dict[str, str]          # family -> what to do instead, appended to the
                                            #   ShortcutError message ("find λ₁ with the power
                                            #   method only ...")
    hidden_values(seed: int) -> list[str]   # strings that must never appear in the feedback of
                                            #   the submission graded with ``seed`` (its hidden
                                            #   inputs and expected values); tests/problemsets
                                            #   checks every submission with its recorded seed

Hidden inputs: a check builds them from ``checks.seed_of(student)`` (the submission's seed, see
``coursekit.verdicts.seeds``) through ``checks.derive_seed(seed, label)``, one label per case, so
they differ per student and submission and are reproduced when the same submission is graded
again. The public rules (``FUNCTIONS``, ``FORBIDDEN``, tolerances) come from
``fromscratch.rules``, which the notebooks' Rules cells state and ``fromscratch.check`` applies.

Each ``Check.grade_id`` names a graded test cell of ``solutions/<id>/<id>.ipynb`` and
``Check.points`` equals that cell's points. ``tests/problemsets`` verifies both.

What runs in the sandbox: the student's answer cells and any cell they added, plus the
instructor's read-only setup cells (imports, helpers) that do not call a graded function; graded
and visible test cells never run there (see ``coursekit.verdicts.grader.student_cells``).

Example (ps3, from ``fromscratch.rules.PS3``): ``FORBIDDEN = {"*": ("reference",),
"gradients": ("autograd",)}`` bans the course's reference library everywhere and autograd inside
``gradients`` only (``train`` is meant to use autograd).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

from coursekit.verdicts.checks import Check
from coursekit.verdicts.shortcuts import FAMILIES

__all__ = ["ASSIGNMENTS", "banned_families", "load"]


def _discover() -> tuple[str, ...]:
    """The modules of this package that are sets: chapter sets (``chNN_*``) first, then the
    problem sets (``psN_*``), each in number order."""
    folder = Path(__file__).resolve().parent
    names = [p.stem for p in folder.glob("*.py") if re.fullmatch(r"(ch\d\d|ps\d+)_\w+", p.stem)]
    return tuple(sorted(names, key=lambda n: (n.startswith("ps"), int(re.sub(r"\D", "", n[:4])))))


ASSIGNMENTS: tuple[str, ...] = _discover()


def banned_families(module: ModuleType, function: str) -> tuple[str, ...]:
    """Shortcut families banned inside ``function`` (its own entry plus the ``"*"`` entry)."""
    forbidden = module.FORBIDDEN
    names = tuple(forbidden.get("*", ())) + tuple(forbidden.get(function, ()))
    return tuple(dict.fromkeys(names))


def load(assignment_id: str) -> ModuleType:
    """Import ``coursekit.problemsets.<assignment_id>`` and check that it meets the contract.

    Raises:
        ValueError: the id is not a known problem set, or the module breaks the contract.
    """
    if not assignment_id.isidentifier():
        raise ValueError(
            f"{assignment_id!r} is not a problem-set id; expected e.g. 'ps1_power_method'."
        )
    try:
        module = importlib.import_module(f"coursekit.problemsets.{assignment_id}")
    except ModuleNotFoundError as exc:
        if exc.name == f"coursekit.problemsets.{assignment_id}":
            path = f"lib/coursekit/problemsets/{assignment_id}.py"
            raise ValueError(f"No grader module for {assignment_id!r}: add {path}.") from exc
        raise
    _derive_from_rules(module)
    _check_contract(module, assignment_id)
    return module


_FROM_RULES = {"ASSIGNMENT_ID": "assignment_id", "FUNCTIONS": "functions", "FORBIDDEN": "forbidden"}


def _derive_from_rules(module: ModuleType) -> None:
    """Set the contract's names the module leaves out from its ``RULES`` (if it has them)."""
    rules = getattr(module, "RULES", None)
    for name, field in _FROM_RULES.items():
        if not hasattr(module, name) and hasattr(rules, field):
            setattr(module, name, getattr(rules, field))


def _check_contract(module: ModuleType, assignment_id: str) -> None:
    name = module.__name__
    if getattr(module, "ASSIGNMENT_ID", None) != assignment_id:
        raise ValueError(f"{name}.ASSIGNMENT_ID must be {assignment_id!r}.")
    functions = getattr(module, "FUNCTIONS", None)
    if not isinstance(functions, tuple) or not all(isinstance(f, str) for f in functions):
        raise ValueError(f"{name}.FUNCTIONS must be a tuple of function names.")
    forbidden = getattr(module, "FORBIDDEN", None)
    if not isinstance(forbidden, dict):
        raise ValueError(f"{name}.FORBIDDEN must be a dict: function name or '*' -> families.")
    for key, families in forbidden.items():
        if key != "*" and key not in functions:
            raise ValueError(f"{name}.FORBIDDEN names {key!r}, which is not in FUNCTIONS.")
        unknown = set(families) - set(FAMILIES)
        if unknown:
            raise ValueError(
                f"{name}.FORBIDDEN[{key!r}] has unknown families {sorted(unknown)}; "
                f"choose from {sorted(FAMILIES)}."
            )
    checks = getattr(module, "CHECKS", None)
    if not isinstance(checks, list) or not all(isinstance(c, Check) for c in checks):
        raise ValueError(f"{name}.CHECKS must be a list of coursekit.verdicts.checks.Check.")
    ids = [c.grade_id for c in checks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{name}.CHECKS has duplicate grade_ids.")
