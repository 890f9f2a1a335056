"""NumPy and explicit Python loops (entry by entry, as in the index derivation)."""

EXPECT = {"full": True}

import numpy as np
import torch


def mse_backward(pred, target):
    p, t = pred.numpy(), target.numpy()
    return torch.from_numpy(2 * (p - t) / p.size)


def relu_backward(x, grad_out):
    out = torch.zeros_like(grad_out)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if x[i, j] > 0:
                out[i, j] = grad_out[i, j]
    return out


def linear_backward(x, w, b, grad_out):
    n, d_in = x.shape
    d_out = w.shape[1]
    xs, ws, gs = x.numpy(), w.numpy(), grad_out.numpy()
    grad_x = np.zeros((n, d_in), dtype=xs.dtype)
    grad_w = np.zeros((d_in, d_out), dtype=xs.dtype)
    grad_b = np.zeros(d_out, dtype=xs.dtype)
    for i in range(n):
        for j in range(d_out):
            grad_b[j] += gs[i, j]
            for k in range(d_in):
                grad_x[i, k] += gs[i, j] * ws[k, j]
                grad_w[k, j] += xs[i, k] * gs[i, j]
    return torch.from_numpy(grad_x), torch.from_numpy(grad_w), torch.from_numpy(grad_b)
