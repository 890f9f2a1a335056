"""linear_backward written to a file with %%writefile and loaded with %run; relu via heaviside."""

EXPECT = {"full": True}
EDITS = [
    {
        "op": "set_source",
        "grade_id": "linear_backward_answer",
        "source": "%%writefile linear_grads.py\n\n\ndef linear_backward(x, w, b, grad_out):\n"
        "    return grad_out @ w.T, x.T @ grad_out, grad_out.sum(0)\n",
    },
    {"op": "insert_after", "grade_id": "linear_backward_answer", "source": "%run linear_grads.py"},
]

# %% solution mse_backward_answer
import torch


def mse_backward(pred, target):
    return 2 * (pred - target) / pred.numel()


# %% solution relu_backward_answer
def relu_backward(x, grad_out):
    return grad_out * torch.heaviside(x, torch.zeros((), dtype=x.dtype))
