"""Adam and AdamW: momentum on the gradient, scaled by a running RMS, bias-corrected."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.optim.optimizer import Optimizer, ParamsT, check_hyperparameter, direction
from chainrule.tensor import Tensor


class Adam(Optimizer):
    r"""Adam (torch.optim.Adam), optionally AMSGrad, L2 or decoupled weight decay.

    At step t, with ĝ = g + λθ (L2 decay; -g with ``maximize``)::

        m ← β₁ m + (1 - β₁) ĝ              state["exp_avg"]
        v ← β₂ v + (1 - β₂) ĝ²             state["exp_avg_sq"]
        m̂ = m / (1 - β₁ᵗ)    v̂ = v / (1 - β₂ᵗ)
        θ ← θ - ε m̂ / (√v̂ + δ)             δ = ``eps``, added after the square root

    ``amsgrad`` uses v_max ← max(v_max, v) (state["max_exp_avg_sq"]) in place of v.
    ``decoupled_weight_decay`` (AdamW) leaves ĝ = g and instead shrinks the
    weights first: θ ← θ (1 - ε λ).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        name = type(self).__name__
        check_hyperparameter(name, "lr", lr, lr >= 0, "lr >= 0")
        check_hyperparameter(name, "eps", eps, eps >= 0, "eps >= 0")
        check_hyperparameter(name, "betas", betas, len(betas) == 2, "a pair (beta1, beta2)")
        for i, beta in enumerate(betas):
            check_hyperparameter(name, f"betas[{i}]", beta, 0 <= beta < 1, "0 <= beta < 1")
        check_hyperparameter(
            name, "weight_decay", weight_decay, weight_decay >= 0, "weight_decay >= 0"
        )
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(
        self, p: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        theta = p.data
        (work,) = self._scratch(p)
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(theta)
            state["exp_avg_sq"] = np.zeros_like(theta)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(theta)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]

        if group["decoupled_weight_decay"]:
            if wd != 0:
                theta *= 1.0 - lr * wd  # θ ← θ (1 - ε λ)
            wd = 0.0
        g = direction(theta, grad, wd, group["maximize"], work, writable=True)
        m -= g  # m ← β₁ m + (1 - β₁) ĝ  =  ĝ + β₁ (m - ĝ)
        m *= beta1
        m += g
        g2 = np.square(g, out=work)  # v ← β₂ v + (1 - β₂) ĝ²
        g2 *= 1.0 - beta2
        v *= beta2
        v += g2
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])

        step_size = lr / (1.0 - beta1**t)  # ε m̂ = ε m / (1 - β₁ᵗ)
        denom = np.sqrt(v, out=work)  # √v̂ + δ = √v / √(1 - β₂ᵗ) + δ
        denom /= (1.0 - beta2**t) ** 0.5
        denom += eps
        update = np.divide(m, denom, out=work)  # θ ← θ - ε m̂ / (√v̂ + δ)
        update *= -step_size
        theta += update


class AdamW(Adam):
    r"""Adam with decoupled weight decay (torch.optim.AdamW).

    θ ← θ (1 - ε λ), then the Adam step on the plain gradient (see :class:`Adam`).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
