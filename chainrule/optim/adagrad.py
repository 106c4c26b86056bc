"""Adagrad: per-coordinate learning rates shrinking with the summed squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.optim.optimizer import Optimizer, ParamsT, check_hyperparameter, direction
from chainrule.tensor import Tensor


class Adagrad(Optimizer):
    r"""Adagrad (torch.optim.Adagrad).

    At step t, with ĝ = g + λθ (-g with ``maximize``)::

        r ← r + ĝ²                          state["sum"], starts at ``initial_accumulator_value``
        ε_t = ε / (1 + (t - 1) η)           η = ``lr_decay``
        θ ← θ - ε_t ĝ / (√r + δ)            δ = ``eps``
    """

    _n_work = 2

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyperparameter("Adagrad", "lr", lr, lr >= 0, "lr >= 0")
        check_hyperparameter("Adagrad", "lr_decay", lr_decay, lr_decay >= 0, "lr_decay >= 0")
        check_hyperparameter(
            "Adagrad", "weight_decay", weight_decay, weight_decay >= 0, "weight_decay >= 0"
        )
        check_hyperparameter(
            "Adagrad", "initial_accumulator_value", initial_accumulator_value,
            initial_accumulator_value >= 0, "initial_accumulator_value >= 0",
        )
        check_hyperparameter("Adagrad", "eps", eps, eps >= 0, "eps >= 0")
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _update(
        self, p: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        theta = p.data
        work, work2 = self._scratch(p)
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(theta, float(group["initial_accumulator_value"]))
        state["step"] += 1
        r = state["sum"]
        g = direction(theta, grad, float(group["weight_decay"]), group["maximize"], work)

        r += np.square(g, out=work2)  # r ← r + ĝ²
        clr = float(group["lr"]) / (1.0 + (state["step"] - 1) * float(group["lr_decay"]))
        std = np.sqrt(r, out=work2)  # √r + δ
        std += float(group["eps"])
        update = np.divide(g, std, out=work2)  # θ ← θ - ε_t ĝ / (√r + δ)
        update *= -clr
        theta += update
