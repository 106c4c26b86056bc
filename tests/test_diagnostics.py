"""GradientFlow: its records equal hand computations, it names the classic failures of
initialisation, and it changes nothing about training."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.data.datasets.synthetic import make_moons
from chainrule.function import grad_hooks
from chainrule.train import Callback, fit
from chainrule.train.diagnostics import DiagnosticWarning, GradientFlow

F = cr.nn.functional

X, Y = make_moons(256, noise=0.1, seed=0)
CORNERS = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=np.float32)


def _deep(activation, init, depth=10, width=32):
    """``depth`` Linear layers (``depth - 1`` hidden, each followed by ``activation``)."""
    cr.manual_seed(0)
    sizes = [2] + [width] * (depth - 1)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    layers.append(nn.Linear(width, 2))
    model = nn.Sequential(*layers)
    for module in model:
        if isinstance(module, nn.Linear):
            init(module.weight)
            nn.init.zeros_(module.bias)
    return model


def _train(model, callbacks, epochs=3, lr=0.1, x=X, y=Y, batch_size=64, shuffle=True,
           **kwargs):
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, seed=0)
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return fit(model, F.cross_entropy, opt, loader, epochs=epochs, callbacks=callbacks,
               verbose=0, **kwargs)


def _set(linear, weight, bias):
    linear.weight.data[...] = weight
    linear.bias.data[...] = bias


def test_vanishing_gradients_are_flagged_on_a_deep_tanh_net_with_tiny_weights():
    model = _deep(nn.Tanh, lambda w: nn.init.normal_(w, 0.0, 0.01))
    flow = GradientFlow()
    with pytest.warns(DiagnosticWarning, match="epoch 1: gradients vanish") as caught:
        _train(model, [flow], lr=0.02)
    assert [f.kind for f in flow.findings] == ["vanishing"]
    finding = flow.findings[0]
    assert finding.epoch == 1 and finding.layer == "1"
    assert "layer '1' (Tanh)" in finding.message and "layer '17' (Tanh)" in finding.message
    assert "initial weights too small" in finding.message
    assert "xavier_normal_" in finding.message
    assert len(caught) == 1  # once per run, not once per epoch
    # the signal reaching the first tanh is ~1e-10 of the one reaching the last
    signal = flow.activations
    assert signal["1"]["grad_norm"][0] < 1e-8 * signal["17"]["grad_norm"][0]


def test_a_he_initialised_relu_net_on_the_same_data_passes_quietly():
    model = _deep(nn.ReLU, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"))
    flow = GradientFlow()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DiagnosticWarning)
        history = _train(model, [flow], lr=0.02)
    assert flow.findings == []
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert flow.summary().endswith("no problem found")
    ratios = [flow.weights[str(i)]["update_ratio"][-1] for i in range(0, 19, 2)]
    assert all(1e-3 < r < 0.5 for r in ratios)


def test_recorded_gradient_norms_and_update_ratios_equal_the_true_ones():
    """The same training by hand, reading .grad and the weights around every step."""
    def model():
        cr.manual_seed(1)
        return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(),
                             nn.Linear(8, 2))

    flow = GradientFlow(report="off")
    _train(model(), [flow], epochs=2, batch_size=100)  # batches of 100, 100 and 56

    net = model()
    loader = DataLoader(TensorDataset(X, Y), batch_size=100, shuffle=True, seed=0)
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for epoch in range(2):
        norms = {name: [] for name in ("0", "2", "4", "1", "3")}
        ratios = {name: [] for name in ("0", "2", "4")}
        for x, y in loader:
            opt.zero_grad()
            outputs, h = {}, x
            for name, layer in net.named_children():
                h = layer(h)
                if name in ("1", "3"):
                    h.retain_grad()
                    outputs[name] = h
            F.cross_entropy(h, y).backward()
            before = {n: net[int(n)].weight.data.astype(np.float64) for n in ratios}
            opt.step()
            for n in ratios:
                norms[n].append(np.linalg.norm(net[int(n)].weight.grad.data.astype(np.float64)))
                change = net[int(n)].weight.data.astype(np.float64) - before[n]
                ratios[n].append(np.linalg.norm(change) / np.linalg.norm(before[n]))
            for n, out in outputs.items():
                norms[n].append(np.linalg.norm(out.grad.data.astype(np.float64)))
        for n in ratios:
            assert flow.weights[n]["grad_norm"][epoch] == pytest.approx(np.mean(norms[n]),
                                                                        rel=1e-6)
            assert flow.weights[n]["update_ratio"][epoch] == pytest.approx(np.mean(ratios[n]),
                                                                           rel=1e-6)
        for n in ("1", "3"):
            assert flow.activations[n]["grad_norm"][epoch] == pytest.approx(np.mean(norms[n]),
                                                                            rel=1e-6)
    assert flow.epochs == [1, 2]
    assert flow.kinds == {"0": "Linear", "2": "Linear", "4": "Linear", "1": "Tanh", "3": "ReLU"}


def test_dead_relu_fraction_and_activation_statistics_equal_a_hand_computation():
    # pre-activations of the four corners (rows) for the four units (columns):
    #   [1,0]: [ 1 -1 -1 -3]   [0,1]: [0 -1 -1 -5]   [-1,0]: [-1 1 -1 -7]   [0,-1]: [0 1 -1 -5]
    # unit 0 fires on [1,0], unit 1 only in the second batch, units 2 and 3 never: dead 2/4
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    _set(model[0], [[1, 0], [-1, -1], [0, 0], [2, 0]], [0, 0, -1, -5])
    flow = GradientFlow(report="off")
    _train(model, [flow], epochs=1, lr=0.0, x=CORNERS, y=np.array([0, 1, 0, 1]), batch_size=2,
           shuffle=False)
    relu = flow.activations["1"]
    assert relu["dead"] == [0.5]
    # the 16 outputs: three 1s and thirteen 0s
    assert relu["mean"][0] == pytest.approx(3 / 16, rel=1e-12)
    assert relu["std"][0] == pytest.approx(np.sqrt(3 / 16 - (3 / 16) ** 2), rel=1e-12)
    assert "saturated" not in relu
    assert [f.kind for f in flow.findings] == []  # 50% is not more than the threshold 0.5
    flow = GradientFlow(report="off", dead=0.4)
    _set(model[0], [[1, 0], [-1, -1], [0, 0], [2, 0]], [0, 0, -1, -5])
    _train(model, [flow], epochs=1, lr=0.0, x=CORNERS, y=np.array([0, 1, 0, 1]), batch_size=2,
           shuffle=False)
    assert [(f.kind, f.layer) for f in flow.findings] == [("dead", "1")]
    assert flow.findings[0].message.startswith("50% of the units of layer '1' (ReLU) were "
                                               "never positive in epoch 1")


def test_a_dead_channel_of_a_feature_map_counts_as_one_unit():
    cr.manual_seed(0)
    conv = nn.Conv2d(1, 2, 1)
    conv.weight.data[...] = np.array([1.0, 1.0]).reshape(2, 1, 1, 1)
    conv.bias.data[...] = [0.0, -10.0]  # channel 1 is never positive on inputs in [0, 1)
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(2 * 3 * 3, 2))
    x = np.random.default_rng(0).random((8, 1, 3, 3)).astype(np.float32)
    flow = GradientFlow(report="off")
    _train(model, [flow], epochs=1, lr=0.0, x=x, y=np.arange(8) % 2, batch_size=4)
    assert flow.activations["1"]["dead"] == [0.5]


def test_saturated_fractions_equal_a_hand_computation():
    # tanh(3) = 0.99505 and tanh(2.6) = 0.98903: of the 8 outputs ±tanh(3) saturate (2/8);
    # σ(±5) = 0.99331, 0.00669 saturate, σ(±4.5) = 0.98901, 0.01099 and σ(0) do not (2/12)
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2))
    _set(model[0], [[3, 0], [0, 2.6]], [0, 0])
    other = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 2))
    _set(other[0], [[5, 0], [0, 4.5], [0, 0]], [0, 0, 0])
    y = np.array([0, 1, 0, 1])
    flows = [GradientFlow(report="off"), GradientFlow(report="off", saturated=0.1)]
    _train(model, [flows[0]], epochs=1, lr=0.0, x=CORNERS, y=y, batch_size=2, shuffle=False)
    _train(other, [flows[1]], epochs=1, lr=0.0, x=CORNERS, y=y, batch_size=2, shuffle=False)
    assert flows[0].activations["1"]["saturated"] == [0.25]
    assert flows[1].activations["1"]["saturated"] == [pytest.approx(1 / 6, rel=1e-12)]
    tanh = np.tanh(np.array([3, 0, 0, 2.6, -3, 0, 0, -2.6], dtype=np.float32))
    assert flows[0].activations["1"]["std"][0] == pytest.approx(np.std(tanh.astype(float)),
                                                               rel=1e-6)
    assert flows[0].findings == []
    assert [(f.kind, f.layer) for f in flows[1].findings] == [("saturated", "1")]
    assert "(σ < 0.01 or σ > 0.99)" in flows[1].findings[0].message


def test_large_initial_weights_saturate_tanh_and_zero_weights_stop_all_gradients():
    flow = GradientFlow(report="off")
    _train(_deep(nn.Tanh, lambda w: nn.init.normal_(w, 0.0, 1.0), depth=4), [flow], epochs=1)
    assert flow.findings[0].kind == "saturated"
    assert "initial weights too large" in flow.findings[0].message

    model = _deep(nn.Tanh, nn.init.zeros_, depth=3, width=8)
    flow = GradientFlow(report="off")
    _train(model, [flow], epochs=2)
    kinds = {f.kind: f for f in flow.findings}
    assert set(kinds) == {"vanishing", "symmetric"}
    assert ("the weights of layer '0' (Linear) and layer '2' (Linear) and layer '4' (Linear) "
            "are all zero") in kinds["vanishing"].message
    assert kinds["symmetric"].message.startswith("the 8 units of layer '0' (Linear) have "
                                                 "identical weights and biases (and so do "
                                                 "those of '2')")
    assert flow.weights["0"]["grad_norm"] == [0.0, 0.0]


def test_equal_initial_weights_keep_the_hidden_units_identical():
    model = _deep(nn.Tanh, lambda w: nn.init.constant_(w, 0.3), depth=2, width=6)
    flow = GradientFlow(report="off")
    _train(model, [flow], epochs=3)
    w = model[0].weight.data
    assert np.abs(w - w[0]).max() == 0.0  # trained, yet every hidden unit is the same
    assert not np.allclose(w, 0.3)
    assert [f.kind for f in flow.findings] == ["symmetric"]
    assert flow.findings[0].layer == "0"


def test_exploding_gradients_are_flagged_even_when_the_loss_becomes_nan():
    model = _deep(nn.ReLU, lambda w: nn.init.normal_(w, 0.0, 1.0))
    flow = GradientFlow(report="off")
    history = _train(model, [flow], on_nonfinite="stop")
    assert len(history) == 0 and history.nonfinite is not None
    assert flow.epochs == [1]  # the epoch cut short is recorded
    assert flow.findings[0].kind == "exploding"
    assert "lower the learning rate" in flow.findings[0].message


class _Weights(Callback):
    def on_train_end(self):
        self.state = {k: v.copy() for k, v in self.context["model"].state_dict().items()}


def test_training_is_bit_for_bit_the_same_with_it_and_its_hooks_are_removed():
    results = []
    for callbacks in ([], [GradientFlow(report="off")]):
        model = _deep(nn.Tanh, nn.init.xavier_normal_, depth=4, width=16)
        loader = DataLoader(TensorDataset(X, Y), batch_size=32, shuffle=True, seed=0)
        opt = optim.Adam(model.parameters(), lr=1e-2)
        keep = _Weights()
        history = fit(model, F.cross_entropy, opt, loader, loader, epochs=2,
                      callbacks=[*callbacks, keep], verbose=0)
        results.append((keep.state, history["val_loss"]))
        assert all(not m._forward_hooks for m in model.modules())
        assert all(not grad_hooks.get(id(p)) for p in model.parameters())
    (plain, plain_loss), (watched, watched_loss) = results
    assert plain_loss == watched_loss
    for key in plain:
        assert np.array_equal(plain[key], watched[key]), key


def test_validation_passes_are_not_recorded_and_shared_modules_are_recorded_per_call():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.act = nn.Linear(2, 3), nn.Linear(3, 2), nn.Tanh()

        def forward(self, x):
            return self.act(self.b(self.act(self.a(x))))

    cr.manual_seed(0)
    model = Shared()
    flow = GradientFlow(report="off")
    loader = DataLoader(TensorDataset(CORNERS, np.array([0, 1, 0, 1])), batch_size=4)
    big = DataLoader(TensorDataset(CORNERS * 100, np.array([0, 1, 0, 1])), batch_size=4)
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.0), loader, big, epochs=1,
        callbacks=[flow], verbose=0)
    h = np.tanh(CORNERS @ model.a.weight.data.T + model.a.bias.data)
    out = np.tanh(h @ model.b.weight.data.T + model.b.bias.data)
    assert list(flow.activations) == ["act", "act#2"]
    assert flow.activations["act"]["mean"][0] == pytest.approx(h.astype(float).mean(), rel=1e-6)
    assert flow.activations["act#2"]["std"][0] == pytest.approx(out.astype(float).std(),
                                                                rel=1e-5)
    assert flow.activations["act"]["saturated"] == [0.0]  # the ×100 validation inputs unseen


def test_print_report_follows_the_verbosity_and_the_png_is_written(tmp_path, capsys):
    image = pytest.importorskip("matplotlib.image")
    model = _deep(nn.Tanh, lambda w: nn.init.normal_(w, 0.0, 0.01), depth=6)
    flow = GradientFlow(tmp_path / "flow.png", report="print")
    loader = DataLoader(TensorDataset(X, Y), batch_size=128, shuffle=True, seed=0)
    fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1), loader, epochs=2,
        callbacks=[flow], verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch 1/2")
    assert lines[1].startswith("  diagnose: gradients vanish: the gradient reaching layer '1'")
    assert lines[2].startswith("epoch 2/2") and len(lines) == 3
    data = (tmp_path / "flow.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.imread(tmp_path / "flow.png").shape[:2] == (825, 1540)  # 14 × 7.5 in at 110 dpi
    # with fit's verbose=0 (in its context) nothing is printed, the finding is kept
    quiet = GradientFlow(report="print")
    quiet.set_context(model=model, verbose=0, history=None)
    quiet.on_train_begin()
    model(cr.tensor(X[:4]))
    quiet._activation_watches["1"].on_grad(cr.tensor(np.zeros(3)))
    quiet._activation_watches["9"].on_grad(cr.tensor(np.ones(3)))
    quiet.on_epoch_end(1, {})
    quiet.on_train_end()
    assert capsys.readouterr().out == ""
    assert [f.kind for f in quiet.findings] == ["vanishing"]


def test_bad_arguments_name_what_was_wrong():
    with pytest.raises(ValueError, match="GradientFlow: report must be 'warn', 'print' or "
                                         "'off', got 'loud'"):
        GradientFlow(report="loud")
    with pytest.raises(ValueError, match=r"GradientFlow: dead must be a number in \[0, 1\], "
                                         "got 2"):
        GradientFlow(dead=2)
    with pytest.raises(ValueError, match="GradientFlow.plot: nothing recorded yet"):
        GradientFlow().plot()
    assert GradientFlow().summary() == "GradientFlow: nothing recorded yet"
