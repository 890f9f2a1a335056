"""gradients written to a file with %%writefile and loaded with %run, plus display()."""

EXPECT = {"full": True}
EDITS = [
    {
        "op": "set_source",
        "grade_id": "ps3_gradients_solution",
        "source": "%%writefile grads.py\nimport torch\n\n\ndef gradients(x, y, W1, b1, W2, b2):\n"
        "    x, y = torch.atleast_2d(x), torch.atleast_2d(y)\n"
        "    h = torch.sigmoid(x @ W1.T + b1)\n"
        "    g = 2 * (h @ W2.T + b2 - y) / y.numel()\n"
        "    gz = (g @ W2) * h * (1 - h)\n"
        "    return gz.T @ x, gz.sum(0), g.T @ h, g.sum(0)\n",
    },
    {
        "op": "insert_after",
        "grade_id": "ps3_gradients_solution",
        "source": "%run grads.py\ndisplay(gradients)",
    },
]

# %% solution ps3_sigmoid_solution
import torch


def sigmoid(z):
    return torch.special.expit(z)


# %% solution ps3_forward_solution
def forward(x, W1, b1, W2, b2):
    return sigmoid(x @ W1.T + b1) @ W2.T + b2


# %% solution ps3_mse_solution
def mse_loss(pred, y):
    return ((pred - y) ** 2).mean()


# %% solution ps3_train_solution
def train(x, y, W1, b1, W2, b2, lr, steps):
    losses = []
    for _ in range(steps):
        loss = mse_loss(forward(x, W1, b1, W2, b2), y)
        losses.append(loss.item())
        for p in (W1, b1, W2, b2):
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in (W1, b1, W2, b2):
                p -= lr * p.grad
    return losses
