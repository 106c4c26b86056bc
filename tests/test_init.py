"""nn.init: gains, fans, and the statistics of each initialiser against torch's formulas."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn import init


def big(*shape, dtype=np.float32):
    return cr.tensor(np.full(shape, np.nan, dtype=dtype), requires_grad=True)


@pytest.mark.parametrize(
    "name, param",
    [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
     ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)],
)
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param), rel=1e-15
    )


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "a")


@pytest.mark.parametrize("shape", [(30, 20), (16, 3, 5, 5), (8, 4, 3)])
def test_fans_match_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(cr.zeros(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions.*\(5,\)"):
        init.xavier_uniform_(cr.zeros(5))


def test_constant_fills_in_place_keeping_dtype_and_array():
    t = big(3, 4, dtype=np.float64)
    array = t.data
    assert init.zeros_(t) is t and t.data is array and not t.data.any()
    init.ones_(t)
    assert (t.data == 1).all() and t.dtype == np.float64
    init.constant_(t, 0.5)
    assert (t.data == 0.5).all() and t.requires_grad and t.grad is None
    with pytest.raises(TypeError, match="Tensor"):
        init.ones_(np.zeros(3))


def _uniform_ok(data, low, high):
    n = data.size
    width = high - low
    assert data.min() >= low and data.max() <= high
    assert data.min() < low + 0.01 * width and data.max() > high - 0.01 * width
    assert data.mean() == pytest.approx((low + high) / 2, abs=5 * width / math.sqrt(12 * n))
    assert data.std() == pytest.approx(width / math.sqrt(12), rel=0.02)


def _normal_ok(data, mean, std):
    n = data.size
    assert data.mean() == pytest.approx(mean, abs=5 * std / math.sqrt(n))
    assert data.std() == pytest.approx(std, rel=0.02)
    # about 68.3% within one std
    assert np.mean(np.abs(data - mean) < std) == pytest.approx(0.6827, abs=0.01)


def test_uniform_and_normal_statistics():
    t = big(200, 100)
    init.uniform_(t, -2.0, 3.0)
    assert t.dtype == np.float32
    _uniform_ok(t.data, -2.0, 3.0)
    init.normal_(t, mean=1.5, std=0.5)
    _normal_ok(t.data, 1.5, 0.5)
    with pytest.raises(ValueError, match="a <= b"):
        init.uniform_(t, 1.0, 0.0)


@pytest.mark.parametrize("shape", [(300, 200), (64, 16, 3, 3)])
def test_xavier_statistics_match_torch_formula(shape):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    t = big(*shape)
    init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    _uniform_ok(t.data, -bound, bound)
    init.xavier_normal_(t, gain=0.5)
    _normal_ok(t.data, 0.0, 0.5 * math.sqrt(2 / (fan_in + fan_out)))


@pytest.mark.parametrize("shape", [(300, 200), (64, 16, 3, 3)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_statistics_match_torch_formula(shape, mode):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    fan = fan_in if mode == "fan_in" else fan_out
    t = big(*shape)
    init.kaiming_uniform_(t, mode=mode, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    _uniform_ok(t.data, -bound, bound)
    init.kaiming_normal_(t, a=0.1, mode=mode)
    _normal_ok(t.data, 0.0, math.sqrt(2 / (1 + 0.01)) / math.sqrt(fan))
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(t, mode="fan_avg")


def test_kaiming_with_sqrt5_is_linears_one_over_sqrt_fan_in():
    t = big(200, 400)
    init.kaiming_uniform_(t, a=math.sqrt(5))
    _uniform_ok(t.data, -1 / math.sqrt(400), 1 / math.sqrt(400))


def test_generators_make_init_reproducible():
    a, b = big(10, 10), big(10, 10)
    init.normal_(a, generator=np.random.default_rng(5))
    init.normal_(b, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(a.data, b.data)
    cr.manual_seed(11)
    init.xavier_uniform_(a)
    cr.manual_seed(11)
    init.xavier_uniform_(b)
    np.testing.assert_array_equal(a.data, b.data)
    init.kaiming_uniform_(b)
    assert not np.array_equal(a.data, b.data)


def test_init_works_on_a_layer_weight_and_keeps_float64():
    layer = nn.Linear(50, 40, dtype=cr.float64)
    weight = layer.weight
    init.xavier_normal_(layer.weight)
    assert layer.weight is weight and weight.dtype == np.float64
    assert weight.data.std() == pytest.approx(math.sqrt(2 / 90), rel=0.05)
    init.zeros_(layer.bias)
    assert not layer.bias.data.any()
