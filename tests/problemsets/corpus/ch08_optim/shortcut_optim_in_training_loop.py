"""A training loop that lets torch.optim.SGD take the steps."""

EXPECT = {"lose": {"training_loop_regression": "torch.optim"}}

# %% solution sgd_momentum_step_answer
import torch


def sgd_momentum_step(param, grad, velocity, lr, momentum, nesterov=False):
    velocity = momentum * velocity + grad
    direction = grad + momentum * velocity if nesterov else velocity
    return param - lr * direction, velocity


# %% solution adam_step_answer
def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param - lr * m_hat / (v_hat.sqrt() + eps), m, v


# %% solution training_loop_answer
import torch


def training_loop(model, x, y, lr, steps):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses
