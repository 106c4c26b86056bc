"""Where trials run: in this process, on local processes (joblib), on Dask or on Ray.

:func:`run_tasks` computes ``[fn(*shared, *task) for task in tasks]``, in that
order, with one of the backends:

- ``'serial'``: one after the other in this process;
- ``'joblib'``: ``n_jobs`` local worker processes (joblib's loky; ``-1``/``None``:
  one per core);
- ``'dask'``: the workers of a Dask distributed cluster: a ``distributed.Client``
  (``client=``), a scheduler address (``address='tcp://host:8786'``), or else a new
  local cluster of ``n_jobs`` single-threaded worker processes;
- ``'ray'``: a Ray cluster (``address='auto'`` or ``'ray://host:10001'``), or else a
  local ``ray.init`` with ``n_jobs`` CPUs; a Ray started here is shut down at the end.

The data in ``shared`` is sent once per worker (joblib memory-maps large arrays,
Dask scatters them, Ray puts them in its object store), not once per task. Dask and
Ray are optional extras, imported only when chosen. Functions and their arguments
travel to the workers with cloudpickle: module-level functions, lambdas and local
functions all do, objects holding locks, open files or generators do not (checked
up front by :func:`check_picklable`). A Dask or Ray cluster on other machines must
have chainrule (and the module that defines ``build``) installed.

``address`` is taken by ``'dask'`` and ``'ray'`` only, ``client`` by ``'dask'`` only:
given to another backend (or both given), they are a ValueError, not ignored. A
cluster that cannot be reached is a ConnectionError naming the backend and the address
(a Dask scheduler is waited for :data:`CONNECT_TIMEOUT` seconds).

The local Dask cluster's worker processes are started as multiprocessing's ``'spawn'``
starts them: each re-runs the main script. A script that calls a search with
``backend='dask'`` and no ``client``/``address`` must therefore do so under
``if __name__ == '__main__':`` (as for any multiprocessing start); called from a
top-level line outside every ``if``/``match`` of the script, the search raises a
RuntimeError naming that line before starting any process.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

__all__ = ["BACKENDS", "CONNECT_TIMEOUT", "check_picklable", "run_tasks"]

BACKENDS = ("joblib", "dask", "ray", "serial")
#: The backends that take each of the arguments ``address`` and ``client``.
TAKES = {"address": ("dask", "ray"), "client": ("dask",)}
#: Seconds to wait for a Dask scheduler at ``address`` to answer.
CONNECT_TIMEOUT = 10
_EXTRAS = {"dask": ("dask.distributed", "Dask distributed"), "ray": ("ray", "Ray")}


def check_backend(backend: Any, n_jobs: Any, owner: str, address: Any = None,
                  client: Any = None) -> int | None:
    """Validate ``backend``, ``n_jobs`` (None, -1 or a positive int) and that ``address``
    and ``client`` are given only to a backend that takes them; return ``n_jobs``."""
    if backend not in BACKENDS:
        raise ValueError(f"{owner}: backend must be one of {BACKENDS}, got {backend!r}")
    for name, value in (("address", address), ("client", client)):
        takers = TAKES[name]
        if value is not None and backend not in takers:
            raise ValueError(f"{owner}: {name}= is only for backend="
                             f"{' or '.join(map(repr, takers))} (backend={backend!r} would "
                             f"ignore it): choose {'one of those' if len(takers) > 1 else 'it'}"
                             f" or drop {name}=")
    if address is not None and client is not None:
        raise ValueError(f"{owner}: give backend='dask' either client= or address=, not both")
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or not (n_jobs >= 1
                                                                      or n_jobs == -1):
        raise ValueError(f"{owner}: n_jobs must be a positive int, -1 (all cores) or None, "
                         f"got {n_jobs!r}")
    return n_jobs


def missing_extra(backend: str) -> ImportError:
    """The error for a cluster backend whose library is not installed."""
    module, name = _EXTRAS[backend]
    return ImportError(f"backend={backend!r} needs {name} (the module {module} is not "
                       f"installed): pip install \"chainrule[{backend}]\"")


def check_picklable(owner: str, backend: str, **objects: Any) -> None:
    """Each of ``objects`` can be sent to ``backend``'s workers (cloudpickle), else a
    TypeError naming it and saying what to do."""
    if backend == "serial":
        return
    import cloudpickle  # a dependency of joblib, Dask and Ray alike

    for name, obj in objects.items():
        try:
            cloudpickle.dumps(obj)
        except Exception as exc:
            raise TypeError(
                f"{owner}: {name}={obj!r} cannot be sent to the worker processes of "
                f"backend={backend!r}: {type(exc).__name__}: {exc}. Define it at module level "
                f"(a function of the config, holding no locks, files or generators), or use "
                f"backend='serial'") from None


def run_tasks(fn: Callable[..., Any], shared: Sequence[Any], tasks: Sequence[tuple],
              *, owner: str, backend: str = "joblib", n_jobs: int | None = None,
              address: str | None = None, client: Any = None) -> list[Any]:
    """``[fn(*shared, *task) for task in tasks]`` computed by ``backend``, in task order;
    errors name ``owner``."""
    if not tasks:
        return []
    if backend == "serial":
        return [fn(*shared, *task) for task in tasks]
    if backend == "joblib":
        from joblib import Parallel, delayed

        return Parallel(n_jobs=-1 if n_jobs is None else n_jobs)(
            delayed(fn)(*shared, *task) for task in tasks)
    if backend == "dask":
        return _run_dask(fn, shared, tasks, owner, n_jobs, address, client)
    return _run_ray(fn, shared, tasks, owner, n_jobs, address)


def unguarded_main_line() -> int | None:
    """The line of the main script whose run led to this call, if that line is not under a
    top-level ``if`` or ``match`` (``if __name__ == '__main__':`` or any condition, which is
    given the benefit of the doubt) and the main script is one that processes started with
    ``'spawn'`` run again (a file or ``python -m module``, not ``python -m package`` or an
    interactive session); else None."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    name = getattr(getattr(main, "__spec__", None), "name", None) or ""
    if path is None or name == "__main__" or name.endswith(".__main__"):
        return None
    frame: FrameType | None = sys._getframe()
    while frame is not None and not (frame.f_globals is vars(main)
                                     and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return None
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None
    line = frame.f_lineno
    for statement in tree.body:  # the top-level statement that holds the line
        if statement.lineno <= line <= (statement.end_lineno or statement.lineno):
            # under an `if` or `match` (the guard, or a condition that may be one): trusted
            return None if isinstance(statement, (ast.If, ast.Match)) else line
    return None


def _run_dask(fn: Callable[..., Any], shared: Sequence[Any], tasks: Sequence[tuple],
              owner: str, n_jobs: int | None, address: str | None,
              client: Any) -> list[Any]:
    try:
        import dask
        from dask import distributed
    except ImportError:
        raise missing_extra("dask") from None
    own = client is None
    if own and address is not None:
        try:
            client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            raise ConnectionError(f"{owner}: could not connect to the Dask scheduler at "
                                  f"{address}: {exc}") from exc
        except ValueError as exc:
            raise ValueError(f"{owner}: address={address!r} is not a Dask scheduler address "
                             f"(tcp://host:8786): {exc}") from exc
    elif own:
        line = (unguarded_main_line() if dask.config.get(
            "distributed.worker.multiprocessing-method", "spawn") != "fork" else None)
        if line is not None:
            raise RuntimeError(
                f"{owner}: backend='dask' starts worker processes that re-run the main script "
                f"{sys.modules['__main__'].__file__}, whose line {line} leads to this call "
                f"outside `if __name__ == '__main__':`; put the script's code under that "
                f"guard (as for any multiprocessing start), or pass client= or address=")
        client = distributed.Client(n_workers=None if n_jobs in (None, -1) else n_jobs,
                                    threads_per_worker=1, dashboard_address=None)
    try:
        data = client.scatter(list(shared), broadcast=True)
        futures = [client.submit(fn, *data, *task, pure=False) for task in tasks]
        return client.gather(futures)
    finally:
        if own:
            client.close()


def _run_ray(fn: Callable[..., Any], shared: Sequence[Any], tasks: Sequence[tuple],
             owner: str, n_jobs: int | None, address: str | None) -> list[Any]:
    try:
        import ray
    except ImportError:
        raise missing_extra("ray") from None
    own = not ray.is_initialized()
    if own:
        if address is not None:
            try:
                ray.init(address=address)
            except Exception as exc:
                reason = " ".join(str(exc).split())  # Ray's messages span lines
                raise ConnectionError(f"{owner}: could not connect to the Ray cluster at "
                                      f"{address}: {type(exc).__name__}: {reason}") from exc
        else:
            ray.init(num_cpus=None if n_jobs in (None, -1) else n_jobs, include_dashboard=False)
    try:
        remote = ray.remote(num_cpus=1)(fn)
        data = [ray.put(value) for value in shared]
        return ray.get([remote.remote(*data, *task) for task in tasks])
    finally:
        if own:
            ray.shutdown()
