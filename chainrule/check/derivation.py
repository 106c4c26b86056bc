"""Derivation checker: is a hand-derived gradient right, and if not, which slip is it?

``derivation(forward, claimed, inputs)`` evaluates the claimed gradient and
autograd's at the given inputs and at ``points - 1`` random points of the same
shapes, and reports per input a verdict, the errors, the elements that differ
and, when the claim is wrong, whether it is the true gradient up to a common slip:

- ``'sign'``:         claimed = -true at every point;
- ``'transpose'``:    claimed = trueᵀ (a square matrix transposed, or a claim of the
                      transposed shape that is trueᵀ);
- ``'factor'``:       claimed = c · true for one constant c ≠ ±1 at every point
                      (c = ½ or 2: a lost ½ of a squared error, a doubled term);
- ``'missing-path'``: claimed = the sum of the contributions of some but not all of
                      the paths from the input to the output (see
                      :func:`chainrule.check.explain`): a forgotten use of a shared
                      weight or of a variable that appears twice.

They are tried in that order; the first that fits every point is reported.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from chainrule.check.explain import explain
from chainrule.factory import tensor
from chainrule.tensor import Tensor

__all__ = ["DerivationReport", "InputCheck", "derivation"]

SLIPS = ("sign", "transpose", "factor", "missing-path")
#: more paths than this and the 2^p subsets are not searched for a missing path
_MAX_PATHS_SEARCHED = 12
#: how many differing elements a check keeps
_SHOWN_DIFFERENCES = 3


@dataclass
class InputCheck:
    """The verdict on the claimed gradient of one input.

    ``verdict`` is ``'correct'``, ``'wrong'``, ``'wrong shape'`` or ``'not finite'``;
    ``slip`` one of ``SLIPS`` or None; ``factor`` the constant c of a ``'factor'``
    slip; ``missing`` the paths a ``'missing-path'`` claim leaves out (as
    ``'W1 → MatMul[0] → … → L'``) of the ``path_count`` paths. The errors are the
    largest over the points: ``max_abs_error`` = max |claimed - true|,
    ``max_rel_error`` = max|claimed - true| / max|true| (None when the shapes
    differ). ``differing`` holds up to three (index, claimed, true) triples, the
    largest differences at ``differing_point`` (0: the given point, k > 0: the k-th
    random one).
    """

    name: str
    verdict: str
    points: int
    wrong_points: int = 0
    slip: str | None = None
    factor: float | None = None
    missing: tuple[str, ...] = ()
    path_count: int = 0
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    differing: list[tuple[tuple[int, ...], float, float]] = field(default_factory=list)
    differing_point: int = 0
    shapes: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # (claimed, true) if unequal
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "correct"

    def __str__(self) -> str:
        if self.ok:
            return (f"{self.name}: correct at all {self.points} points "
                    f"(max abs error {self.max_abs_error:.2g})")
        lines = [f"{self.name}: {self._headline()}"]
        if self.max_abs_error is not None:
            lines.append(f"    max abs error {self.max_abs_error:.4g}, "
                         f"max rel error {self.max_rel_error:.4g}")
        if self.differing:
            where = ("the given point" if self.differing_point == 0
                     else f"random point {self.differing_point}")
            lines.append(f"    where they differ most (at {where}):")
            lines.append(f"      {'index':<12}{'yours':>14}{'true':>14}")
            lines += [f"      {str(i):<12}{c:>14.6g}{t:>14.6g}" for i, c, t in self.differing]
        if self.note:
            lines.append(f"    ({self.note})")
        return "\n".join(lines)

    def _headline(self) -> str:
        everywhere = f"at all {self.points} points"
        if self.slip == "sign":
            return f"wrong — looks like a sign slip: your gradient is the negative of the " \
                   f"true one {everywhere}"
        if self.slip == "transpose":
            shapes = (f" (shape {self.shapes[0]} where the input has shape {self.shapes[1]})"
                      if self.shapes else "")
            return f"wrong — looks like a transpose slip: your gradient is the transpose of " \
                   f"the true one{shapes} {everywhere}"
        if self.slip == "factor":
            return f"wrong — looks like a constant-factor slip: your gradient is " \
                   f"{_number(self.factor)} times the true one {everywhere}"
        if self.slip == "missing-path":
            kept = self.path_count - len(self.missing)
            return f"wrong — looks like a missing path: your gradient is the sum over {kept} " \
                   f"of the {self.path_count} paths to the output {everywhere}; missing: " + \
                   "; ".join(self.missing)
        if self.verdict == "wrong shape":
            return f"wrong shape: your gradient has shape {self.shapes[0]}, but a gradient " \
                   f"has its input's shape {self.shapes[1]}"
        if self.verdict == "not finite":
            return "not finite: your gradient has nan or inf where the true one is finite"
        return f"wrong at {self.wrong_points} of {self.points} points — not a sign, " \
               f"transpose, constant-factor or missing-path slip"


@dataclass
class DerivationReport:
    """The verdicts on every input's claimed gradient.

    ``ok`` is True when every claim is correct; ``slip`` is the slip of the first
    wrong input (None if all are correct or no common slip explains it);
    ``inputs`` holds one :class:`InputCheck` per input (also ``report['W1']``).
    ``points`` counts the points compared, ``skipped`` the random points left out
    because the forward pass or the true gradient was not finite there.
    """

    inputs: list[InputCheck]
    points: int
    skipped: int
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.inputs)

    @property
    def slip(self) -> str | None:
        return next((check.slip for check in self.inputs if not check.ok), None)

    def __getitem__(self, name: str) -> InputCheck:
        for check in self.inputs:
            if check.name in (name, f"∂L/∂{name}"):
                return check
        raise KeyError(f"no input named {name!r}; inputs: {[c.name for c in self.inputs]}")

    def __str__(self) -> str:
        random = self.points - 1
        head = (f"derivation check at {self.points} point{'s' * (self.points != 1)} "
                f"(the given one and {random} random), rtol={self.rtol:g}, atol={self.atol:g}")
        if self.skipped:
            head += f"; {self.skipped} random points skipped (not finite there)"
        wrong = [c.name for c in self.inputs if not c.ok]
        tail = "all gradients correct" if not wrong else f"wrong: {', '.join(wrong)}"
        return "\n".join([head, *(str(c) for c in self.inputs), tail])


def _number(value: float) -> str:
    """c, and the fraction it is when it is a simple one (0.5 = 1/2)."""
    fraction = Fraction(value).limit_denominator(12)
    if abs(float(fraction) - value) < 1e-9 * max(1.0, abs(value)) and fraction.denominator > 1:
        return f"{value:g} (= {fraction})"
    return f"{value:g}"


def _names(forward: Callable[..., Any], inputs: Any) -> tuple[list[str], list[np.ndarray]]:
    """The inputs as float64 arrays and their names: a mapping's keys, else the
    parameter names of ``forward``, else x0, x1, …"""
    if isinstance(inputs, Mapping):
        names, values = [str(k) for k in inputs], list(inputs.values())
    elif isinstance(inputs, (list, tuple)):
        values = list(inputs)
        try:
            params = [p.name for p in inspect.signature(forward).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            params = []
        names = params[:len(values)] if len(params) >= len(values) else \
            [f"x{i}" for i in range(len(values))]
    else:
        raise TypeError(
            f"derivation: inputs must be a list/tuple of arrays or a dict name -> array, "
            f"got {type(inputs).__name__}"
        )
    if not values:
        raise ValueError("derivation: inputs is empty; give at least one array")
    arrays = []
    for name, value in zip(names, values):
        try:
            array = np.array(value.data if isinstance(value, Tensor) else value,
                             dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"derivation: input {name!r} is not numeric: {type(value).__name__}"
            ) from None
        if not np.all(np.isfinite(array)):
            raise ValueError(f"derivation: input {name!r} has nan or inf values")
        arrays.append(array)
    return names, arrays


def _random_point(arrays: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Random inputs near the given ones' scale: x + σ ε with ε ~ N(0, 1) and σ the
    root mean square of x (1 if x is 0); an all-positive x stays positive: x e^(ε/2)."""
    point = []
    for x in arrays:
        noise = rng.standard_normal(x.shape)
        if x.size and np.all(x > 0):
            point.append(x * np.exp(noise / 2))
        else:
            rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
            point.append(x + (rms if rms > 0 else 1.0) * noise)
    return point


