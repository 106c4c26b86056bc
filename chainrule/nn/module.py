"""Module: the base class of every layer and model, as ``torch.nn.Module``.

Assigning a :class:`Parameter`, a :class:`Module` or (after ``register_buffer``)
a buffer Tensor to an attribute registers it; ``parameters()``, ``state_dict()``,
``train()``/``eval()``, ``to(dtype)`` and ``zero_grad()`` then walk the tree of
submodules. Names follow PyTorch ("0.weight", "bn.running_mean"), so a
state dict maps key for key onto the same architecture built in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from chainrule.function import bump_version
from chainrule.hooks import RemovableHandle
from chainrule.nn.backward_hooks import BackwardHook, call_with_backward_hooks
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor

ForwardHook = Callable[["Module", tuple[Any, ...], Any], Any]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


_DEVICES = ("cpu", "cuda", "mps", "xpu", "meta")


def _cpu_only(device: Any, caller: str) -> None:
    """Accept ``device=None``/``"cpu"`` (as torch code passes it); refuse any other device."""
    if device is not None and str(device).split(":")[0] != "cpu":
        raise ValueError(f"{caller}: chainrule runs on the CPU only, got device {device!r}")


def _float_dtype(dtype: Any, caller: str) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{caller}: {dtype!r} is not a dtype") from None
    if not np.issubdtype(resolved, np.floating):
        raise TypeError(f"{caller}: expected a floating-point dtype, got {resolved}")
    return resolved


def _add_indent(text: str, spaces: int) -> str:
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])


class Module:
    """Base class for layers and models: subclass it and define ``forward``.

    >>> class MLP(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = Linear(4, 3)
    ...     def forward(self, x):
    ...         return self.fc(x).relu()
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_backward_hooks", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._backward_hooks:
            return call_with_backward_hooks(
                self, list(self._backward_hooks.values()), args,
                lambda *watched: self._forward_with_hooks(watched, kwargs),
            )
        return self._forward_with_hooks(args, kwargs)

    def _forward_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        output = self.forward(*args, **kwargs)
        if not self._forward_hooks:
            return output
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_hook(self, hook: ForwardHook) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every forward; a non-None
        return value replaces the output. Returns a handle with ``remove()``."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_full_backward_hook(self, hook: BackwardHook) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect
        to this module's inputs are computed (see :mod:`chainrule.nn.backward_hooks`).
        Returns a handle with ``remove()``."""
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------ registration
    def _registry(self, kind: str) -> dict[str, Any]:
        registry = self.__dict__.get(kind)
        if registry is None:
            raise AttributeError(
                f"cannot assign {kind[1:-1]} before Module.__init__() call "
                f"(call super().__init__() first in {type(self).__name__}.__init__)"
            )
        return registry

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)
        for kind in ("_parameters", "_buffers", "_modules"):
            self.__dict__[kind].pop(name, None)
        self._non_persistent_buffers.discard(name)

    def _check_name(self, name: Any, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f'{kind} name can\'t contain "." and can\'t be empty, got {name!r}')
        taken = name in self.__dict__ or any(
            name in self.__dict__[k] for k in ("_parameters", "_buffers", "_modules")
        )
        if hasattr(type(self), name) or (taken and name not in self.__dict__[f"_{kind}s"]):
            raise KeyError(f"attribute '{name}' already exists in {type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter, or None for an absent one) as ``name``."""
        self._registry("_parameters")
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(chainrule.nn.Parameter or None required)"
            )
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-learnable Tensor (e.g. BatchNorm's running mean) as ``name``.

        Buffers are saved in ``state_dict()`` (unless ``persistent=False``) and
        converted by ``to(dtype)``, but are not returned by ``parameters()``.
        """
        self._registry("_buffers")
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(chainrule.Tensor or None required)"
            )
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the submodule ``name`` (as ``self.name = module``)."""
        self._registry("_modules")
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Parameter):
            self._registry("_parameters")
            self._forget(name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(chainrule.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._registry("_modules")
            self._forget(name)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(chainrule.nn.Module or None expected)"
                )
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(chainrule.Tensor or None expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails; __dict__ may still be empty
        # (e.g. during copy.deepcopy), so never recurse through self._x here.
        state = self.__dict__
        for kind in ("_parameters", "_buffers", "_modules"):
            registry = state.get(kind)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for kind in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(kind, ()):
                del self.__dict__[kind][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        for kind in ("_parameters", "_buffers", "_modules"):
            names.update(self.__dict__[kind])
        return sorted(names)

    # -------------------------------------------------------------- traversal
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(qualified name, module) for this module ("") and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = f"{prefix}.{name}" if prefix else name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(
        self, kind: str, prefix: str, recurse: bool, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        owners = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for owner_prefix, module in owners:
            for name, value in module.__dict__[kind].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{owner_prefix}.{name}" if owner_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(name, Parameter) pairs; a parameter shared by two modules is listed once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every submodule (children first), then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ state
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``training=mode``) here and in every submodule."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(): mode is expected to be a bool, got {mode!r}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode: Dropout is the identity, BatchNorm uses its running stats."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad``: to None (default) or to zeros in place."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad.zero_()

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Module:
        """Convert floating parameters and buffers (and their grads) to ``dtype``.

        ``to(dtype)``, ``to(dtype=...)``; the device "cpu" is accepted and
        ignored. The Parameter objects are kept (their ``.data`` is replaced),
        so optimizers built before or after still hold the right tensors.
        """
        for arg in args:
            if isinstance(arg, str) and arg.split(":")[0] in _DEVICES:
                device = arg
            elif dtype is None:
                dtype = arg
            else:
                raise TypeError(f"to(): unexpected argument {arg!r} after dtype={dtype!r}")
        _cpu_only(device, "to()")
        if dtype is None:
            return self
        target = _float_dtype(dtype, f"{type(self).__name__}.to")
        for _, tensor in self._named_members("_parameters", "", True):
            _convert(tensor, target)
        for _, tensor in self._named_members("_buffers", "", True):
            _convert(tensor, target)
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def state_dict(
        self, destination: dict[str, Any] | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Any]:
        """Parameters and persistent buffers by qualified name, as ``np.ndarray`` s.

        The arrays share memory with the module (copy them to take a snapshot);
        with ``keep_vars=True`` the Tensors themselves are returned.
        """
        destination = {} if destination is None else destination
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.data
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buffer if keep_vars else buffer.data
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the existing arrays (in place: optimizers stay valid).

        Values may be ndarrays, Tensors or anything ``np.asarray`` accepts (a
        torch tensor, say). Every problem — missing keys and unexpected keys (if
        ``strict``), shape mismatches and values that are not real numbers (always)
        — is reported in one ValueError before anything is changed. Returns the
        missing and unexpected keys.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"expected a mapping for state_dict, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        values: dict[str, np.ndarray] = {}
        mismatched = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            try:  # convert every value before assigning any: a refusal changes nothing
                value = value.data if isinstance(value, Tensor) else np.asarray(value)
                if value.dtype == object:  # a list holding None, str ...: infer its type again
                    value = np.asarray(value.tolist())
            except (TypeError, ValueError, RuntimeError) as exc:
                mismatched.append(f"cannot convert {key} to an array: {exc}")
                continue
            if value.dtype.kind not in "biuf":
                mismatched.append(f"cannot load {key}: its values (dtype {value.dtype}) are not "
                                  f"real numbers")
            elif value.shape != target.shape:
                mismatched.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from "
                    f"the state dict, the shape in the current model is {target.shape}."
                )
            values[key] = value
        problems = []
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + _quoted(unexpected) + ".")
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + _quoted(missing) + ".")
        problems += mismatched
        if problems:
            raise ValueError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(problems)
            )
        for key, value in values.items():
            own[key].data[...] = value
            bump_version(own[key])  # a graph that saved the old value must not use it
        return IncompatibleKeys(missing, unexpected)

    # --------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The layer's settings shown inside its repr, e.g. ``in_features=4, ...``."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _add_indent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"


def _quoted(keys: list[str]) -> str:
    return ", ".join(f'"{key}"' for key in keys)


def _convert(tensor: Tensor, dtype: np.dtype) -> None:
    if np.issubdtype(tensor.data.dtype, np.floating) and tensor.data.dtype != dtype:
        grad = tensor.grad
        tensor.data = tensor.data.astype(dtype)
        if grad is not None:
            tensor.grad = grad.data.astype(dtype)
