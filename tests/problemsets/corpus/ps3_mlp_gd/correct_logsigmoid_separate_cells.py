"""exp(logsigmoid(z)); each function in its own solution cell; losses computed with float()."""

EXPECT = {"full": True}

# %% solution ps3_sigmoid_solution
import torch
import torch.nn.functional as F


def sigmoid(z):
    return torch.exp(F.logsigmoid(z))


# %% solution ps3_forward_solution
def forward(x, W1, b1, W2, b2):
    a = sigmoid(torch.matmul(x, W1.transpose(0, 1)) + b1)
    return torch.matmul(a, W2.transpose(0, 1)) + b2


# %% solution ps3_mse_solution
def mse_loss(pred, y):
    return ((pred - y) ** 2).sum() / pred.numel()


# %% solution ps3_gradients_solution
def gradients(x, y, W1, b1, W2, b2):
    one = x.ndim == 1
    X = x[None, :] if one else x
    Y = y[None, :] if one else y
    A = sigmoid(X @ W1.T + b1)
    E = 2 * (A @ W2.T + b2 - Y) / Y.numel()
    D = (E @ W2) * A * (1 - A)
    return D.T @ X, D.sum(0), E.T @ A, E.sum(0)


# %% solution ps3_train_solution
def train(x, y, W1, b1, W2, b2, lr, steps):
    losses = []
    for _ in range(steps):
        loss = mse_loss(forward(x, W1, b1, W2, b2), y)
        losses.append(float(loss))
        grads = torch.autograd.grad(loss, [W1, b1, W2, b2])
        with torch.no_grad():
            for p, g in zip([W1, b1, W2, b2], grads):
                p.add_(g, alpha=-lr)
    return losses