def _true_gradients(
    forward: Callable[..., Any], arrays: list[np.ndarray],
) -> tuple[float, list[np.ndarray]]:
    """L and autograd's ∂L/∂x for each input (zeros where L does not depend on it)."""
    leaves = [tensor(a.copy(), requires_grad=True) for a in arrays]
    out = _loss(forward, leaves)
    out.backward()
    grads = [np.zeros(a.shape) if t.grad is None else t.grad.data for a, t in zip(arrays, leaves)]
    return float(out.data), grads


def _loss(forward: Callable[..., Any], leaves: list[Tensor]) -> Tensor:
    out = forward(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(
            f"derivation: forward must return a chainrule Tensor computed with chainrule ops "
            f"from its arguments, got {type(out).__name__}"
        )
    if out.data.size != 1:
        raise ValueError(
            f"derivation: forward must return a scalar (a loss), got shape {out.data.shape}; "
            f"for a vector output v check a scalar of it, e.g. (v * r).sum() for a fixed r"
        )
    if not out.requires_grad:
        raise ValueError(
            "derivation: forward's result does not depend on its inputs through chainrule "
            "ops (no graph was recorded): compute with the Tensors it receives, not .data "
            "or .numpy()"
        )
    return out


def _claims(
    claimed: Callable[..., Any], arrays: list[np.ndarray], names: list[str],
) -> list[np.ndarray]:
    """The claimed gradients at one point, one float64 array per input."""
    result = claimed(*(a.copy() for a in arrays))
    if isinstance(result, (list, tuple)):
        items = list(result)
    elif len(arrays) == 1:
        items = [result]
    else:
        raise TypeError(
            f"derivation: claimed must return a list or tuple of {len(arrays)} arrays (one per "
            f"input: {', '.join(names)}), got {type(result).__name__}"
        )
    if len(items) != len(arrays):
        raise ValueError(
            f"derivation: claimed returned {len(items)} arrays for {len(arrays)} inputs "
            f"({', '.join(names)}); return one gradient per input, in that order"
        )
    claims = []
    for name, item in zip(names, items):
        try:
            claims.append(np.array(item.data if isinstance(item, Tensor) else item,
                                   dtype=np.float64))
        except (TypeError, ValueError):
            raise TypeError(
                f"derivation: claimed's gradient for {name!r} is not numeric: "
                f"{type(item).__name__}"
            ) from None
    return claims


def derivation(
    forward: Callable[..., Any],
    claimed: Callable[..., Any],
    inputs: Sequence[Any] | Mapping[str, Any],
    *,
    points: int = 5,
    seed: int = 0,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> DerivationReport:
    """Check a hand-derived gradient against autograd, and name the slip if it is wrong.

    ``forward(*tensors)`` computes a scalar L with chainrule ops from one float64
    Tensor per input (constants belong in its closure); a non-scalar result is
    refused. ``claimed(*arrays)`` returns the hand-derived ∂L/∂x for every input (a
    list or tuple of arrays, in order; a bare array for one input), from NumPy
    float64 copies of the inputs. ``inputs`` is a list of arrays (named after
    ``forward``'s parameters) or a dict name → array.

    The claim is compared at the given inputs and at ``points - 1`` random points,
    seeded by ``seed``, where each input x becomes x + σε (ε ~ N(0, 1), σ the root
    mean square of x, or 1 if x = 0; an all-positive x becomes x e^(ε/2), so that
    it stays positive). Element i agrees when
    |claimed_i - true_i| ≤ atol + rtol |true_i|. A wrong claim is tested for the
    slips ``'sign'``, ``'transpose'``, ``'factor'`` and ``'missing-path'`` with the
    same tolerances, at every point. Random points where L or its gradient is not
    finite are skipped; at the given inputs that is an error.
    """
    if not callable(forward) or not callable(claimed):
        raise TypeError("derivation: forward and claimed must be functions")
    if not isinstance(points, int) or isinstance(points, bool) or points < 1:
        raise ValueError(f"derivation: points must be a positive integer, got {points!r}")
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol >= 0):
            raise ValueError(f"derivation: {name} must be a finite number ≥ 0, got {tol!r}")
    names, given = _names(forward, inputs)
    rng = np.random.default_rng(seed)
    at, trues, claims = [], [], []
    skipped = 0
    for k in range(points):
        arrays = given if k == 0 else _random_point(given, rng)
        with np.errstate(all="ignore"):
            value, true = _true_gradients(forward, arrays)
            if not (np.isfinite(value) and all(np.all(np.isfinite(t)) for t in true)):
                if k == 0:
                    raise ValueError(
                        f"derivation: L or its gradient is not finite at the given inputs "
                        f"(L = {value})"
                    )
                skipped += 1
                continue
            claims.append(_claims(claimed, arrays, names))
        at.append(arrays)
        trues.append(true)
    checks = []
    for i, name in enumerate(names):
        case = _Case(f"∂L/∂{name}", [c[i] for c in claims], [t[i] for t in trues], rtol, atol)
        checks.append(case.judge(lambda i=i, name=name: _path_contributions(forward, at, i, name)))
    return DerivationReport(checks, len(at), skipped, float(rtol), float(atol))


def _path_contributions(
    forward: Callable[..., Any], at: list[list[np.ndarray]], i: int, name: str,
) -> tuple[dict[tuple, str], list[dict[tuple, np.ndarray]]] | str:
    """Per point, the contribution of each path from input ``i`` to L, keyed by the
    path's (op, slot) steps, and the paths' labels; or why they were not searched."""
    labels: dict[tuple, str] = {}
    per_point = []
    for arrays in at:
        leaves = [tensor(a.copy(), requires_grad=True) for a in arrays]
        with np.errstate(all="ignore"):
            out = _loss(forward, leaves)
            try:
                report = explain(out, leaves[i], max_paths=_MAX_PATHS_SEARCHED,
                                 output_name="L", wrt_name=name)
            except ValueError:
                return f"more than {_MAX_PATHS_SEARCHED} paths: missing paths not searched"
        per_point.append({p.signature: p.contribution for p in report.paths})
        labels.update({p.signature: p.label(name, "L") for p in report.paths})
    return labels, per_point


class _Case:
    """One input's claims and true gradients over the points, and the tests on them."""

    def __init__(self, name: str, claims: list[np.ndarray], trues: list[np.ndarray],
                 rtol: float, atol: float) -> None:
        self.name, self.claims, self.trues = name, claims, trues
        self.rtol, self.atol = rtol, atol

    def close(self, claim: np.ndarray, true: np.ndarray) -> np.ndarray:
        return np.abs(claim - true) <= self.atol + self.rtol * np.abs(true)

    def everywhere(self, make: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> bool:
        """Does ``make(true, claim)`` (what the claim would be after a slip) match every claim?"""
        for c, t in zip(self.claims, self.trues):
            slipped = make(t, c)
            if c.shape != slipped.shape or not np.all(self.close(c, slipped)):
                return False
        return True

    def judge(self, paths: Callable[[], Any]) -> InputCheck:
        n = len(self.claims)
        mismatched = [k for k in range(n) if self.claims[k].shape != self.trues[k].shape]
        if mismatched:
            claim, true = self.claims[mismatched[0]], self.trues[mismatched[0]]
            if claim.ndim >= 2 and claim.T.shape == true.shape and all(
                np.all(self.close(c.T, t)) for c, t in zip(self.claims, self.trues)
            ):
                return InputCheck(self.name, "wrong", n, n, slip="transpose",
                                  shapes=(claim.shape, true.shape))
            return InputCheck(self.name, "wrong shape", n, n, shapes=(claim.shape, true.shape))
        if not all(np.all(np.isfinite(c)) for c in self.claims):
            return InputCheck(self.name, "not finite", n, n)
        errors = [np.abs(c - t) for c, t in zip(self.claims, self.trues)]
        wrong = [k for k in range(n) if not np.all(self.close(self.claims[k], self.trues[k]))]
        max_abs = max(float(e.max(initial=0.0)) for e in errors)
        max_rel = max(_relative(e, t) for e, t in zip(errors, self.trues))
        check = InputCheck(self.name, "correct" if not wrong else "wrong", n, len(wrong),
                           max_abs_error=max_abs, max_rel_error=max_rel)
        if wrong:
            k = wrong[0]
            check.differing_point = k
            check.differing = _largest(errors[k], self.claims[k], self.trues[k])
            self._name_slip(check, paths)
        return check

    def _name_slip(self, check: InputCheck, paths: Callable[[], Any]) -> None:
        if self.everywhere(lambda t, c: -t):
            check.slip = "sign"
        elif self.claims[0].ndim >= 2 and self.everywhere(lambda t, c: t.T):
            check.slip = "transpose"
        elif (factor := self._factor()) is not None:
            check.slip, check.factor = "factor", factor
        else:
            found = paths()
            if isinstance(found, str):
                check.note = found
            elif (missing := self._missing(*found)) is not None:
                check.slip, check.missing = "missing-path", missing
                check.path_count = len(found[0])

    def _factor(self) -> float | None:
        """The least-squares c of claim ≈ c · true over all points, if it fits everywhere
        and is neither 0 nor ±1."""
        tt = sum(float(np.vdot(t, t)) for t in self.trues)
        if tt == 0:
            return None
        c = sum(float(np.vdot(cl, t)) for cl, t in zip(self.claims, self.trues)) / tt
        if min(abs(c), abs(c - 1), abs(c + 1)) < 1e-6 or not self.everywhere(lambda t, _: c * t):
            return None
        return c

    def _missing(self, labels: dict[tuple, str], per_point: list[dict]) -> tuple[str, ...] | None:
        """The paths left out by the largest strict subset whose contributions sum to the
        claim at every point (None if there is none)."""
        keys = list(labels)
        if not 2 <= len(keys) <= _MAX_PATHS_SEARCHED:
            return None
        for size in range(len(keys) - 1, 0, -1):
            for kept in itertools.combinations(range(len(keys)), size):
                if all(np.all(self.close(c, sum((paths.get(keys[j], 0) for j in kept),
                                                np.zeros_like(c))))
                       for c, paths in zip(self.claims, per_point)):
                    return tuple(labels[keys[j]] for j in range(len(keys)) if j not in kept)
        return None


def _relative(error: np.ndarray, true: np.ndarray) -> float:
    """max |claimed - true| / max |true|: 0 when both are 0, inf when only true is."""
    worst, scale = float(error.max(initial=0.0)), float(np.abs(true).max(initial=0.0))
    if worst == 0:
        return 0.0
    return worst / scale if scale > 0 else float("inf")


def _largest(error: np.ndarray, claim: np.ndarray, true: np.ndarray) -> list[
        tuple[tuple[int, ...], float, float]]:
    """The elements with the largest |claimed - true|: (index, claimed, true)."""
    order = np.argsort(-error, axis=None, kind="stable")[:_SHOWN_DIFFERENCES]
    found = []
    for flat in order:
        if error.flat[flat] == 0:
            break
        index = tuple(int(j) for j in np.unravel_index(flat, error.shape))
        found.append((index, float(claim.flat[flat]) + 0.0, float(true.flat[flat]) + 0.0))  # no -0
    return found
