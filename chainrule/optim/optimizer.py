"""Optimizer: the base class of every update rule, with torch.optim's semantics.

An optimizer holds ``param_groups`` -- a list of dicts, each with ``"params"`` (a
list of Tensors) and the hyperparameters that apply to them -- and ``state``, a
dict keyed by the parameter object holding what the rule remembers between
steps (momentum buffers, running averages, step counts).

``step()`` visits every parameter that requires a gradient and has one
(frozen parameters and parameters whose ``.grad`` is None are skipped) and
calls the subclass's ``_update``, which changes ``p.data`` *in place*: a model
keeps the very arrays it was built with, and the optimizer allocates nothing
per step beyond a reused work buffer; each step bumps the parameter's version,
so a graph that saved the old value refuses to backward through it.

``state_dict()`` numbers the parameters 0, 1, ... in group order, as torch does::

    {"state": {0: {"momentum_buffer": array}, ...},
     "param_groups": [{"lr": 0.1, ..., "params": [0, 1]}, ...]}
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from chainrule.function import bump_version, set_grad_enabled
from chainrule.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


def check_hyperparameter(owner: str, name: str, value: Any, valid: bool, expected: str) -> None:
    """Raise ``ValueError`` naming ``owner``, the bad ``value`` and what was ``expected``."""
    if not valid:
        raise ValueError(f"{owner}: invalid {name}={value!r}, expected {expected}")


def direction(
    theta: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool, out: np.ndarray,
    writable: bool = False,
) -> np.ndarray:
    """ĝ = ±g + λθ: the gradient (negated to maximize) plus the L2 decay term.

    λθ is the gradient of the penalty (λ/2)‖θ‖². Returns ``grad`` itself when
    there is nothing to add and not ``writable`` (the caller must not write to
    it), else ``out``.
    """
    if weight_decay != 0:
        np.multiply(theta, weight_decay, out=out)
        if maximize:
            out -= grad
        else:
            out += grad
        return out
    if maximize:
        return np.negative(grad, out=out)
    if writable:
        np.copyto(out, grad)
        return out
    return grad


class Optimizer:
    """Base class: ``param_groups``, per-parameter ``state``, ``step``, ``zero_grad``.

    Subclasses pass their hyperparameters as ``defaults`` (used by every group
    that does not override them) and implement ``_update(p, grad, state, group)``.
    """

    #: how many scratch arrays shaped like a parameter ``_update`` needs
    _n_work = 1

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or dicts, got a single "
                f"Tensor of shape {params.shape}; wrap it in a list"
            )
        _reject_set(params, name)
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._work: dict[Tensor, list[np.ndarray]] = {}
        groups = list(params)
        if not groups:
            raise ValueError(f"{name} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group: its ``"params"`` plus options; missing options take the defaults.

        A parameter may belong to one group only, once (``ValueError`` otherwise).
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a param group must be a dict, got {type(param_group)}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a param group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        _reject_set(params, name)
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (shape {p.shape})")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group contains the same parameter twice")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self.param_groups.append(group)

    # -------------------------------------------------------------------- step
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None``, or zero it in place (``set_to_none=False``)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that requires and has a gradient.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs
        with gradients enabled before the update, and its loss is returned.
        """
        loss = None
        if closure is not None:
            with set_grad_enabled(True):
                loss = closure()
        todo = []
        for group in self.param_groups:  # check everything before changing anything
            for p in group["params"]:
                grad = p.grad
                if grad is None or not p.requires_grad:
                    continue
                if grad.data.shape != p.data.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: a parameter of shape {p.data.shape} "
                        f"has a gradient of shape {grad.data.shape}; expected the parameter's "
                        f"shape"
                    )
                todo.append((p, grad.data, group))
        state = self.state
        for p, grad, group in todo:
            self._update(p, grad, state[p], group)
            bump_version(p)  # an in-place change: a graph that saved p must not use it
        return loss

    def _update(
        self, p: Tensor, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    def _scratch(self, p: Tensor) -> list[np.ndarray]:
        """Work arrays shaped like ``p`` (reused across steps, never saved)."""
        work = self._work.get(p)
        if work is None or work[0].shape != p.data.shape or work[0].dtype != p.data.dtype:
            work = [np.empty_like(p.data) for _ in range(self._n_work)]
            self._work[p] = work
        return work

    # -------------------------------------------------------------- state dict
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index]}]}``.

        Arrays are copied: later steps do not change a saved state dict.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**copy.deepcopy({k: v for k, v in group.items() if k != "params"}),
                           "params": ids})
        state = {
            index[id(p)]: {k: _copy_value(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index and s
        }
        return {"state": state, "param_groups": groups}

    def _check_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Raise ``ValueError`` unless ``state_dict`` fits this optimizer.

        Checked: the number and sizes of the groups, that they have this
        optimizer's options (a state dict of another kind of optimizer is
        refused), distinct parameter indices, and state arrays shaped like their
        parameters. Changes nothing; :meth:`load_state_dict` calls it first, and a
        checkpoint loader can call it before restoring anything else.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        if (not isinstance(state_dict, Mapping) or not isinstance(state_dict.get("state"), Mapping)
                or not isinstance(state_dict.get("param_groups"), list)):
            raise ValueError(f"{where}: expected {{'state': {{...}}, 'param_groups': [...]}}, "
                             f"got {type(state_dict).__name__}")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for i, (mine, theirs) in enumerate(zip(self.param_groups, saved)):
            if not isinstance(theirs, Mapping) or not isinstance(theirs.get("params"), list):
                raise ValueError(f"{where}: parameter group {i} of the state dict has no "
                                 f"'params' list")
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has "
                    f"{len(theirs['params'])} parameters in the state dict but "
                    f"{len(mine['params'])} in this optimizer"
                )
            ours = set(mine) - {"params", "initial_lr"}
            given = set(theirs) - {"params", "initial_lr"}
            if ours != given:
                raise ValueError(
                    f"{where}: parameter group {i} of the state dict has the options "
                    f"{sorted(given, key=str)}, a {name} has {sorted(ours)}: it was saved from "
                    f"another kind of optimizer"
                )
            for key in sorted(ours):
                if not same_kind(theirs[key], mine[key]):
                    raise ValueError(f"{where}: parameter group {i} has {key}="
                                     f"{theirs[key]!r:.60}, expected a value like {mine[key]!r}")
            for j, p in zip(theirs["params"], mine["params"]):
                index = _as_index(j)
                if index is None or index in by_index:
                    raise ValueError(f"{where}: parameter indices must be distinct ints, got "
                                     f"{j!r:.40} in group {i}")
                by_index[index] = p
        for j, s in state_dict["state"].items():
            p = by_index.get(_as_index(j))
            if p is None:
                raise ValueError(f"{where}: the state dict has state for parameter {j!r:.40}, "
                                 f"which is in none of its parameter groups")
            if not isinstance(s, Mapping):
                raise ValueError(f"{where}: the state of parameter {j} is not a dict")
            for key, value in s.items():
                if not isinstance(value, np.ndarray):
                    continue
                if value.dtype.kind not in "biuf":
                    raise ValueError(f"{where}: state {key!r} of parameter {j} has dtype "
                                     f"{value.dtype}, expected real numbers")
                if value.ndim and value.shape != p.data.shape:
                    raise ValueError(f"{where}: state {key!r} of parameter {j} has shape "
                                     f"{value.shape}, the parameter has shape {p.data.shape}")

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()``: hyperparameters and (copied) per-parameter state.

        The saved groups must have the same sizes and options as this optimizer's
        (checked by :meth:`_check_state_dict`: a refused state dict changes
        nothing); state arrays are cast to their parameter's dtype.
        """
        self._check_state_dict(state_dict)
        saved = state_dict["param_groups"]
        by_index = {
            _as_index(j): p
            for mine, theirs in zip(self.param_groups, saved)
            for j, p in zip(theirs["params"], mine["params"])
        }
        self.state = defaultdict(dict)
        for j, s in state_dict["state"].items():
            p = by_index[_as_index(j)]  # checked above: every index names a parameter
            self.state[p] = {k: _copy_value(v, p.data.dtype) for k, v in s.items()}
        self.param_groups = [
            {**copy.deepcopy({k: v for k, v in theirs.items() if k != "params"}),
             "params": mine["params"]}
            for mine, theirs in zip(self.param_groups, saved)
        ]


def _as_index(j: Any) -> int | None:
    """A parameter index of a state dict (an int, or its digits after a JSON trip)."""
    if isinstance(j, (int, np.integer)) and not isinstance(j, (bool, np.bool_)):
        return int(j)
    if isinstance(j, str) and j.isdigit():
        return int(j)
    return None


def same_kind(value: Any, like: Any) -> bool:
    """Whether a loaded ``value`` can stand where ``like`` stands: both numbers, both
    bools, both str, both mappings, or sequences of the same length of such (None
    on either side matches anything)."""
    if value is None or like is None:
        return True
    for kind in (bool, str, Mapping):
        if isinstance(like, kind) or isinstance(value, kind):
            return isinstance(like, kind) and isinstance(value, kind)
    if isinstance(like, (list, tuple)) or isinstance(value, (list, tuple)):
        return (isinstance(like, (list, tuple)) and isinstance(value, (list, tuple))
                and len(like) == len(value) and all(map(same_kind, value, like)))
    number = (int, float, np.integer, np.floating)
    if isinstance(like, number) or isinstance(value, number):
        return (isinstance(like, number) and isinstance(value, number)
                and not isinstance(value, (bool, np.bool_)))
    return True


def _reject_set(params: Any, owner: str) -> None:
    if isinstance(params, set):
        raise TypeError(
            f"{owner}: params must be an ordered collection (list/tuple), not a set: "
            "the order of a set changes between runs"
        )


def _copy_value(value: Any, dtype: Any = None) -> Any:
    """A copy of a state entry; floating arrays are cast to ``dtype`` if given."""
    if isinstance(value, np.ndarray):
        if dtype is not None and np.issubdtype(value.dtype, np.floating):
            return value.astype(dtype, copy=True)
        return value.copy()
    return copy.deepcopy(value)
