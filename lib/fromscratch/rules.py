"""The public rules of the problem sets: what grading forbids, and the tolerances it uses.

This is the one place these rules live. The *Rules* cell of every problem-set notebook states
them, ``fromscratch.check.check()`` applies them in your notebook, and the course's grader
imports them from here, so what you read is what grading uses.

Families of forbidden routines (a function may not call any routine of a family it bans):

- ``spectral``: routines that compute eigenvalues or singular values (``torch.linalg.eig*``,
  ``torch.linalg.svd*``, ``torch.svd``, ``torch.lobpcg``, matrix 2-norms and nuclear norms,
  NumPy's and SciPy's eigen/SVD routines).
- ``autograd``: automatic differentiation (``backward()``, ``torch.autograd``, ``torch.func``).
- ``reference``: the course's own packages (``fromscratch``, the course tooling).
- the chapter exercises' families of ready-made torch routines (``strides``, ``expand``,
  ``matmul``, ``dot``, ``einsum``, ``layers``, ``init``, ``optim``): the routines each covers
  are listed by public name in ``fromscratch.traps.API_FAMILIES``.

Tolerances are relative unless named ``ATOL``; "relative to ‖A‖_F" means
``‖result − expected‖_F / ‖A‖_F``.

Taught in: the chapters' Exercises sections and the problem sets (the Exercises part of the book).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FAMILY_TEXT", "RULES", "SetRules"]

FAMILY_TEXT: dict[str, str] = {
    "spectral": "computes eigenvalues or singular values directly",
    "autograd": "uses automatic differentiation",
    "reference": "uses the course's own reference code",
    "strides": "reads strides or offsets from a tensor (Tensor.stride, Tensor.storage_offset)",
    "expand": "broadcasts with torch's own routines (expand, broadcast_to, broadcast_tensors,"
    " broadcast_shapes)",
    "matmul": "multiplies matrices with a ready-made routine (@, torch.matmul, mm, bmm, mv,"
    " tensordot, F.linear, ...)",
    "dot": "takes dot products with a ready-made routine (torch.dot, vdot, inner, @ of two"
    " vectors)",
    "einsum": "uses torch.einsum",
    "layers": "uses torch's ready-made layer functions (F.linear, F.relu, torch.relu, F.mse_loss)",
    "init": "uses torch.nn.init",
    "optim": "uses torch.optim's optimisers",
}


@dataclass(frozen=True)
class SetRules:
    """The public rules of one problem set.

    Attributes:
        assignment_id: The problem set's id, e.g. "ps1_power_method".
        functions: The graded functions, in notebook order.
        forbidden: Function name (or "*" for every graded function) -> banned families.
        tolerances: Name -> number, e.g. {"float32": 1e-5, "float64": 1e-10}.
        partial_credit_per_case: True if a part with n cases earns k/n of its points when k
            cases pass.
    """

    assignment_id: str
    functions: tuple[str, ...]
    forbidden: dict[str, tuple[str, ...]]
    tolerances: dict[str, float]
    partial_credit_per_case: bool = True

    def banned(self, function: str) -> tuple[str, ...]:
        """Families banned inside ``function`` (its own entry plus the "*" entry)."""
        names = tuple(self.forbidden.get("*", ())) + tuple(self.forbidden.get(function, ()))
        return tuple(dict.fromkeys(names))


# ps1: |estimate − λ₁| ≤ rtol · λ₁ (derivation in the notebook's Rules cell and the grader).
PS1 = SetRules(
    assignment_id="ps1_power_method",
    functions=("power_method",),
    forbidden={"power_method": ("spectral", "reference")},
    tolerances={"float32": 1e-5, "float64": 1e-10},
)

# ps2: ‖result − A_r‖_F ≤ tol · ‖A‖_F; the rank counts singular values above rank_tol · σ₁(A).
PS2 = SetRules(
    assignment_id="ps2_low_rank",
    functions=("best_rank_approximation",),
    forbidden={"*": ("reference",)},
    tolerances={
        "float32": 1e-4,
        "float64": 1e-10,
        "rank_float32": 1e-4,
        "rank_float64": 1e-8,
    },
)

# ps3: ‖result − expected‖ ≤ tol · ‖expected‖ (norm-wise), sigmoid values within an absolute
# tolerance (sigmoid_atol_*).
PS3 = SetRules(
    assignment_id="ps3_mlp_gd",
    functions=("sigmoid", "forward", "mse_loss", "gradients", "train"),
    forbidden={"*": ("reference",), "gradients": ("autograd",)},
    tolerances={
        "float32": 1e-4,
        "float64": 1e-9,
        "sigmoid_atol_float32": 1e-6,
        "sigmoid_atol_float64": 1e-12,
    },
)

# ----------------------------------------------------------------------------- chapter sets
# One set per chapter (the chapter's Exercises section links it). Each entry belongs to its set's
# grader (coursekit.problemsets.<id>) and self-check (fromscratch.selfcheck.<id>).

# ch01: strides and offsets are integers: exact.
CH01 = SetRules(
    assignment_id="ch01_tensors",
    functions=("contiguous_strides", "transpose_view", "slice_view", "element_offset"),
    forbidden={"*": ("reference", "strides")},
    tolerances={},
)

CH02 = SetRules(
    assignment_id="ch02_broadcasting",
    functions=("broadcast_shape", "broadcast_by_strides", "pairwise_sq_distances"),
    forbidden={"*": ("reference", "expand"), "pairwise_sq_distances": ("matmul", "dot", "einsum")},
    tolerances={"float32": 1e-5, "float64": 1e-12},
)

CH03 = SetRules(
    assignment_id="ch03_matmul",
    functions=("matmul_loops", "matmul_broadcast", "matmul_einsum"),
    forbidden={
        "*": ("reference",),
        "matmul_loops": ("matmul", "einsum"),
        "matmul_broadcast": ("matmul", "dot", "einsum"),
        "matmul_einsum": ("matmul", "dot"),
    },
    tolerances={"bound_factor": 1.0},
)

CH04 = SetRules(
    assignment_id="ch04_forward",
    functions=("linear", "relu", "kaiming_init"),
    forbidden={"*": ("reference", "layers", "init")},
    tolerances={"float32": 1e-5, "float64": 1e-12},
)

# ch05: every returned gradient within tol · ‖expected‖ (Frobenius), the expected one by autograd in
# float64; hidden inputs keep the worst-case rounding of an honest computation below tol / 10.
CH05 = SetRules(
    assignment_id="ch05_backward",
    functions=("mse_backward", "relu_backward", "linear_backward"),
    forbidden={"*": ("reference", "autograd")},
    tolerances={"float32": 1e-4, "float64": 1e-12},
)

# ch06: softplus values and gradients elementwise within float64 (relative); Value's data and
# grads within float64 · max(1, |torch's value|); a central difference within
# central_difference · max(1, ‖∇f‖∞) of the exact gradient (derivations in the Rules cell).
CH06 = SetRules(
    assignment_id="ch06_autograd",
    functions=("SoftplusFunction", "central_difference", "Value"),
    forbidden={"*": ("reference",), "central_difference": ("autograd",), "Value": ("autograd",)},
    tolerances={"float64": 1e-10, "central_difference": 1e-6},
)

# ch07: MLP's forward within tol · Aᴸ entry by entry, Aᴸ the output of the same network with |x|,
# |W|, |b| and no ReLU (rounding ≤ L·(d_max + 1)·u·Aᴸ ≤ 36u for L ≤ 4 layers of width ≤ 8);
# parameter names, shapes, counts and cloned states exactly.
CH07 = SetRules(
    assignment_id="ch07_nn",
    functions=("MLP", "count_parameters", "clone_via_state_dict"),
    forbidden={"*": ("reference",)},
    tolerances={"float32": 1e-5, "float64": 1e-12},
)

# ch08: a step is compared with torch.optim's step in float64, the error relative to the size of
# the update: ‖p − p_torch‖ ≤ step · ‖p_torch − p_before‖ (likewise for the optimiser's state);
# the training loop must end within loss_excess (1 %) of the least-squares optimum.
CH08 = SetRules(
    assignment_id="ch08_optim",
    functions=("sgd_momentum_step", "adam_step", "training_loop"),
    forbidden={"*": ("reference", "optim")},
    tolerances={"step": 1e-9, "loss_excess": 0.01},
)

CHAPTER_SETS = (CH01, CH02, CH03, CH04, CH05, CH06, CH07, CH08)
RULES: dict[str, SetRules] = {r.assignment_id: r for r in (*CHAPTER_SETS, PS1, PS2, PS3)}
