"""Transfer learning: freeze a trained body, replace the head, fine-tune only the head.
Frozen parameters get no gradient and no update, weight decay included."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import models, nn, optim
from chainrule.nn import functional as F


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_frozen_body_is_untouched_and_the_new_head_learns(name):
    cr.manual_seed(0)
    net = models.cnn(in_channels=1, num_classes=5, input_size=(8, 8), channels=(4, 8))
    body = net[:-1]
    body.requires_grad_(False)
    net[-1] = nn.Linear(net[-1].in_features, 3)  # a new head for a new task
    before = {k: v.copy() for k, v in body.state_dict().items()}
    params = [p for p in net.parameters() if p.requires_grad]
    assert params == list(net[-1].parameters())
    make = {"sgd": lambda: optim.SGD(net.parameters(), lr=0.1, weight_decay=0.1),
            "adam": lambda: optim.Adam(net.parameters(), lr=0.01, weight_decay=0.1),
            "adamw": lambda: optim.AdamW(net.parameters(), lr=0.01, weight_decay=0.1)}
    opt = make[name]()  # all parameters given: the optimizer skips the frozen ones
    x, y = cr.randn(16, 1, 8, 8), cr.randint(0, 3, (16,))
    head_before = net[-1].weight.data.copy()
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(p.grad is None for p in body.parameters())
    for key, value in body.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    assert not np.array_equal(net[-1].weight.data, head_before)
    assert losses[-1] < losses[0]
