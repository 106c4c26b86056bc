"""Stochastic gradient descent, with momentum, Nesterov momentum and L2 weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.optim.optimizer import Optimizer, ParamsT, check_hyperparameter, direction
from chainrule.tensor import Tensor


class SGD(Optimizer):
    r"""Gradient descent (torch.optim.SGD).

    With ĝ = g + λθ (``weight_decay`` λ; -g + λθ with ``maximize``)::

        plain     θ ← θ - ε ĝ
        momentum  v ← ĝ                    (first step: the buffer starts at the gradient)
                  v ← μ v + (1 - τ) ĝ      (later steps; τ = ``dampening``)
                  θ ← θ - ε v
        nesterov  θ ← θ - ε (ĝ + μ v)

    ε = ``lr``, μ = ``momentum``. This is the course's v ← αv - εg, θ ← θ + v
    with v_course = -ε v (for a constant ε).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyperparameter("SGD", "lr", lr, lr >= 0, "lr >= 0")
        check_hyperparameter("SGD", "momentum", momentum, momentum >= 0, "momentum >= 0")
        check_hyperparameter(
            "SGD", "weight_decay", weight_decay, weight_decay >= 0, "weight_decay >= 0"
        )
        check_hyperparameter(
            "SGD", "nesterov", nesterov, not nesterov or (momentum > 0 and dampening == 0),
            f"nesterov=True only with momentum > 0 and dampening = 0 (got momentum="
            f"{momentum}, dampening={dampening})",
        )
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update(
        self, p: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        theta = p.data
        (work,) = self._scratch(p)
        lr, mu = float(group["lr"]), float(group["momentum"])
        g = direction(theta, grad, float(group["weight_decay"]), group["maximize"], work)
        if mu == 0:
            theta += np.multiply(g, -lr, out=work)  # θ ← θ - ε ĝ
            return
        v = state.get("momentum_buffer")
        if v is None:
            v = state["momentum_buffer"] = g.astype(theta.dtype)  # v ← ĝ (a copy)
        else:
            v *= mu  # v ← μ v + (1 - τ) ĝ
            dampening = float(group["dampening"])
            v += np.multiply(g, 1.0 - dampening, out=work) if dampening != 0 else g
        if group["nesterov"]:
            theta += np.multiply(g, -lr, out=work)  # θ ← θ - ε ĝ - ε μ v
            theta += np.multiply(v, -lr * mu, out=work)
        else:
            theta += np.multiply(v, -lr, out=work)  # θ ← θ - ε v
