"""Neural-network building blocks (modules are added by the nn work)."""

from chainrule.nn import functional

__all__ = ["functional"]
