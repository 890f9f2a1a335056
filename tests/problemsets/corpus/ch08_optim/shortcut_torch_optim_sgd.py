"""Takes the SGD step with torch.optim.SGD itself, imported under another name."""

EXPECT = {
    "lose": {
        "sgd_momentum_step_heavy_ball": "torch.optim",
        "sgd_momentum_step_nesterov": "torch.optim",
    }
}

# %% solution sgd_momentum_step_answer
import torch
from torch import optim as o


def sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False):
    p = param.clone().requires_grad_(True)
    opt = o.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov)
    opt.state[p]["momentum_buffer"] = velocity.clone()
    p.grad = grad.clone()
    opt.step()
    return p.detach(), opt.state[p]["momentum_buffer"]


# %% solution adam_step_answer
def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v


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
