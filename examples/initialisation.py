"""Why initialisation matters, diagnosed by the GradientFlow callback.

Four networks learn the two-moons problem, differing only in their initial weights:

1. all-zero or all-equal weights: every hidden unit computes the same function and
   gets the same gradient, so the units stay identical (the symmetry never breaks);
2. tiny weights (std 0.01) in a deep tanh net: the gradient vanishes on its way back;
3. large weights (std 1): sigmoid and tanh units saturate;
4. ReLU with He initialisation: a healthy deep network.

Each case prints a few lines: what was measured, and what GradientFlow said.
"""

import textwrap

import numpy as np

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.data.datasets.synthetic import make_moons
from chainrule.train import evaluate, fit
from chainrule.train.diagnostics import GradientFlow

F = cr.nn.functional
X, Y = make_moons(512, noise=0.15, seed=0)


def network(activation, init, depth, width=32):
    """``depth`` Linear layers, an ``activation`` after each but the last; biases 0."""
    cr.manual_seed(0)
    sizes = [2] + [width] * (depth - 1)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    model = nn.Sequential(*layers, nn.Linear(width, 2))
    for layer in model:
        if isinstance(layer, nn.Linear):
            init(layer.weight)
            nn.init.zeros_(layer.bias)
    return model


def train(model, epochs=20):
    """Train with SGD + momentum under a GradientFlow; return (flow, accuracy, last loss)."""
    loader = DataLoader(TensorDataset(X, Y), batch_size=64, shuffle=True, seed=0)
    flow = GradientFlow(report="off")  # we print its findings ourselves
    history = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                  loader, epochs=epochs, callbacks=[flow], verbose=0)
    accuracy = evaluate(model, DataLoader(TensorDataset(X, Y), batch_size=512))["accuracy"]
    return flow, accuracy, history["train_loss"][-1]


def said(flow, kind=None):
    """What GradientFlow found (of one kind), wrapped, indented."""
    found = [f for f in flow.findings if kind is None or f.kind == kind]
    text = found[0].message if found else "no problem found"
    return textwrap.fill(f"GradientFlow: {text}", 96, initial_indent="   ",
                         subsequent_indent="     ")


def unit_spread(model):
    """The largest difference between two hidden units' incoming weights."""
    w = model[0].weight.data
    return float(np.abs(w - w[0]).max())


print("1. all-zero / all-equal initialisation (one hidden layer of 32 tanh units)")
x = cr.tensor([[1.0, -2.0, 0.5, 3.0], [0.5, 1.0, -1.0, 2.0]], dtype=cr.float64)
y = cr.tensor([[1.0], [0.0]], dtype=cr.float64)
for name, act in (("tanh", nn.Tanh), ("sigmoid", nn.Sigmoid)):
    tiny = nn.Sequential(nn.Linear(4, 3, bias=False), act(), nn.Linear(3, 1, bias=False))
    tiny.double().apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    (0.5 * F.mse_loss(tiny(x), y)).backward()  # the course's L = (1/2N) Σ (out - y)²
    print(f"   zero_init_tanh_no_learning, {name:<7}: dL/dW1 = {tiny[0].weight.grad.abs().max():g} "
          f"everywhere, dL/dW2 = {tiny[2].weight.grad.data.ravel()}")
for name, init, kind in (("all-zero", nn.init.zeros_, "vanishing"),
                         ("all-equal (0.3)", lambda w: nn.init.constant_(w, 0.3), "symmetric")):
    model = network(nn.Tanh, init, depth=2)
    flow, accuracy, _ = train(model)
    print(f"   {name:<15}: max difference between hidden units' weights after training = "
          f"{unit_spread(model):g}, accuracy {accuracy:.2f}")
    print(said(flow, kind))

print("\n2. tiny initialisation (std 0.01), 10 layers of tanh")
flow, accuracy, loss = train(network(nn.Tanh, lambda w: nn.init.normal_(w, 0.0, 0.01), 10))
signal = flow.activations
ratio = signal["1"]["grad_norm"][0] / signal["17"]["grad_norm"][0]
print(f"   the gradient reaching the first tanh layer is {ratio:.1e} times the one reaching the "
      f"last;\n   after 20 epochs the loss is {loss:.3f} (ln 2 = 0.693: nothing learnt), "
      f"accuracy {accuracy:.2f}")
print(said(flow, "vanishing"))

print("\n3. large initialisation (std 3), 4 layers")
for act in (nn.Tanh, nn.Sigmoid):
    flow, accuracy, loss = train(network(act, lambda w: nn.init.normal_(w, 0.0, 3.0), 4))
    fractions = [f"{signal['saturated'][0]:.0%}" for signal in flow.activations.values()]
    print(f"   {act.__name__:<7}: saturated outputs per layer in epoch 1: {', '.join(fractions)} "
          f"(loss {loss:.3f}, accuracy {accuracy:.2f})")
    print(said(flow, "saturated"))

print("\n4. ReLU with He initialisation, 10 layers")
flow, accuracy, loss = train(network(
    nn.ReLU, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), 10))
signal = flow.activations
ratio = signal["1"]["grad_norm"][0] / signal["17"]["grad_norm"][0]
dead = max(s["dead"][-1] for s in signal.values())
print(f"   the gradient reaching the first ReLU layer is {ratio:.2f} times the one reaching the "
      f"last;\n   at most {dead:.0%} of a layer's units dead; loss {loss:.3f}, accuracy "
      f"{accuracy:.2f}")
print(said(flow))
