"""RMSprop: divide the gradient by a running RMS of recent gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.optim.optimizer import Optimizer, ParamsT, check_hyperparameter, direction
from chainrule.tensor import Tensor


class RMSprop(Optimizer):
    r"""RMSprop (torch.optim.RMSprop), optionally centered and with momentum.

    With ĝ = g + λθ (-g with ``maximize``), ρ = ``alpha``, δ = ``eps``::

        r ← ρ r + (1 - ρ) ĝ²                state["square_avg"]
        centered:  ḡ ← ρ ḡ + (1 - ρ) ĝ      state["grad_avg"]
                   s = √(r - ḡ²) + δ        (an estimate of the gradient's std)
        otherwise  s = √r + δ
        momentum:  b ← μ b + ĝ / s,  θ ← θ - ε b     state["momentum_buffer"]
        otherwise  θ ← θ - ε ĝ / s
    """

    _n_work = 2

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyperparameter("RMSprop", "lr", lr, lr >= 0, "lr >= 0")
        check_hyperparameter("RMSprop", "alpha", alpha, alpha >= 0, "alpha >= 0")
        check_hyperparameter("RMSprop", "eps", eps, eps >= 0, "eps >= 0")
        check_hyperparameter("RMSprop", "momentum", momentum, momentum >= 0, "momentum >= 0")
        check_hyperparameter(
            "RMSprop", "weight_decay", weight_decay, weight_decay >= 0, "weight_decay >= 0"
        )
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _update(
        self, p: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        theta = p.data
        work, work2 = self._scratch(p)
        rho, mu = float(group["alpha"]), float(group["momentum"])
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(theta)
            if mu > 0:
                state["momentum_buffer"] = np.zeros_like(theta)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(theta)
        state["step"] += 1
        r = state["square_avg"]
        g = direction(theta, grad, float(group["weight_decay"]), group["maximize"], work)

        r *= rho  # r ← ρ r + (1 - ρ) ĝ²
        g2 = np.square(g, out=work2)
        g2 *= 1.0 - rho
        r += g2
        if group["centered"]:
            g_avg = state["grad_avg"]  # ḡ ← ρ ḡ + (1 - ρ) ĝ  =  ĝ + ρ (ḡ - ĝ)
            g_avg -= g
            g_avg *= rho
            g_avg += g
            s = np.square(g_avg, out=work2)  # s = √(r - ḡ²) + δ
            np.subtract(r, s, out=s)
            np.sqrt(s, out=s)
        else:
            s = np.sqrt(r, out=work2)  # s = √r + δ
        s += float(group["eps"])

        step = np.divide(g, s, out=work2)  # ĝ / s
        if mu > 0:
            b = state["momentum_buffer"]  # b ← μ b + ĝ / s,  θ ← θ - ε b
            b *= mu
            b += step
            theta += np.multiply(b, -float(group["lr"]), out=work2)
        else:
            step *= -float(group["lr"])  # θ ← θ - ε ĝ / s
            theta += step
