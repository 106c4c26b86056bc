"""Weight penalties: values and gradients against the same formulas written in torch."""

import numpy as np
import pytest
import torch
from torch_compare import assert_matches_torch

import chainrule as cr
import chainrule.nn as nn


def torch_l1(ws):
    return sum(w.abs().sum() for w in ws)


def torch_l2(ws):
    return sum((w**2).sum() for w in ws)


def torch_linf(ws):  # induced ∞-norm: largest absolute row sum
    return sum(torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), ord=float("inf")) for w in ws)


CASES = [
    (nn.l1_penalty, torch_l1),
    (nn.l2_penalty, torch_l2),
    (nn.linf_penalty, torch_linf),
]


@pytest.mark.parametrize("ours, theirs", CASES, ids=["l1", "l2", "linf"])
def test_penalty_of_tensors_matches_torch(ours, theirs, rng):
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((2, 4)),
              rng.standard_normal((3, 2, 2, 2))]
    assert_matches_torch(lambda *ws: ours(list(ws)), lambda *ws: theirs(ws), *arrays)


def _models(rng):
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.PReLU(), nn.Linear(3, 2))
    twin = torch.nn.Sequential(
        torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.PReLU(), torch.nn.Linear(3, 2)
    )
    model.double()
    twin.double()
    for p in model.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    return model, twin


@pytest.mark.parametrize("ours, theirs", CASES, ids=["l1", "l2", "linf"])
def test_penalty_of_a_module_uses_weight_matrices_only(ours, theirs, rng):
    model, twin = _models(rng)
    value = ours(model)
    weights = [twin[0].weight, twin[3].weight]
    expected = theirs(weights)
    assert value.item() == pytest.approx(expected.item(), rel=1e-12)
    (3.0 * value).backward()
    (3.0 * expected).backward()
    for i in (0, 3):
        np.testing.assert_allclose(model[i].weight.grad, twin[i].weight.grad.numpy(), rtol=1e-12)
        assert model[i].bias.grad is None  # biases are not penalised
    assert model[1].weight.grad is None and model[2].weight.grad is None


def test_penalty_values_by_hand():
    w = cr.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    v = cr.tensor([[-4.0]], requires_grad=True)
    assert nn.l1_penalty([w, v]).item() == pytest.approx(10.5)
    assert nn.l2_penalty([w, v]).item() == pytest.approx(1 + 4 + 9 + 0.25 + 16)  # no ½
    assert nn.linf_penalty([w, v]).item() == pytest.approx(3.5 + 4)  # rows: 3, 3.5
    nn.linf_penalty(w).backward()
    np.testing.assert_array_equal(w.grad, [[0, 0], [1, 1]])  # only the maximising row


def test_linf_of_a_vector_is_its_max_abs():
    x = cr.tensor([1.0, -5.0, 2.0])
    assert nn.linf_penalty([x]).item() == 5.0
    assert nn.l1_penalty([x]).item() == 8.0


def test_half_l2_penalty_gives_weight_decay_gradient():
    lam = 0.1
    w = cr.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    (lam / 2 * nn.l2_penalty([w])).backward()
    np.testing.assert_allclose(w.grad, lam * w.data)


def test_keeps_dtype_and_handles_no_weights():
    assert nn.l2_penalty(nn.Linear(2, 2)).dtype == np.float32
    assert nn.l2_penalty(nn.Linear(2, 2, dtype=cr.float64)).dtype == np.float64
    empty = nn.l1_penalty(nn.Sequential(nn.ReLU(), nn.BatchNorm1d(3)))
    assert empty.item() == 0.0 and not empty.requires_grad
    with pytest.raises(TypeError, match=r"l2_penalty.*ndarray"):
        nn.l2_penalty([np.ones((2, 2))])
