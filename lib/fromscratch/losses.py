"""Classification losses from scratch: softmax, log-sum-exp, log-softmax, NLL and cross-entropy.

Conventions: a batch of ``n`` samples and ``C`` classes gives *logits* ``z`` of shape ``(n, C)``
(one row per sample, any real numbers) and integer labels ``y`` of shape ``(n,)`` with values
in ``0..C-1``. The softmax of a row is ``p_j = exp(z_j) / sum_k exp(z_k)``, a probability vector.

Stability rests on one identity: for any constant ``m``,
``log sum_k exp(z_k) = m + log sum_k exp(z_k - m)``. With ``m = max_k z_k`` every exponent is
at most 0 (no overflow) and one of them is exactly 0, so the sum lies in ``[1, C]`` and its
log is finite (no ``log 0``).

The mean cross-entropy ``L = -(1/n) sum_i log p_{i, y_i}`` has the gradient
``dL/dz = (softmax(z) - onehot(y)) / n``, shape ``(n, C)`` (derived in the chapter).

Taught in: chapter 9, A complete classifier (sections "Softmax and log-sum-exp" to
"The gradient of cross-entropy").
"""

from __future__ import annotations

import torch


def _check_logits_labels(logits: torch.Tensor, labels: torch.Tensor) -> None:
    """Raise a readable error unless ``logits`` is ``(n, C)`` float and ``labels`` is ``(n,)``."""
    if logits.dim() != 2:
        raise ValueError(
            f"logits must have shape (n, C), one row of class scores per sample; got shape "
            f"{tuple(logits.shape)}. For a single sample use logits.unsqueeze(0)."
        )
    if not logits.is_floating_point():
        raise TypeError(f"logits must be floating point, got {logits.dtype}; use .float().")
    if labels.dim() != 1 or labels.shape[0] != logits.shape[0]:
        raise ValueError(
            f"labels must have shape (n,) = ({logits.shape[0]},), one class index per row of "
            f"the logits; got shape {tuple(labels.shape)}."
        )
    if labels.dtype != torch.int64:
        raise TypeError(
            f"labels must be int64 class indices, got {labels.dtype}; use labels.long() "
            f"(one-hot or float targets are a different loss)."
        )
    n_classes = logits.shape[1]
    if labels.numel() and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} for logits with {n_classes} columns; got "
            f"values from {int(labels.min())} to {int(labels.max())}."
        )


