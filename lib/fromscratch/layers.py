"""Layers written by hand: forward passes (chapter 4) and their backward passes (chapter 5).

Convention: rows are samples. A batch ``x`` has shape ``(n, d_in)``; a linear layer stores
``w`` as ``(d_in, d_out)`` and ``b`` as ``(d_out,)`` and computes ``x @ w + b``. (``nn.Linear``
stores the transpose, ``weight`` of shape ``(d_out, d_in)``, and computes ``x @ weight.T + b``;
our ``w`` is its ``weight.T``.)

Every backward takes ``grad_out = dL/d(output)``, which has the shape of the output, and
returns ``dL/d(input)``, which has the shape of the input. Nothing here uses autograd: the
tests check every backward against autograd and against finite differences.

Taught in: chapter 4, The forward pass (functions ``linear``, ``relu``, ``mse`` and the layer
classes' ``__call__``); chapter 5, The backward pass, by hand (every ``*_backward`` and
``backward`` method, and ``Model``).
"""

from __future__ import annotations

import torch

from fromscratch.init import kaiming_normal

# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------


def _check_weights(w: torch.Tensor, b: torch.Tensor) -> None:
    """Raise a ValueError unless w is a (d_in, d_out) matrix and b a (d_out,) vector."""
    if w.dim() != 2:
        raise ValueError(f"w must be a 2-D (d_in, d_out) matrix, got shape {tuple(w.shape)}.")
    if b.shape != (w.shape[1],):
        raise ValueError(
            f"b must have shape (d_out,) = ({w.shape[1]},) to match w {tuple(w.shape)}, "
            f"got {tuple(b.shape)}; one bias per output feature, broadcast over the rows."
        )


def _check_input(x: torch.Tensor, w: torch.Tensor) -> None:
    """Raise a ValueError unless the last axis of x has d_in = w.shape[0] features."""
    if w.dim() != 2:
        raise ValueError(f"w must be a 2-D (d_in, d_out) matrix, got shape {tuple(w.shape)}.")
    if x.dim() < 1 or x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"x has shape {tuple(x.shape)} but w has shape {tuple(w.shape)}: the last axis of x "
            f"must equal w.shape[0] (d_in). Weights here are stored (d_in, d_out); if w comes "
            f"from nn.Linear, whose weight is (d_out, d_in), pass weight.T."
        )


def linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Affine layer, rows as samples: ``z = x @ w + b``.

    In indices, ``z_ij = sum_k x_ik w_kj + b_j``: row ``i`` of the output depends on row
    ``i`` of the input only. A single sample of shape ``(d_in,)`` works too and gives
    ``(d_out,)``; more leading axes ``(..., d_in)`` give ``(..., d_out)``.

    Args:
        x: inputs, shape ``(n, d_in)``.
        w: weights, shape ``(d_in, d_out)``.
        b: bias, shape ``(d_out,)``.

    Returns:
        ``z`` of shape ``(n, d_out)``.

    Taught in: chapter 4, The forward pass.
    """
    _check_input(x, w)
    _check_weights(w, b)
    return x @ w + b  # (n, d_in) @ (d_in, d_out) -> (n, d_out); + (d_out,) broadcasts over rows


def linear_backward(
    x: torch.Tensor, w: torch.Tensor, grad_out: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of a scalar loss through ``z = x @ w + b``, given ``G = dL/dz``.

    From ``z_ij = sum_k x_ik w_kj + b_j`` and the chain rule:

    - ``dL/dw_pq = sum_i x_ip G_iq``, i.e. ``dL/dw = x^T @ G``: ``(d_in, n) @ (n, d_out)``;
    - ``dL/db_q = sum_i G_iq``: the bias was broadcast over the rows, so its gradient sums
      over the rows;
    - ``dL/dx_ip = sum_j G_ij w_pj``, i.e. ``dL/dx = G @ w^T``: ``(n, d_out) @ (d_out, d_in)``.

    The bias value is not needed. Inputs with extra leading axes (or a single ``(d_in,)``
    sample) are flattened to rows first, since every row contributes to ``dL/dw`` and ``dL/db``.

    Args:
        x: the layer's input from the forward pass, shape ``(n, d_in)``.
        w: weights, shape ``(d_in, d_out)``.
        grad_out: ``G = dL/dz``, shape ``(n, d_out)``.

    Returns:
        ``(grad_x, grad_w, grad_b)`` with shapes ``(n, d_in)``, ``(d_in, d_out)``, ``(d_out,)``.

    Taught in: chapter 5, The backward pass, by hand.
    """
    _check_input(x, w)
    if grad_out.shape != (*x.shape[:-1], w.shape[1]):
        raise ValueError(
            f"grad_out must have the shape of the layer's output {(*x.shape[:-1], w.shape[1])}, "
            f"got {tuple(grad_out.shape)}."
        )
    x_rows = x.reshape(-1, w.shape[0])  # (..., d_in) -> (n, d_in)
    g_rows = grad_out.reshape(-1, w.shape[1])  # (..., d_out) -> (n, d_out)
    grad_x = grad_out @ w.T  # (n, d_out) @ (d_out, d_in) -> (n, d_in)
    grad_w = x_rows.T @ g_rows  # (d_in, n) @ (n, d_out) -> (d_in, d_out)
    grad_b = g_rows.sum(dim=0)  # (n, d_out) -> (d_out,)
    return grad_x, grad_w, grad_b


