"""Small training-loop helpers: minibatch indices, hand-written SGD and Adam steps, and a fit loop.

Conventions: rows are samples, so inputs have shape ``(n, d_in)``; classification targets
are integer labels of shape ``(n,)`` and models return logits of shape ``(n, n_classes)``.
Loss functions are expected to use ``reduction="mean"`` (the torch default).

Nothing here prints. Where a loop is long enough to want a progress bar, the caller passes
``progress``, any callable that wraps an iterable and yields the same items (for example
``lambda it: tqdm(it, file=sys.stdout)``), so that the library needs no tqdm.

Taught in: chapter 8, Optim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch
from torch import nn

Progress = Callable[[Iterable[int]], Iterable[int]]


def minibatches(
    n: int,
    batch_size: int,
    generator: torch.Generator | None = None,
    *,
    shuffle: bool = True,
) -> Iterator[torch.Tensor]:
    """Yield index tensors that split ``range(n)`` into minibatches, once each (one epoch).

    With ``shuffle=True`` the order is a random permutation drawn from ``generator``, so a
    seeded generator gives the same batches on every run (and a fresh order each epoch as
    the generator advances). Every index appears exactly once; all batches have
    ``batch_size`` rows except the last, which keeps the ``n % batch_size`` leftovers rather
    than dropping them.

    Args:
        n: number of samples.
        batch_size: rows per batch, at least 1. ``batch_size=1`` is per-sample SGD and
            ``batch_size >= n`` is full-batch gradient descent.
        generator: the source of randomness; required when ``shuffle`` is true.
        shuffle: draw a random order (``True``) or go through ``0..n-1`` in order.

    Yields:
        int64 index tensors of shape ``(b,)`` with ``b <= batch_size``; use as ``x[idx]``.

    Taught in: chapter 8, Optim (section "Per-sample SGD versus minibatches").
    """
    if n < 0:
        raise ValueError(f"n is the number of samples and cannot be negative, got {n}.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    if shuffle and generator is None:
        raise ValueError(
            "shuffle=True needs a seeded torch.Generator so that the batch order is "
            "reproducible; pass generator=torch.Generator().manual_seed(seed) or shuffle=False."
        )
    if n == 0:
        return  # no samples, no batches (split would yield one empty tensor)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)  # (n,)
    yield from order.split(batch_size)  # tuple of views, each (<= batch_size,)


def sgd_step_(params: Iterable[torch.Tensor], lr: float) -> None:
    """One plain gradient-descent step, in place: ``p <- p - lr * p.grad``, then zero the grad.

    The update runs under ``torch.no_grad()`` so that autograd does not record it (the
    parameters are leaves that require grad, and an in-place op on them while recording is
    an error). It uses ``p.add_(p.grad, alpha=-lr)``, which is the exact operation
    ``torch.optim.SGD`` performs (no momentum, no weight decay), so the two give bit-identical
    parameters. ``p -= lr * p.grad`` rounds ``lr * p.grad`` first and can differ in the last bit.

    Parameters whose ``grad`` is ``None`` (unused in the loss) are skipped. The grads are
    zeroed afterwards because ``backward()`` *adds* into ``.grad``.

    Args:
        params: leaf tensors with ``requires_grad=True``, e.g. ``model.parameters()``.
        lr: the learning rate (step size), ``lr > 0``.

    Taught in: chapter 8, Optim (section "Gradient descent by hand").
    """
    if lr <= 0:
        raise ValueError(f"lr must be positive, got {lr}.")
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p.add_(p.grad, alpha=-lr)  # same shape as p
            p.grad.zero_()


def adam_step_(
    params: Iterable[torch.Tensor],
    state: dict[str, Any],
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> None:
    """One Adam step, in place, following Kingma and Ba (2015) as ``torch.optim.Adam`` does.

    With gradient ``g_t`` at step ``t = 1, 2, ...`` and moments starting at zero::

        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t          (mean of recent gradients)
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t**2       (mean of recent squared gradients)
        m_hat = m_t / (1 - beta1**t),  v_hat = v_t / (1 - beta2**t)   (bias correction)
        p_t = p_{t-1} - lr * m_hat / (sqrt(v_hat) + eps)

    The bias correction undoes the pull towards the zero start: if every ``g_k`` has mean
    ``g`` then ``E[m_t] = (1 - beta1**t) g``. Moments are kept per parameter, elementwise,
    with the parameter's shape. Grads are left as they are (call ``zero_grad`` yourself).

    Args:
        params: leaf tensors with ``.grad`` filled by ``backward()``; pass them in the same
            order at every call (for example ``list(model.parameters())``).
        state: a dict owned by the caller, empty before the first step; this function stores
            ``"step"`` (int), ``"m"`` and ``"v"`` (lists of tensors) in it.
        lr: learning rate. betas: ``(beta1, beta2)`` in ``[0, 1)``. eps: added to the
            denominator for safety when ``v_hat`` is tiny.

    Taught in: chapter 8, Optim (section "Adam").
    """
    params = [p for p in params if p.grad is not None]
    beta1, beta2 = betas
    if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
        raise ValueError(f"betas must both lie in [0, 1), got {betas}.")
    if not state:
        state.update(step=0, m=[torch.zeros_like(p) for p in params])
        state["v"] = [torch.zeros_like(p) for p in params]
    if len(state["m"]) != len(params):
        raise ValueError(
            f"state holds moments for {len(state['m'])} tensors but {len(params)} have grads; "
            "pass the same parameters at every step, or start again with an empty dict."
        )
    state["step"] += 1
    t = state["step"]
    with torch.no_grad():
        for p, m, v in zip(params, state["m"], state["v"], strict=True):
            g = p.grad
            m.mul_(beta1).add_(g, alpha=1 - beta1)  # same shape as p
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # elementwise g * g
            m_hat = m / (1 - beta1**t)
            v_hat = v / (1 - beta2**t)
            p.sub_(lr * m_hat / (v_hat.sqrt() + eps))


def l2_penalty(params: Iterable[torch.Tensor], weight_decay: float) -> torch.Tensor:
    """The L2 regulariser ``(weight_decay / 2) * sum_p ||p||^2`` as a differentiable scalar.

    Its gradient with respect to each ``p`` is ``weight_decay * p``, which is exactly what
    ``torch.optim.SGD(..., weight_decay=weight_decay)`` adds to ``p.grad``. So plain SGD on
    ``loss + l2_penalty(params, lam)`` takes the same steps as SGD with ``weight_decay=lam``
    on ``loss`` alone. Note the 1/2: without it the equivalent ``weight_decay`` is ``2 * lam``.

    Args:
        params: the tensors to penalise (usually weights only, not biases).
        weight_decay: ``lambda >= 0``.

    Returns:
        A 0-d tensor.

    Taught in: chapter 8, Optim (section "L2 regularisation").
    """
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be non-negative, got {weight_decay}.")
    total = sum(((p * p).sum() for p in params), start=torch.zeros(()))
    return 0.5 * weight_decay * total


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose largest logit is at the true label.

    Args:
        logits: ``(n, n_classes)`` scores (or probabilities; only the argmax matters).
        labels: ``(n,)`` integer class indices.

    Returns:
        A Python float in ``[0, 1]``. Ties are broken towards the lowest class index, as
        ``torch.argmax`` does.

    Taught in: chapter 8, Optim (section "A digits classifier").
    """
    if logits.ndim != 2 or labels.ndim != 1 or logits.shape[0] != labels.shape[0]:
        raise ValueError(
            "accuracy needs logits of shape (n, n_classes) and labels of shape (n,), got "
            f"{tuple(logits.shape)} and {tuple(labels.shape)}."
        )
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}.")
    if labels.numel() == 0:
        raise ValueError("accuracy of zero samples is undefined; pass at least one row.")
    predicted = logits.argmax(dim=1)  # (n, n_classes) -> (n,)
    return (predicted == labels).double().mean().item()


