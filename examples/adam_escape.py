"""Adam and the piecewise-linear bump: the widest local minimum Adam still escapes.

f(x) has slope -1 up to x = 1, +1 on (1, 1+h], -1 on (1+h, 1+2h] and -2 beyond: a
local minimum at x = 1 behind a bump of width h. Adam (lr 0.001, betas 0.9/0.999,
eps 0, float64) from x = 0 walks to x = 1 in about 1000 steps of 0.001, and its
momentum then carries it on for a few steps after the gradient turns. The playground
searches for the widest bump it still gets over (x > 1 + 2h within 3000 steps) and
prints it beside the closed form lr · Σ_{k=1..6} (2·0.9ᵏ − 1) = 0.002434062.
"""

import numpy as np

from chainrule import playground

h_max = playground.largest_escaping_width(lr=1e-3, betas=(0.9, 0.999), eps=0.0, beta=2.0)
closed_form = 1e-3 * np.sum(2 * 0.9 ** np.arange(1, 7) - 1)
print(f"largest bump width Adam escapes: h_max = {h_max:.9f}")
print(f"closed form lr * sum_k=1..6 (2 beta1^k - 1) = {closed_form:.9f}")
for width in (h_max * 0.99, h_max * 1.01):
    path = playground.run_path(playground.landscape("piecewise", width=width), "adam",
                               lr=1e-3, steps=3000, options={"eps": 0.0})
    fate = (f"escapes at step {path.steps_to_tol}" if path.steps_to_tol is not None
            else f"trapped near x = {path.final_point[0]:.4f}")
    print(f"h = {width:.6f}: {fate}")