def relu(x: torch.Tensor) -> torch.Tensor:
    """Rectified linear unit, elementwise: ``relu(x) = max(x, 0)``. Any shape.

    Taught in: chapter 4, The forward pass.
    """
    return x.clamp(min=0)


def relu_backward(x: torch.Tensor, grad_out: torch.Tensor) -> torch.Tensor:
    """``dL/dx = G * [x > 0]`` for ``y = relu(x)`` and ``G = dL/dy`` (same shape as ``x``).

    ``y_i`` depends on ``x_i`` only, with slope 1 where ``x_i > 0`` and 0 where ``x_i < 0``.
    At the kink ``x_i = 0`` there is no derivative; any value in ``[0, 1]`` is a valid
    subgradient and, like ``torch.relu``, we use 0 (the mask is ``x > 0``).

    Taught in: chapter 5, The backward pass, by hand.
    """
    if grad_out.shape != x.shape:
        raise ValueError(
            f"grad_out must have the shape of x {tuple(x.shape)}, got {tuple(grad_out.shape)}."
        )
    return grad_out * (x > 0)  # the bool mask is promoted to grad_out's dtype


def _check_same_shape(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape:
        raise ValueError(
            f"pred has shape {tuple(pred.shape)} but target has shape {tuple(target.shape)}; "
            f"they must match exactly (broadcasting (n, 1) against (n,) would silently compare "
            f"every prediction with every target). Reshape one of them first."
        )


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over ALL entries: ``L = (1/N) sum_ij (pred_ij - target_ij)^2``.

    ``N = pred.numel()`` (samples times outputs), which matches ``nn.MSELoss()`` with its
    default ``reduction="mean"``. The sum of squares (``reduction="sum"``) is ``N`` times
    larger, and so are its gradients.

    Args:
        pred: predictions, shape ``(n, d_out)`` (any shape works).
        target: targets, the same shape as ``pred``.

    Returns:
        A 0-dim tensor.

    Taught in: chapter 4 (used), chapter 5, The backward pass, by hand (derived).
    """
    _check_same_shape(pred, target)
    return ((pred - target) ** 2).mean()


def mse_backward(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``dL/dpred = 2 (pred - target) / N`` for ``L = mse(pred, target)``, ``N = pred.numel()``.

    Each entry appears in exactly one term of the sum, so ``dL/dpred_ij = 2 (pred_ij -
    target_ij) / N``. The result has the shape of ``pred``.

    Taught in: chapter 5, The backward pass, by hand.
    """
    _check_same_shape(pred, target)
    return 2 * (pred - target) / pred.numel()


# ---------------------------------------------------------------------------------------------
# Layer classes: __call__ runs the forward pass and remembers what backward needs.
# ---------------------------------------------------------------------------------------------


class Linear:
    """A linear layer ``x @ w + b`` that remembers its input for the backward pass.

    Attributes:
        w: weights, shape ``(d_in, d_out)``.
        b: bias, shape ``(d_out,)``.
        grad_w: ``dL/dw`` after :meth:`backward`, shape ``(d_in, d_out)``; ``None`` before.
        grad_b: ``dL/db`` after :meth:`backward`, shape ``(d_out,)``; ``None`` before.

    Taught in: chapter 4 (forward) and chapter 5 (backward).
    """

    def __init__(self, w: torch.Tensor, b: torch.Tensor) -> None:
        _check_weights(w, b)
        self.w = w
        self.b = b
        self.grad_w: torch.Tensor | None = None
        self.grad_b: torch.Tensor | None = None
        self._x: torch.Tensor | None = None

    @classmethod
    def init(
        cls,
        d_in: int,
        d_out: int,
        generator: torch.Generator | None = None,
        *,
        dtype: torch.dtype = torch.float32,
    ) -> Linear:
        """Kaiming-normal weights ``N(0, 2 / d_in)`` of shape ``(d_in, d_out)``, zero bias."""
        w = kaiming_normal(d_in, d_out, generator, dtype=dtype)
        return cls(w, torch.zeros(d_out, dtype=dtype))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, d_in) -> (n, d_out)``; caches ``x`` (the backward needs it for ``grad_w``)."""
        self._x = x
        return linear(x, self.w, self.b)

    def backward(self, grad_out: torch.Tensor) -> torch.Tensor:
        """Store ``grad_w``, ``grad_b`` and return ``dL/dx`` of shape ``(n, d_in)``."""
        if self._x is None:
            raise RuntimeError("Linear.backward was called before the forward pass; call it first.")
        grad_x, self.grad_w, self.grad_b = linear_backward(self._x, self.w, grad_out)
        return grad_x

    def __repr__(self) -> str:
        return f"Linear(d_in={self.w.shape[0]}, d_out={self.w.shape[1]})"


class ReLU:
    """Elementwise ``max(x, 0)`` that remembers its input (the backward needs its sign).

    Taught in: chapter 4 (forward) and chapter 5 (backward).
    """

    def __init__(self) -> None:
        self._x: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self._x = x
        return relu(x)

    def backward(self, grad_out: torch.Tensor) -> torch.Tensor:
        """``dL/dx = grad_out * [x > 0]``, the shape of ``x``."""
        if self._x is None:
            raise RuntimeError("ReLU.backward was called before the forward pass; call it first.")
        return relu_backward(self._x, grad_out)

    def __repr__(self) -> str:
        return "ReLU()"


class MSE:
    """Mean squared error over all entries; remembers ``pred`` and ``target`` for backward.

    Taught in: chapter 5, The backward pass, by hand.
    """

    def __init__(self) -> None:
        self._pred: torch.Tensor | None = None
        self._target: torch.Tensor | None = None

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The 0-dim loss ``mean((pred - target)^2)``."""
        self._pred, self._target = pred, target
        return mse(pred, target)

    def backward(self) -> torch.Tensor:
        """``dL/dpred = 2 (pred - target) / N``, the shape of ``pred`` (the loss is the end)."""
        if self._pred is None or self._target is None:
            raise RuntimeError("MSE.backward was called before the loss; compute the loss first.")
        return mse_backward(self._pred, self._target)

    def __repr__(self) -> str:
        return "MSE()"


