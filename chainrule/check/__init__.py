"""Checks of gradients: finite differences against the analytic backward
(:func:`gradcheck`), hand-derived gradients against autograd with the slip named
(:func:`derivation`), and the paths a gradient flows along (:func:`explain`)."""

from chainrule.check.derivation import DerivationReport, InputCheck, derivation
from chainrule.check.explain import GradientPath, PathReport, explain
from chainrule.check.gradcheck import GradcheckError, gradcheck

__all__ = [
    "DerivationReport",
    "GradcheckError",
    "GradientPath",
    "InputCheck",
    "PathReport",
    "derivation",
    "explain",
    "gradcheck",
]