def _check_xy(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"x and y must have the same number of rows (samples), got {x.shape[0]} and "
            f"{y.shape[0]}."
        )


def train_epoch(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One pass over the data in shuffled minibatches: zero_grad, forward, backward, step.

    Args:
        model: maps ``x[idx]`` of shape ``(b, ...)`` to predictions ``(b, ...)``.
        loss_fn: mean-reduced loss ``loss_fn(prediction, target) -> 0-d tensor``.
        optimizer: any ``torch.optim`` optimiser over ``model``'s parameters.
        x: inputs ``(n, ...)``. y: targets ``(n, ...)``.
        batch_size: rows per update; the last batch may be smaller.
        generator: seeded generator for the shuffle.

    Returns:
        The mean of the minibatch losses weighted by batch size, i.e. the average per-sample
        loss seen during the epoch (each measured *before* its own update).

    Taught in: chapter 8, Optim (section "A digits classifier").
    """
    _check_xy(x, y)
    model.train()
    total, n = 0.0, x.shape[0]
    for idx in minibatches(n, batch_size, generator):
        optimizer.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])  # x[idx]: (b, ...)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)  # undo the mean so partial batches weigh less
    return total / n


def evaluate(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    labels: torch.Tensor,
) -> tuple[float, float]:
    """Mean loss and accuracy of a classifier on ``(x, labels)``, without recording gradients.

    The model is put in eval mode for the pass and returned to the mode it was in.

    Args:
        x: inputs ``(n, ...)``; ``model(x)`` must give logits ``(n, n_classes)``.
        labels: ``(n,)`` integer class indices.

    Returns:
        ``(loss, accuracy)`` as Python floats.

    Taught in: chapter 8, Optim (section "A digits classifier").
    """
    _check_xy(x, labels)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(x)  # (n, n_classes)
        loss = loss_fn(logits, labels).item()
    model.train(was_training)
    return loss, accuracy(logits, labels)


def fit(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    progress: Progress | None = None,
) -> dict[str, list[float]]:
    """Train a classifier for ``epochs`` epochs and record loss and accuracy after each.

    After every epoch the *whole* training set and the test set are evaluated with the same
    parameters (:func:`evaluate`), so the train and test curves compare like with like.

    Args:
        model, loss_fn, optimizer: as in :func:`train_epoch`.
        data: ``(x_train, y_train, x_test, y_test)`` with integer labels, e.g. the output
            of ``fromscratch.data.digits()``.
        epochs: number of passes over the training set.
        batch_size: rows per update.
        generator: seeded generator for the shuffles.
        progress: optional wrapper for the epoch loop, e.g. a tqdm constructor.

    Returns:
        ``{"train_loss", "test_loss", "train_acc", "test_acc"}``, each a list of ``epochs``
        floats.

    Taught in: chapter 8, Optim (section "A digits classifier").
    """
    x_train, y_train, x_test, y_test = data
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}.")
    history: dict[str, list[float]] = {
        "train_loss": [],
        "test_loss": [],
        "train_acc": [],
        "test_acc": [],
    }
    epoch_iter: Iterable[int] = range(epochs)
    if progress is not None:
        epoch_iter = progress(epoch_iter)
    for _ in epoch_iter:
        train_epoch(model, loss_fn, optimizer, x_train, y_train, batch_size, generator)
        for split, (xs, ys) in (("train", (x_train, y_train)), ("test", (x_test, y_test))):
            loss, acc = evaluate(model, loss_fn, xs, ys)
            history[f"{split}_loss"].append(loss)
            history[f"{split}_acc"].append(acc)
    return history
