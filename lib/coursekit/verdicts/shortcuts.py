"""The vocabulary of shortcuts: families of routines a problem set can ban inside a function.

``FORBIDDEN`` in a problem-set module maps a graded function to family names from ``FAMILIES``.
Static analysis (``coursekit.verdicts.static``) and the sandbox's runtime traps
(``coursekit.verdicts.sandbox_child``) both report findings tagged with these families, so either
one catches a shortcut, whatever alias the student imported it under.

Families:
    spectral   routines that compute eigenvalues or singular values: torch.linalg.eig*/svd*,
               torch.svd, torch.lobpcg, torch.pca_lowrank / svd_lowrank, matrix 2-norms and
               nuclear norms (torch.linalg.matrix_norm / norm with ord 2, -2 or "nuc",
               torch.linalg.cond, matrix_rank, pinv), and NumPy's and SciPy's linalg.
    autograd   automatic differentiation: backward(), torch.autograd.*, torch.func transforms,
               forward-mode AD, reading .grad, requires_grad.
    reference  the course's own packages: fromscratch (the reference implementations) and
               coursekit (the graders).
    tampering  always banned, whatever FORBIDDEN says: interpreter introspection and obfuscated
               lookups that could hide a shortcut or forge the sandbox's replies (frame and
               closure introspection, gc, ctypes, sys.modules, eval/exec/compile, __import__,
               importlib, getattr with a computed name, torch internals such as torch._C and
               dispatch-mode control, os-level writes/exits/signals).
"""

from __future__ import annotations

__all__ = ["ALWAYS", "FAMILIES"]

FAMILIES: dict[str, str] = {
    "spectral": "computes eigenvalues or singular values directly",
    "autograd": "uses automatic differentiation",
    "reference": "uses the course's own reference code",
    "tampering": "inspects or patches the interpreter or the grader",
}

# Families banned in every graded function of every problem set.
ALWAYS: tuple[str, ...] = ("tampering",)