def softmax_naive(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``exp(z) / exp(z).sum(dim)`` exactly as the formula reads. Overflows: do not use.

    In float32 ``exp`` overflows to ``inf`` for arguments above about 88.7, and then
    ``inf / inf`` is ``nan``. Kept so that the chapter can show the failure.

    Taught in: chapter 9, A complete classifier (section "Softmax and log-sum-exp").
    """
    e = logits.exp()
    return e / e.sum(dim=dim, keepdim=True)


def logsumexp(x: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """``log(sum(exp(x), dim))`` computed as ``m + log(sum(exp(x - m)))`` with ``m = max(x)``.

    Rows whose maximum is infinite (all ``-inf``, or a ``+inf``) are shifted by 0 instead, so
    they give ``-inf`` or ``inf`` rather than ``nan`` (as ``torch.logsumexp`` does).

    Args:
        x: any floating tensor.
        dim: the dimension to reduce.
        keepdim: keep ``dim`` with size 1, e.g. ``(n, C) -> (n, 1)`` instead of ``(n,)``.

    Taught in: chapter 9, A complete classifier (section "Softmax and log-sum-exp").
    """
    m = x.amax(dim=dim, keepdim=True)  # (n, 1) for x of shape (n, C) and dim=-1
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m)).detach()  # a constant shift
    out = m + (x - m).exp().sum(dim=dim, keepdim=True).log()  # (n, 1)
    return out if keepdim else out.squeeze(dim)


def log_softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """``log softmax(z) = z - logsumexp(z)``, without ever forming ``softmax(z)``.

    ``log(softmax(z))`` underflows: a probability below about ``1e-45`` is 0 in float32 and
    its log is ``-inf``, while ``z_j - logsumexp(z)`` stays finite.

    Taught in: chapter 9, A complete classifier (section "Softmax and log-sum-exp").
    """
    return logits - logsumexp(logits, dim=dim, keepdim=True)  # (n, C) - (n, 1) -> (n, C)


def softmax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """The softmax along ``dim``, shifted by the maximum first so that nothing overflows.

    ``softmax(z + c) = softmax(z)`` for any constant ``c`` (the factor ``exp(c)`` cancels), so
    subtracting the row maximum changes nothing mathematically and keeps ``exp`` in ``(0, 1]``.

    Taught in: chapter 9, A complete classifier (section "Softmax and log-sum-exp").
    """
    shifted = logits - logits.amax(dim=dim, keepdim=True)  # (n, C) - (n, 1): max 0 per row
    e = shifted.exp()  # entries in (0, 1], at least one equal to 1 per row
    return e / e.sum(dim=dim, keepdim=True)  # (n, C) / (n, 1) -> (n, C)


def nll_loss(log_probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood: ``-(1/n) sum_i log_probs[i, labels[i]]``.

    The entry of the true class is picked in each row with *paired* integer indexing,
    ``log_probs[torch.arange(n), labels]`` of shape ``(n,)``. (``log_probs[:, labels]`` would
    pick every label's column for every row, an ``(n, n)`` matrix.)

    Args:
        log_probs: ``(n, C)`` log-probabilities, e.g. from :func:`log_softmax`.
        labels: ``(n,)`` int64 class indices.

    Returns:
        A 0-d tensor, equal to ``torch.nn.functional.nll_loss(log_probs, labels)``.

    Taught in: chapter 9, A complete classifier (section "Cross-entropy and NLL").
    """
    _check_logits_labels(log_probs, labels)
    n = log_probs.shape[0]
    picked = log_probs[torch.arange(n, device=log_probs.device), labels]  # (n,)
    return -picked.mean()


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of raw logits: ``nll_loss(log_softmax(logits), labels)``.

    Takes *logits*, not probabilities: applying a softmax first and then this loss is a
    common mistake (it computes a different, flatter loss).

    Args:
        logits: ``(n, C)`` raw scores.
        labels: ``(n,)`` int64 class indices.

    Returns:
        A 0-d tensor, equal to ``torch.nn.functional.cross_entropy(logits, labels)``.

    Taught in: chapter 9, A complete classifier (section "Cross-entropy and NLL").
    """
    _check_logits_labels(logits, labels)
    return nll_loss(log_softmax(logits, dim=1), labels)


def one_hot(
    labels: torch.Tensor, n_classes: int, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """``(n,)`` class indices to an ``(n, C)`` matrix with a single 1 per row.

    Taught in: chapter 9, A complete classifier (section "The gradient of cross-entropy").
    """
    if labels.dim() != 1:
        raise ValueError(f"labels must have shape (n,), got {tuple(labels.shape)}.")
    out = torch.zeros(labels.shape[0], n_classes, dtype=dtype, device=labels.device)  # (n, C)
    out[torch.arange(labels.shape[0], device=labels.device), labels] = 1
    return out


def cross_entropy_backward(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Gradient of the mean cross-entropy with respect to the logits: ``(softmax - onehot) / n``.

    For row ``i``, ``l_i = -z_{i,y_i} + logsumexp(z_i)``, so
    ``dl_i/dz_ij = -[j = y_i] + softmax(z_i)_j``; the mean over ``n`` rows divides by ``n``.

    Args:
        logits: ``(n, C)`` raw scores.
        labels: ``(n,)`` int64 class indices.

    Returns:
        ``(n, C)``, the shape of ``logits``; each row sums to 0.

    Taught in: chapter 9, A complete classifier (section "The gradient of cross-entropy").
    """
    _check_logits_labels(logits, labels)
    n, n_classes = logits.shape
    targets = one_hot(labels, n_classes, dtype=logits.dtype)  # (n, C)
    return (softmax(logits, dim=1) - targets) / n  # (n, C)
