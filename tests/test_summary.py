"""nn.summary: rows, output shapes and parameter totals equal PyTorch's counts."""

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn


def torch_counts(model):
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)


def mlp():
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(32, 10),
    )


def torch_mlp():
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.BatchNorm1d(32),
        torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(32, 10),
    )


def test_mlp_rows_shapes_and_totals_match_torch():
    model = mlp()
    result = nn.summary(model, (1, 8, 8))
    total, trainable = torch_counts(torch_mlp())
    assert result.total_params == total == 64 * 32 + 32 + 64 + 32 * 10 + 10
    assert result.trainable_params == trainable and result.non_trainable_params == 0
    assert [(r.name, r.type) for r in result.rows] == [
        ("0", "Flatten"), ("1", "Linear"), ("2", "BatchNorm1d"), ("3", "ReLU"),
        ("4", "Dropout"), ("5", "Linear"),
    ]
    assert [r.output_shape for r in result.rows] == [(-1, 64)] + [(-1, 32)] * 4 + [(-1, 10)]
    assert [r.params for r in result.rows] == [0, 2080, 64, 0, 0, 330]
    text = str(result)
    assert "1 (Linear)" in text and "[-1, 32]" in text and "2,080" in text
    assert "Total params: 2,474" in text
    assert "Trainable params: 2,474" in text and "Non-trainable params: 0" in text
    assert repr(result) == text


def test_frozen_layer_counts_as_non_trainable():
    model, twin = mlp(), torch_mlp()
    model[1].requires_grad_(False)
    twin[1].requires_grad_(False)
    result = nn.summary(model, (64,))
    total, trainable = torch_counts(twin)
    assert (result.total_params, result.trainable_params) == (total, trainable)
    assert result.non_trainable_params == 2080
    assert "Non-trainable params: 2,080" in str(result)


def test_summary_has_no_side_effects():
    model = mlp()
    model[2].running_mean.data[...] = 0.5
    model[4].eval()
    state = cr.random.get_rng_state()
    nn.summary(model, (64,))
    assert cr.random.get_rng_state() == state  # no dropout mask drawn
    np.testing.assert_array_equal(model[2].running_mean.data, 0.5)
    assert int(model[2].num_batches_tracked.data) == 0
    assert [m.training for m in model] == [True, True, True, True, False, True]
    assert all(p.grad is None for p in model.parameters())
    assert all(not m._forward_hooks for m in model.modules())


class Siamese(nn.Module):
    """A custom module: a shared branch called twice, a parameter of its own."""

    def __init__(self):
        super().__init__()
        self.branch = nn.Sequential(nn.Linear(5, 4), nn.Tanh())
        self.temperature = nn.Parameter(np.ones(1, np.float32))

    def forward(self, a, b):
        return self.branch(a) * self.temperature, self.branch(b)


def test_reused_layers_are_counted_once_and_several_inputs_work():
    result = nn.summary(Siamese().double(), [(5,), (5,)], dtype=np.float64)
    assert result.total_params == 5 * 4 + 4 + 1
    linear_rows = [r for r in result.rows if r.type == "Linear"]
    assert [r.name for r in linear_rows] == ["branch.0", "branch.0"]
    assert [r.params for r in linear_rows] == [24, None]
    own = [r for r in result.rows if r.type == "Siamese"]
    assert own[0].params == 1 and own[0].output_shape == [(-1, 4), (-1, 4)]
    assert "--" in str(result)


def test_summary_of_a_single_layer_and_bad_shapes():
    result = nn.summary(nn.Linear(3, 2), (3,))
    assert result.rows[0].name == "" and result.total_params == 8
    assert "Linear" in str(result)
    with pytest.raises(ValueError, match="without the batch"):
        nn.summary(nn.Linear(3, 2), 3)
    with pytest.raises(ValueError, match="input_shape"):
        nn.summary(nn.Linear(3, 2), (0, 3))
    with pytest.raises(TypeError, match="Module"):
        nn.summary(torch.nn.Linear(3, 2), (3,))


def test_summary_propagates_forward_errors_and_cleans_up():
    model = nn.Sequential(nn.Linear(3, 2))
    with pytest.raises(ValueError, match="in_features=3"):
        nn.summary(model, (4,))
    assert not model[0]._forward_hooks and model.training
