"""Optimizer trajectories on an ill-conditioned quadratic.

f(θ) = ½(θ₁² + 25 θ₂²) from θ₀ = (-4, 1). Plain SGD must keep lr < 2/25 for
the steep coordinate, so it crawls along the shallow one; momentum and Nesterov
build speed along the valley with the same lr; the adaptive methods rescale each
coordinate. Prints f(θ) after 10, 25 and 50 steps.
"""

import numpy as np

import chainrule as cr
from chainrule import optim

CURVATURE = np.array([1.0, 25.0])


def losses(make_optimizer, steps: int = 50) -> list[float]:
    """f(θ) after each step."""
    theta = cr.tensor([-4.0, 1.0], requires_grad=True, dtype=np.float64)
    opt = make_optimizer([theta])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * (CURVATURE * theta**2).sum()
        loss.backward()
        opt.step()
        out.append(0.5 * float(CURVATURE @ theta.data**2))
    return out


optimizers = {
    "SGD lr=0.035": lambda p: optim.SGD(p, lr=0.035),
    "momentum 0.8": lambda p: optim.SGD(p, lr=0.035, momentum=0.8),
    "Nesterov 0.8": lambda p: optim.SGD(p, lr=0.035, momentum=0.8, nesterov=True),
    "Adagrad lr=1": lambda p: optim.Adagrad(p, lr=1.0),
    "RMSprop lr=0.1": lambda p: optim.RMSprop(p, lr=0.1),
    "Adam lr=0.1": lambda p: optim.Adam(p, lr=0.1),
}
print(f"{'':<16}{'f after 10':>12}{'25':>10}{'50 steps':>10}")
for name, make in optimizers.items():
    f = losses(make)
    print(f"{name:<16}{f[9]:>12.2e}{f[24]:>10.2e}{f[49]:>10.2e}")
