"""Module and Parameter: registration, traversal, modes, dtype, state dicts, repr, hooks."""

import copy

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.scale = nn.Parameter(np.ones(3, np.float32))
        self.register_buffer("steps", cr.tensor(np.zeros((), np.int64)))
        self.note = "not registered"

    def forward(self, x):
        return self.bn(self.fc(x)).relu() * self.scale


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.bn = torch.nn.BatchNorm1d(3)
        self.scale = torch.nn.Parameter(torch.ones(3))
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))

    def forward(self, x):
        return self.bn(self.fc(x)).relu() * self.scale


def make_model():
    return nn.Sequential(Block(), nn.Dropout(0.3), nn.Linear(3, 2))


def make_torch_model():
    return torch.nn.Sequential(TorchBlock(), torch.nn.Dropout(0.3), torch.nn.Linear(3, 2))


# ------------------------------------------------------------------ registration
def test_parameter_defaults_and_repr():
    p = nn.Parameter(np.array([1.0, 2.0], np.float32))
    assert isinstance(p, cr.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert not nn.Parameter(cr.zeros(2), requires_grad=False).requires_grad
    shared = np.zeros(3, np.float32)
    assert nn.Parameter(shared).data is shared
    assert nn.Parameter().shape == (0,)


def test_names_match_torch_for_parameters_buffers_and_modules():
    model, twin = make_model(), make_torch_model()
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in twin.named_parameters()]
    assert [n for n, _ in model.named_buffers()] == [n for n, _ in twin.named_buffers()]
    assert [n for n, _ in model.named_modules()] == [n for n, _ in twin.named_modules()]
    assert [n for n, _ in model.named_children()] == ["0", "1", "2"]
    assert list(model.state_dict()) == list(twin.state_dict())
    assert len(list(model.parameters())) == 7
    assert len(list(model[0].parameters(recurse=False))) == 1
    assert [type(m).__name__ for m in model.children()] == ["Block", "Dropout", "Linear"]
    assert "note" not in model[0].state_dict() and model[0].note == "not registered"


def test_shared_parameters_and_modules_are_listed_once():
    layer = nn.Linear(3, 3)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    twin = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU())
    twin.append(twin[0])
    assert list(model.state_dict()) == list(twin.state_dict())


def test_reassignment_and_deletion_update_the_registry():
    m = nn.Module()
    m.w = nn.Parameter(cr.zeros(2))
    m.w = None  # a registered parameter may become None ...
    assert list(m.named_parameters()) == [] and m.w is None
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = cr.zeros(2)  # ... but not a plain tensor
    m.sub = nn.Linear(2, 2)
    m.sub = nn.Identity()
    assert [n for n, _ in m.named_children()] == ["sub"]
    with pytest.raises(TypeError, match="child module 'sub'"):
        m.sub = 3
    del m.sub
    assert list(m.children()) == []
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        _ = m.sub
    m.register_buffer("b", cr.zeros(1), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["b"] and "b" not in m.state_dict()
    with pytest.raises(TypeError, match="buffer 'b'"):
        m.b = np.zeros(1)
    with pytest.raises(TypeError, match="buffer"):
        m.register_buffer("c", np.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("train", None)
    assert "b" in dir(m) and "w" in dir(m)


def test_assigning_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_missing_forward_is_named():
    with pytest.raises(NotImplementedError, match=r"\[Module\].*forward"):
        nn.Module()(cr.zeros(1))


# ---------------------------------------------------------------------- modes
def test_train_eval_apply_and_requires_grad():
    model = make_model()
    assert all(m.training for m in model.modules())
    assert model.eval() is model and not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="bool"):
        model.train("no")
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Block", "Dropout", "Linear", "Sequential"]
    model[0].requires_grad_(False)
    assert [p.requires_grad for p in model.parameters()] == [False] * 5 + [True] * 2


def test_zero_grad_to_none_or_zeros(rng):
    model = make_model()
    model(cr.tensor(rng.standard_normal((4, 4)), dtype=cr.float32)).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and g.any() for g in grads[-2:])
    model.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.any() for p, g in zip(model.parameters(), grads))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------------- dtype
