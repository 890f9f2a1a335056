"""Checking gradients numerically: central finite differences and relative errors.

For a scalar function ``f`` and a small step ``eps``, Taylor's theorem gives

    f(t + eps) - f(t - eps) = 2 eps f'(t) + (eps^3 / 3) f'''(t) + O(eps^5),

so the central difference ``(f(t + eps) - f(t - eps)) / (2 eps)`` is off by about
``eps^2 f'''(t) / 6`` (truncation). Rounding adds about ``machine_eps * |f| / eps``. In float64
(``machine_eps ~ 1.1e-16``) ``eps = 1e-6`` keeps both near ``1e-10`` or below, which is why
everything here is computed on float64 copies.

Gradients are compared with the relative error ``||a - n|| / (||a|| + ||n||)`` per parameter
tensor: it is 0 for a perfect match, 1/3 when one is twice the other, and 1 when they point
in opposite directions, whatever the scale of the gradient.

Taught in: chapter 5, The backward pass, by hand (section "Check 2: finite differences");
used again in chapter 6, Autograd.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.autograd.gradcheck import GradcheckError

_TINY = torch.finfo(torch.float64).tiny


def _as_list(params: torch.Tensor | Sequence[torch.Tensor]) -> list[torch.Tensor]:
    return [params] if isinstance(params, torch.Tensor) else list(params)


def finite_difference_grads(
    f: Callable[..., torch.Tensor | float],
    params: torch.Tensor | Sequence[torch.Tensor],
    eps: float = 1e-6,
) -> list[torch.Tensor]:
    """Central-difference gradient of a scalar function, one entry at a time, in float64.

    ``f`` is called as ``f(*params)`` (like ``torch.autograd.gradcheck``) on float64 copies,
    so any data ``f`` closes over must be float64 too. Each entry ``t`` of each parameter is
    nudged to ``t + eps`` and ``t - eps``: that is ``2 * (total number of entries)`` calls of
    ``f``, so keep the parameters small. The caller's tensors are never modified.

    Args:
        f: function of the parameters returning a scalar (0-dim tensor or float).
        params: the tensors to differentiate with respect to (one tensor or a sequence).
        eps: the step; ``1e-6`` suits float64.

    Returns:
        One float64 tensor per parameter, with that parameter's shape.

    Taught in: chapter 5, The backward pass, by hand.
    """
    copies = [
        p.detach().to(torch.float64).clone(memory_format=torch.contiguous_format)
        for p in _as_list(params)
    ]  # contiguous copies, so that .view(-1) below is always possible

    def evaluate() -> float:
        value = f(*copies)
        if isinstance(value, torch.Tensor) and value.numel() != 1:
            raise ValueError(
                f"f must return a scalar, got a tensor of shape {tuple(value.shape)}; "
                f"reduce it first, e.g. with .sum()."
            )
        return float(value)

    grads = []
    with torch.no_grad():
        for p in copies:
            flat = p.view(-1)  # a view: writing flat[k] changes p, which f sees
            grad = torch.empty_like(flat)
            for k in range(flat.numel()):
                original = flat[k].item()
                flat[k] = original + eps
                f_plus = evaluate()
                flat[k] = original - eps
                f_minus = evaluate()
                flat[k] = original
                grad[k] = (f_plus - f_minus) / (2 * eps)
            grads.append(grad.view(p.shape))  # (numel,) -> shape of the parameter
    return grads


def relative_errors(
    analytic: Sequence[torch.Tensor], numeric: Sequence[torch.Tensor]
) -> list[float]:
    """``||a - n|| / max(||a|| + ||n||, tiny)`` for each pair, in float64 (Frobenius norms).

    Args:
        analytic: gradients from a formula or from autograd.
        numeric: gradients from :func:`finite_difference_grads` (same shapes).

    Returns:
        One float per pair: 0 when equal, 1/3 when one is twice the other, at most 1.

    Taught in: chapter 5, The backward pass, by hand.
    """
    analytic, numeric = _as_list(analytic), _as_list(numeric)
    if len(analytic) != len(numeric):
        raise ValueError(
            f"got {len(analytic)} analytic and {len(numeric)} numeric gradients; "
            f"pass one of each per parameter, in the same order."
        )
    errors = []
    for i, (a, n) in enumerate(zip(analytic, numeric, strict=True)):
        if a.shape != n.shape:
            raise ValueError(
                f"gradient {i}: analytic shape {tuple(a.shape)} differs from numeric shape "
                f"{tuple(n.shape)}; a gradient must have the shape of its parameter."
            )
        a64, n64 = a.detach().to(torch.float64), n.detach().to(torch.float64)
        denominator = max((a64.norm() + n64.norm()).item(), _TINY)
        errors.append((a64 - n64).norm().item() / denominator)
    return errors


def check_gradients(
    f: Callable[..., torch.Tensor | float],
    params: torch.Tensor | Sequence[torch.Tensor],
    analytic_grads: torch.Tensor | Sequence[torch.Tensor],
    names: Sequence[str] | None = None,
    tol: float = 1e-6,
    eps: float = 1e-6,
) -> dict[str, float]:
    """Compare analytic gradients with central finite differences of ``f(*params)``.

    Args:
        f: scalar function of the parameters (see :func:`finite_difference_grads`).
        params: the parameters, one tensor or a sequence.
        analytic_grads: the gradients to check, aligned with ``params``.
        names: a name per parameter for the report (default ``"param0"``, ``"param1"``, ...).
        tol: the largest relative error accepted.
        eps: the finite-difference step.

    Returns:
        ``{name: relative error}`` for every parameter, in order.

    Raises:
        AssertionError: naming the worst parameter, if any relative error exceeds ``tol``.

    Taught in: chapter 5, The backward pass, by hand.
    """
    params = _as_list(params)
    names = [f"param{i}" for i in range(len(params))] if names is None else list(names)
    if len(names) != len(params):
        raise ValueError(f"got {len(names)} names for {len(params)} parameters; give one each.")
    numeric = finite_difference_grads(f, params, eps=eps)
    errors = dict(zip(names, relative_errors(_as_list(analytic_grads), numeric), strict=True))
    worst = max(errors, key=errors.get)
    if errors[worst] > tol:
        table = ", ".join(f"{name}: {err:.1e}" for name, err in errors.items())
        raise AssertionError(
            f"gradient check failed: the gradient of {worst!r} has relative error "
            f"{errors[worst]:.2e} > tol {tol:.0e} against finite differences ({table})."
        )
    return errors


def _describe(fn: Callable) -> str:
    """A readable name: ``MyFunction.apply`` for an autograd.Function, else the qualname."""
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):
        return f"{owner.__name__}.{fn.__name__}"  # e.g. MyReLU.apply
    return getattr(fn, "__qualname__", None) or repr(fn)


def autograd_gradcheck(
    fn: Callable[..., torch.Tensor],
    inputs: torch.Tensor | Sequence[torch.Tensor],
    **kw,
) -> bool:
    """``torch.autograd.gradcheck`` on float64 copies of the inputs, with a readable error.

    Floating-point inputs are copied to float64 leaves with ``requires_grad=True`` (gradcheck
    needs double precision to be meaningful); other inputs are passed through unchanged.
    Keyword arguments (``eps``, ``atol``, ``rtol``, ...) go to ``torch.autograd.gradcheck``.

    Returns:
        ``True`` if the check passes.

    Raises:
        AssertionError: saying which function failed and why, if the check fails.

    Taught in: chapter 6, Autograd (used to check custom ``autograd.Function`` backwards).
    """
    prepared = tuple(
        x.detach().to(torch.float64).clone().requires_grad_(True)
        if isinstance(x, torch.Tensor) and x.is_floating_point()
        else x
        for x in _as_list(inputs)
    )
    name = _describe(fn)
    try:
        return bool(torch.autograd.gradcheck(fn, prepared, **kw))
    except GradcheckError as err:
        detail = " ".join(str(err).split())[:800]  # one line, without torch's line breaks
        shapes = [tuple(x.shape) for x in prepared if isinstance(x, torch.Tensor)]
        raise AssertionError(
            f"autograd_gradcheck: the backward of {name} disagrees with finite differences "
            f"(float64 inputs of shapes {shapes}). torch says: {detail}"
        ) from err
