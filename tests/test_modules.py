"""Tests for fromscratch.modules: explicit matrix formulas, autograd and the chapter-5 hand-written
backward are the oracles."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from fromscratch.layers import Linear, Model, ReLU
from fromscratch.modules import (
    DynamicNet,
    TwoLayerNet,
    count_parameters,
    from_scratch_model_to_module,
    linear_to_module,
    parameter_table,
)
from strategies import random_tensor, seeds, small_dim

# ---------------------------------------------------------------- parameter counting


@given(d_in=small_dim, hidden=small_dim, d_out=small_dim)
def test_count_parameters_matches_numel_and_closed_form(d_in, hidden, d_out):
    net = TwoLayerNet(d_in, hidden, d_out)
    rows = count_parameters(net)
    assert [(name, shape) for name, shape, _ in rows] == [
        ("linear1.weight", (hidden, d_in)),
        ("linear1.bias", (hidden,)),
        ("linear2.weight", (d_out, hidden)),
        ("linear2.bias", (d_out,)),
    ]
    total = sum(numel for _, _, numel in rows)
    assert total == sum(p.numel() for p in net.parameters())
    assert total == d_in * hidden + hidden + hidden * d_out + d_out


def test_shared_layer_is_counted_once_and_plain_tensors_not_at_all():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = self.a  # the same module under two names
            self.not_registered = torch.zeros(5, requires_grad=True)

    rows = count_parameters(Tied())
    assert [name for name, _, _ in rows] == ["a.weight", "a.bias"]
    assert sum(numel for _, _, numel in rows) == 3 * 3 + 3


def test_parameter_table_lists_every_parameter_and_the_total():
    table = parameter_table(TwoLayerNet(4, 5, 2))
    assert table.count("\n") == 2 + 4  # header, rule, 4 parameters, total
    assert f"**{4 * 5 + 5 + 5 * 2 + 2:,}**" in table


# ---------------------------------------------------------------- forward formulas


@given(n=small_dim, d_in=small_dim, hidden=small_dim, d_out=small_dim, seed=seeds())
def test_two_layer_net_forward_is_the_matrix_formula(n, d_in, hidden, d_out, seed):
    torch.manual_seed(seed % 1000)
    net = TwoLayerNet(d_in, hidden, d_out).double()
    x = random_tensor((n, d_in), seed, contiguous=False)
    w1, b1 = net.linear1.weight, net.linear1.bias
    w2, b2 = net.linear2.weight, net.linear2.bias
    expected = torch.clamp(x @ w1.T + b1, min=0) @ w2.T + b2
    torch.testing.assert_close(net(x), expected)


@pytest.mark.parametrize("reuses", [0, 1, 3])
def test_dynamic_net_forward_is_the_unrolled_formula(reuses):
    net = DynamicNet(4, 6, 2).double()
    x = random_tensor((5, 4), 0, contiguous=False)

    def layer(lin, h):
        return h @ lin.weight.T + lin.bias

    h = torch.clamp(layer(net.input_linear, x), min=0)
    for _ in range(reuses):
        h = torch.clamp(layer(net.middle_linear, h), min=0)
    torch.testing.assert_close(net(x, reuses=reuses), layer(net.output_linear, h))
    assert net.last_reuses == reuses


# ---------------------------------------------------------------- DynamicNet randomness


@given(seed=seeds(), max_reuses=st.integers(0, 4))
def test_dynamic_net_depths_follow_the_generator(seed, max_reuses):
    net = DynamicNet(3, 4, 2, max_reuses=max_reuses, generator=torch.Generator().manual_seed(seed))
    oracle = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3)
    for _ in range(5):
        net(x)
        assert net.last_reuses == int(torch.randint(0, max_reuses + 1, (), generator=oracle))


def test_dynamic_net_is_deterministic_under_a_seed():
    def run():
        torch.manual_seed(0)  # the weights
        net = DynamicNet(3, 8, 2, generator=torch.Generator().manual_seed(7))  # the depths
        x = torch.randn(4, 3)
        return [(net(x), net.last_reuses) for _ in range(6)]

    first, second = run(), run()
    assert [k for _, k in first] == [k for _, k in second]
    assert len({k for _, k in first}) > 1  # the depth does vary between calls
    for (y1, _), (y2, _) in zip(first, second, strict=True):
        torch.testing.assert_close(y1, y2, rtol=0, atol=0)


def test_dynamic_net_rejects_negative_reuses():
    with pytest.raises(ValueError, match="max_reuses"):
        DynamicNet(2, 2, 2, max_reuses=-1)
    with pytest.raises(ValueError, match="reuses"):
        DynamicNet(2, 2, 2)(torch.zeros(1, 2), reuses=-2)


@pytest.mark.parametrize("reuses", [1, 2, 3])
def test_shared_weight_gradient_is_the_sum_over_untied_copies(reuses):
    torch.manual_seed(1)
    net = DynamicNet(4, 5, 3).double()
    x, y = random_tensor((6, 4), 2), random_tensor((6, 3), 3)
    nn.functional.mse_loss(net(x, reuses=reuses), y).backward()

    # Oracle: the same computation with an independent copy of the middle layer per use.
    copies = [nn.Parameter(net.middle_linear.weight.detach().clone()) for _ in range(reuses)]
    h = torch.relu(net.input_linear(x))
    for w in copies:
        h = torch.relu(h @ w.T + net.middle_linear.bias)
    nn.functional.mse_loss(net.output_linear(h), y).backward()
    torch.testing.assert_close(net.middle_linear.weight.grad, sum(w.grad for w in copies))


# ---------------------------------------------------------------- chapter-5 model -> nn


def hand_model(d_in, hidden, d_out, seed):
    """A chapter-5 Model in float64 with seeded weights (w: (d_in, d_out), b: (d_out,))."""
    layers = [
        Linear(random_tensor((d_in, hidden), seed), random_tensor((hidden,), seed + 1)),
        ReLU(),
        Linear(random_tensor((hidden, d_out), seed + 2), random_tensor((d_out,), seed + 3)),
    ]
    return Model(layers)


@given(n=small_dim, d_in=small_dim, hidden=small_dim, d_out=small_dim, seed=seeds())
def test_converted_module_matches_hand_model_outputs_and_gradients(n, d_in, hidden, d_out, seed):
    model = hand_model(d_in, hidden, d_out, seed)
    module = from_scratch_model_to_module(model)
    x = random_tensor((n, d_in), seed + 4, contiguous=False)
    target = random_tensor((n, d_out), seed + 5, contiguous=False)

    torch.testing.assert_close(module(x), model.predict(x))
    hand_loss = model(x, target)
    model.backward()
    torch_loss = nn.MSELoss()(module(x), target)
    torch_loss.backward()
    torch.testing.assert_close(torch_loss, torch.as_tensor(hand_loss, dtype=torch.float64))
    for hand, lin in zip(
        [model.layers[0], model.layers[2]], [module.linear1, module.linear2], strict=True
    ):
        torch.testing.assert_close(lin.weight.grad.T, hand.grad_w)  # (d_in, d_out) both
        torch.testing.assert_close(lin.bias.grad, hand.grad_b.reshape(-1))


def test_converter_names_layers_and_copies_weights():
    model = hand_model(3, 4, 2, seed=0)
    module = from_scratch_model_to_module(model)
    assert list(dict(module.named_children())) == ["linear1", "relu1", "linear2"]
    assert module.linear1.weight.shape == (4, 3)
    with torch.no_grad():
        module.linear1.weight.zero_()
    assert model.layers[0].w.abs().sum() > 0  # an independent copy, not a view


def test_linear_to_module_transposes_the_weight():
    w, b = random_tensor((3, 5), 0, contiguous=False), random_tensor((5,), 1)
    lin = linear_to_module(Linear(w, b))
    x = random_tensor((2, 3), 2)
    torch.testing.assert_close(lin(x), x @ w + b)


def test_converter_rejects_unknown_layers():
    model = hand_model(2, 2, 2, seed=0)
    model.layers.append(nn.Tanh())
    with pytest.raises(ValueError, match="Tanh"):
        from_scratch_model_to_module(model)


# ---------------------------------------------------------------- state_dict round trip


@pytest.mark.parametrize("make", [lambda: TwoLayerNet(5, 7, 3), lambda: DynamicNet(5, 7, 3)])
def test_state_dict_round_trip_gives_identical_outputs(tmp_path, make):
    torch.manual_seed(0)
    original = make()
    path = tmp_path / "weights.pt"
    torch.save(original.state_dict(), path)
    torch.manual_seed(1)  # a different initialisation, to be overwritten
    restored = make()
    x = torch.randn(4, 5)
    kwargs = {"reuses": 2} if isinstance(original, DynamicNet) else {}
    assert not torch.equal(restored(x, **kwargs), original(x, **kwargs))
    restored.load_state_dict(torch.load(path, weights_only=True))
    torch.testing.assert_close(restored(x, **kwargs), original(x, **kwargs), rtol=0, atol=0)