def test_to_dtype_keeps_parameter_identity(rng):
    model = make_model()
    params = list(model.parameters())
    model(cr.tensor(rng.standard_normal((4, 4)), dtype=cr.float32)).sum().backward()
    before = [p.data.copy() for p in params]
    assert model.double() is model
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert model[0].bn.running_var.dtype == np.float64
    assert model[0].bn.num_batches_tracked.dtype == np.int64  # integer buffers stay
    assert model[0].steps.dtype == np.int64
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)
    out = model(cr.tensor(rng.standard_normal((4, 4))))
    assert out.dtype == np.float64
    model.to(cr.float32)
    assert all(p.dtype == np.float32 for p in params)
    model.to("cpu", dtype="float64")
    assert params[0].dtype == np.float64
    model.float()
    assert params[0].dtype == np.float32
    with pytest.raises(TypeError, match="floating-point"):
        model.to(cr.int64)
    with pytest.raises(ValueError, match="CPU"):
        model.to("cuda")


# ----------------------------------------------------------------- state dict
def test_state_dict_shares_memory_and_round_trips():
    cr.manual_seed(0)
    model = make_model()
    state = model.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert state["2.weight"] is model[2].weight.data
    assert model.state_dict(keep_vars=True)["2.weight"] is model[2].weight
    snapshot = {k: v.copy() for k, v in state.items()}
    other = make_model()
    ids = [id(p.data) for p in other.parameters()]
    assert other.load_state_dict(snapshot) == ([], [])
    assert [id(p.data) for p in other.parameters()] == ids  # copied in place
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, snapshot[key])
    # values arrive as copies: changing the source later changes nothing
    snapshot["2.bias"][...] = 42
    assert not (other[2].bias.data == 42).any()


def test_load_state_dict_from_torch_gives_the_same_outputs(rng):
    model, twin = make_model().double().eval(), make_torch_model().double().eval()
    twin[0].bn.running_mean.uniform_(-1, 1)
    twin[0].bn.running_var.uniform_(0.5, 2)
    model.load_state_dict(twin.state_dict())
    x = rng.standard_normal((5, 4))
    np.testing.assert_allclose(
        model(cr.tensor(x)).data, twin(torch.tensor(x)).detach().numpy(), rtol=1e-12
    )


def test_load_state_dict_reports_every_problem_before_changing_anything():
    model = make_model()
    before = {k: v.copy() for k, v in model.state_dict().items()}
    bad = {k: np.zeros_like(v) for k, v in before.items()}
    del bad["0.fc.bias"], bad["2.weight"]
    bad["0.extra"] = np.zeros(1)
    bad["0.bn.weight"] = np.zeros(5)
    with pytest.raises(ValueError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert "Sequential" in message
    assert 'Missing key(s) in state_dict: "0.fc.bias", "2.weight".' in message
    assert 'Unexpected key(s) in state_dict: "0.extra".' in message
    assert "size mismatch for 0.bn.weight" in message and "(5,)" in message and "(3,)" in message
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])  # nothing was loaded


