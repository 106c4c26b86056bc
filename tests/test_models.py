"""The ready-made CNN and ResNet: shapes for 1-D and 2-D inputs of any size, parameter
counts equal to the same architectures built in torch, and torch's outputs and
gradients when the weights are copied across."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import models, nn


def _torch_cnn(in_channels, num_classes, size, channels, hidden, k, dims, batch_norm=False):
    conv = torch.nn.Conv1d if dims == 1 else torch.nn.Conv2d
    norm = torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d
    pool = torch.nn.MaxPool1d if dims == 1 else torch.nn.MaxPool2d
    layers, fan_in, size = [], in_channels, list(size)
    for width in channels:
        layers.append(conv(fan_in, width, k, padding=k // 2, bias=not batch_norm))
        if batch_norm:
            layers.append(norm(width))
        layers.append(torch.nn.ReLU())
        size = [n + 2 * (k // 2) - k + 1 for n in size]
        if min(size) >= 2:
            layers.append(pool(2))
            size = [n // 2 for n in size]
        fan_in = width
    layers.append(torch.nn.Flatten())
    features = fan_in * int(np.prod(size))
    for width in hidden:
        layers += [torch.nn.Linear(features, width), torch.nn.ReLU()]
        features = width
    layers.append(torch.nn.Linear(features, num_classes))
    return torch.nn.Sequential(*layers)


class _TorchBlock(torch.nn.Module):
    def __init__(self, cin, cout, stride, dims):
        super().__init__()
        conv = torch.nn.Conv1d if dims == 1 else torch.nn.Conv2d
        norm = torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d
        self.conv1 = conv(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = norm(cout)
        self.conv2 = conv(cout, cout, 3, padding=1, bias=False)
        self.bn2 = norm(cout)
        self.shortcut = (torch.nn.Sequential(conv(cin, cout, 1, stride=stride, bias=False),
                                             norm(cout))
                         if stride != 1 or cin != cout else torch.nn.Identity())

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class _TorchPool(torch.nn.Module):
    def forward(self, x):
        return x.mean(dim=tuple(range(2, x.ndim)))


def _torch_resnet(in_channels, num_classes, widths, depth, dims):
    conv = torch.nn.Conv1d if dims == 1 else torch.nn.Conv2d
    norm = torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d
    layers = [conv(in_channels, widths[0], 3, padding=1, bias=False), norm(widths[0]),
              torch.nn.ReLU()]
    fan_in = widths[0]
    for stage, width in enumerate(widths):
        for block in range(depth):
            layers.append(_TorchBlock(fan_in, width, 2 if stage and not block else 1, dims))
            fan_in = width
    layers += [_TorchPool(), torch.nn.Linear(fan_in, num_classes)]
    return torch.nn.Sequential(*layers)


def _copy_weights(ours, theirs):
    state = {k: torch.tensor(np.array(v)) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


def _count(model):
    return sum(p.numel() for p in model.parameters())


CNNS = [
    dict(in_channels=1, num_classes=10, input_size=(28, 28), channels=(16, 32), hidden=()),
    dict(in_channels=3, num_classes=10, input_size=(32, 32), channels=(8, 16, 32), hidden=(64,)),
    dict(in_channels=1, num_classes=10, input_size=(8, 8), channels=(16, 32, 64), hidden=()),
    dict(in_channels=1, num_classes=10, input_size=40, channels=(32, 32, 32), hidden=()),
    dict(in_channels=2, num_classes=3, input_size=(7, 5), channels=(4,), hidden=(8,),
         batch_norm=True),
]


@pytest.mark.parametrize("spec", CNNS, ids=[str(s["input_size"]) for s in CNNS])
def test_cnn_matches_the_same_network_in_torch(spec):
    cr.manual_seed(0)
    ours = models.cnn(**spec).double()
    size = (spec["input_size"],) if isinstance(spec["input_size"], int) else spec["input_size"]
    theirs = _torch_cnn(spec["in_channels"], spec["num_classes"], size, spec["channels"],
                        spec["hidden"], 3, len(size), spec.get("batch_norm", False)).double()
    assert _count(ours) == _count(theirs)
    _copy_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((4, spec["in_channels"], *size))
    upstream = np.random.default_rng(1).standard_normal((4, spec["num_classes"]))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_c, out_t = ours(xc), theirs(xt)
    np.testing.assert_allclose(out_c.data, out_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    (out_c * cr.tensor(upstream)).sum().backward()
    (out_t * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=1e-8, atol=1e-11)
    grads_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads_t[name].grad.numpy(), rtol=1e-8,
                                   atol=1e-11, err_msg=name)


@pytest.mark.parametrize("dims, size", [(2, (28, 28)), (2, (32, 32)), (2, (9, 13)), (1, (40,))])
def test_resnet_matches_the_same_network_in_torch(dims, size):
    cr.manual_seed(0)
    ours = models.resnet(in_channels=1, num_classes=10, widths=(8, 16), depth=2,
                         dims=dims).double()
    theirs = _torch_resnet(1, 10, (8, 16), 2, dims).double()
    assert _count(ours) == _count(theirs)
    _copy_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((3, 1, *size))
    upstream = np.random.default_rng(1).standard_normal((3, 10))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_c, out_t = ours(xc), theirs(xt)
    np.testing.assert_allclose(out_c.data, out_t.detach().numpy(), rtol=1e-9, atol=1e-11)
    (out_c * cr.tensor(upstream)).sum().backward()
    (out_t * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(xc.grad.data, xt.grad.numpy(), rtol=1e-7, atol=1e-10)
    grads_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, grads_t[name].grad.numpy(), rtol=1e-7,
                                   atol=1e-10, err_msg=name)
    ours.eval(), theirs.eval()  # running statistics as torch's after one batch
    np.testing.assert_allclose(ours(xc).data, theirs(xt).detach().numpy(), rtol=1e-9,
                               atol=1e-11)


def test_resnet_uses_identity_or_a_strided_projection_shortcut():
    net = models.resnet(in_channels=3, widths=(8, 16), depth=2)
    blocks = [m for m in net if isinstance(m, models.BasicBlock)]
    assert [isinstance(b.shortcut, nn.Identity) for b in blocks] == [True, True, False, True]
    projection = blocks[2].shortcut[0]
    assert projection.kernel_size == (1, 1) and projection.stride == (2, 2)


@pytest.mark.parametrize("build, message", [
    (lambda: models.cnn(channels=()), "at least one"),
    (lambda: models.cnn(input_size=(0, 4)), "input_size"),
    (lambda: models.resnet(depth=0), "depth"),
    (lambda: models.resnet(dims=3), "dims"),
])
def test_bad_sizes_are_refused_naming_the_argument(build, message):
    with pytest.raises(ValueError, match=message):
        build()
