"""The chain rule along two paths, checked three ways.

c = v1 * v2 with v1 = a², v2 = a + b, at a = -1, b = 4 (a course problem).
dc/da collects one contribution per path: (dc/dv1)(dv1/da) + (dc/dv2)(dv2/da).
"""

import numpy as np

import chainrule as cr
from chainrule.check import gradcheck

a = cr.tensor(-1.0, requires_grad=True, dtype=np.float64)
b = cr.tensor(4.0, requires_grad=True, dtype=np.float64)
v1, v2 = a**2, a + b
c = v1 * v2
c.backward()
print(f"c = {c.item():g}   dc/da = {a.grad:g}   dc/db = {b.grad:g}")

# Each path on its own: detach the other one so it carries no gradient.
for name, make in [("via a²", lambda t: (t**2) * (t.detach() + b.detach())),
                   ("via a+b", lambda t: (t.detach() ** 2) * (t + b.detach()))]:
    t = cr.tensor(-1.0, requires_grad=True, dtype=np.float64)
    make(t).backward()
    print(f"path {name:8} contributes {t.grad:g}")

# Finite differences agree with the analytic gradient of every input.
print("gradcheck:", gradcheck(lambda x, y: (x**2) * (x + y), [a.detach().requires_grad_(),
                                                          b.detach().requires_grad_()]))

# Per-op timings of a small network's forward and backward pass.
x = cr.randn(64, 10)
w = cr.randn(10, 3, requires_grad=True)
with cr.profiler.profile() as prof:
    (x @ w).relu().log_softmax(dim=1).sum().backward()
print(prof.table())