class Model:
    """A stack of layers followed by a loss, with a hand-written backward pass.

    ``model(x, target)`` runs ``x`` through the layers in order and returns the loss;
    ``model.backward()`` then applies the chain rule in reverse: it starts from
    ``dL/dpred`` (from the loss) and hands each layer the gradient of its output, which
    the layer turns into the gradient of its input. Every :class:`Linear` stores its
    ``grad_w`` and ``grad_b`` on the way.

    Args:
        layers: layer objects with ``__call__(x)`` and ``backward(grad_out)``.
        loss: a loss object with ``__call__(pred, target)`` and ``backward()``.

    Taught in: chapter 5, The backward pass, by hand.
    """

    def __init__(self, layers: list, loss: MSE | None = None) -> None:
        self.layers = list(layers)
        self.loss = MSE() if loss is None else loss

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The forward pass through the layers only: ``(n, d_in) -> (n, d_out)``."""
        for layer in self.layers:
            x = layer(x)
        return x

    def __call__(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Forward through the layers, then the loss. Returns the 0-dim loss."""
        return self.loss(self.predict(x), target)

    def backward(self) -> None:
        """Fill ``grad_w`` and ``grad_b`` of every Linear layer (call after ``__call__``)."""
        grad = self.loss.backward()  # dL/dpred, (n, d_out)
        for layer in reversed(self.layers):
            grad = layer.backward(grad)  # dL/d(layer output) -> dL/d(layer input)

    def linears(self) -> list[Linear]:
        """The Linear layers, in forward order."""
        return [layer for layer in self.layers if isinstance(layer, Linear)]

    def parameters(self) -> list[torch.Tensor]:
        """Flat list ``[w1, b1, w2, b2, ...]`` of the Linear layers' tensors (not copies)."""
        return [t for layer in self.linears() for t in (layer.w, layer.b)]

    def grads(self) -> list[torch.Tensor]:
        """Flat list ``[grad_w1, grad_b1, ...]``, aligned with :meth:`parameters`."""
        if any(layer.grad_w is None for layer in self.linears()):
            raise RuntimeError("No gradients yet: call model(x, y) and model.backward() first.")
        return [t for layer in self.linears() for t in (layer.grad_w, layer.grad_b)]

    def parameter_names(self) -> list[str]:
        """Names aligned with :meth:`parameters`: ``["w1", "b1", "w2", "b2", ...]``."""
        return [f"{p}{k}" for k in range(1, len(self.linears()) + 1) for p in ("w", "b")]

    def __repr__(self) -> str:
        return f"Model({self.layers!r}, loss={self.loss!r})"


def mlp(
    d_in: int,
    hidden: int,
    d_out: int,
    generator: torch.Generator | None = None,
    *,
    dtype: torch.dtype = torch.float32,
) -> Model:
    """Linear(d_in, hidden) -> ReLU -> Linear(hidden, d_out), Kaiming init, MSE loss.

    Taught in: chapter 4 (forward) and chapter 5 (backward).
    """
    return Model(
        [
            Linear.init(d_in, hidden, generator, dtype=dtype),
            ReLU(),
            Linear.init(hidden, d_out, generator, dtype=dtype),
        ]
    )
