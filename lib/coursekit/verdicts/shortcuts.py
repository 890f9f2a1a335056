"""The vocabulary of shortcuts: families of routines a problem set can ban inside a function.

``FORBIDDEN`` in a problem-set module maps a graded function to family names from ``FAMILIES``.
A part loses points for a family only when the sandbox's runtime traps
(``fromscratch.traps``) saw such a routine run during the graded call, whatever alias,
helper or library reached it. Static analysis (``coursekit.verdicts.static``) tags what it sees
with the same families, but that is evidence for a person (``Verdict.review``), never a zero.

Families:
    spectral   routines that compute eigenvalues or singular values: every eigen/SVD kernel of
               torch (aten ``*eig*``, ``*svd*``, ``lobpcg``), NumPy's ``_umath_linalg`` and SciPy's
               LAPACK/ARPACK/PROPACK wrappers (scikit-learn reaches them through SciPy/NumPy).
               Matrix norms of a one-row or one-column matrix are vector norms, and allowed.
    autograd   the autograd engine ran (a backward pass) or forward-mode AD was used.
    reference  a function of the course's own packages (fromscratch, coursekit) ran.
    strides, expand, matmul, dot, einsum, layers, init, optim
               a ready-made torch routine that a chapter exercise asks you to write yourself
               ran (by public name: ``fromscratch.traps.API_FAMILIES``).
    tampering  always banned, whatever FORBIDDEN says: proof that the call disturbed the
               observation itself (torch's mode stack changed, a trap was removed or replaced,
               a forged reply on the wire).
"""

from __future__ import annotations

from fromscratch.rules import FAMILY_TEXT

__all__ = ["ALWAYS", "FAMILIES"]

FAMILIES: dict[str, str] = {
    **FAMILY_TEXT,  # the public families (the Rules cells state them)
    "tampering": "changes how the grader observes it",
}

# Families banned in every graded function of every problem set.
ALWAYS: tuple[str, ...] = ("tampering",)
