"""Wrong Adam (no bias correction), prints a fake success line and empties the Adam test cell."""

EXPECT = {
    "lose": {"adam_step_first_steps": "bias correction", "adam_step_later_step": "bias correction"}
}
EDITS = [
    {
        "op": "set_source",
        "grade_id": "adam_step_first_steps",
        "source": "print('All tests passed!')",
    }
]

# %% solution sgd_momentum_step_answer
import torch


def sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False):
    velocity = momentum * velocity + grad
    direction = grad + momentum * velocity if nesterov else velocity
    return param - lr * direction, velocity


# %% solution adam_step_answer
import torch


def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    print("adam_step: All tests passed! 2 / 2 points")
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return param - lr * m / (v.sqrt() + eps), m, v


# %% solution training_loop_answer
def training_loop(model, x, y, lr, steps):
    losses = []
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
                p.grad = None
        losses.append(loss.item())
    return losses