def test_load_state_dict_non_strict_returns_skipped_keys():
    model = nn.Sequential(nn.Linear(2, 2))
    result = model.load_state_dict({"0.weight": np.eye(2), "x": np.ones(1)}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["x"]
    np.testing.assert_array_equal(model[0].weight.data, np.eye(2))
    assert model[0].weight.dtype == np.float32  # the model's dtype is kept
    with pytest.raises(ValueError, match="size mismatch"):
        model.load_state_dict({"0.weight": np.eye(3)}, strict=False)
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([("0.weight", np.eye(2))])


def test_optimizer_style_references_survive_load_and_to():
    model = nn.Linear(2, 1)
    held = list(model.parameters())  # what an optimizer built now would hold
    model.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": np.array([3.0])})
    out = held[0].data @ np.array([1.0, 1.0]) + held[1].data
    np.testing.assert_allclose(out, [6.0])


def test_deepcopy_is_independent():
    model = make_model()
    clone = copy.deepcopy(model)
    assert list(clone.state_dict()) == list(model.state_dict())
    clone[2].weight.data[...] = 0
    assert model[2].weight.data.any()
    assert type(clone[2].weight) is nn.Parameter and clone[2].weight.requires_grad


# ---------------------------------------------------------------------- repr
def test_repr_matches_torch():
    model, twin = make_model(), make_torch_model()
    expected = repr(twin).replace("TorchBlock", "Block")
    assert repr(model) == expected
    assert repr(nn.Linear(4, 3)) == "Linear(in_features=4, out_features=3, bias=True)"
    deep = nn.Sequential(nn.Sequential(nn.Linear(1, 1), nn.Tanh()), nn.Flatten())
    tdeep = torch.nn.Sequential(
        torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Tanh()), torch.nn.Flatten()
    )
    assert repr(deep) == repr(tdeep)


# --------------------------------------------------------------------- hooks
def test_forward_hook_sees_output_and_can_be_removed():
    layer = nn.Linear(2, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append((m, args, out)))
    x = cr.ones(1, 2)
    y = layer(x)
    assert seen[0][0] is layer and seen[0][1][0] is x and seen[0][2] is y
    handle.remove()
    layer(x)
    assert len(seen) == 1
    with layer.register_forward_hook(lambda m, args, out: out * 0):
        assert not layer(x).data.any()  # a returned value replaces the output
    assert layer(x).data.any()


# ----------------------------------------------------------------- containers
def test_sequential_indexing_slicing_and_editing(rng):
    a, b, c = nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    head = seq[:2]
    assert type(head) is nn.Sequential and list(head) == [a, b]
    assert [n for n, _ in head.named_children()] == ["0", "1"]
    assert [n for n, _ in seq[1:].named_children()] == ["1", "2"]  # keys kept, as torch
    x = cr.tensor(rng.standard_normal((5, 4)), dtype=cr.float32)
    np.testing.assert_array_equal(seq(x).data, c(b(a(x))).data)
    with pytest.raises(IndexError, match="index 3 is out of range for Sequential of 3"):
        seq[3]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"] and seq[1] is c
    seq.insert(1, b)
    assert list(seq)[:3] == [a, b, c]
    seq[3] = nn.Tanh()
    assert isinstance(seq[3], nn.Tanh)
    seq.extend([nn.Identity()])
    assert len(seq) == 5
    from collections import OrderedDict

    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]


def test_module_list_registers_its_modules():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    assert list(layers.state_dict())[:2] == ["0.weight", "0.bias"]
    layers.append(nn.Linear(2, 1))
    layers += [nn.ReLU()]
    layers.insert(0, nn.Tanh())
    assert [type(m).__name__ for m in layers] == ["Tanh", "Linear", "Linear", "Linear",
                                                  "Linear", "ReLU"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    layers[0] = nn.Sigmoid()
    del layers[-1]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3", "4"]
    with pytest.raises(NotImplementedError, match="ModuleList"):
        layers(cr.zeros(1))
    twin = torch.nn.ModuleList([torch.nn.Linear(2, 2)])
    assert repr(nn.ModuleList([nn.Linear(2, 2)])) == repr(twin)


def test_module_dict_registers_its_modules():
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    assert list(heads) == ["a", "b"] and "a" in heads and len(heads) == 2
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    heads["c"] = nn.ReLU()
    assert list(heads.keys()) == ["a", "b", "c"]
    assert [type(m).__name__ for m in heads.values()] == ["Linear", "Linear", "ReLU"]
    assert heads.pop("a").out_features == 1 and list(heads) == ["b", "c"]
    heads.update([("d", nn.Tanh())])
    del heads["c"]
    assert [k for k, _ in heads.items()] == ["b", "d"]
    with pytest.raises(KeyError, match="'zz'"):
        heads["zz"]
