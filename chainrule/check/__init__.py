"""Checks of gradients: finite differences against the analytic backward."""

from chainrule.check.gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "gradcheck"]
