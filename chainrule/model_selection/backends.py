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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["BACKENDS", "check_picklable", "run_tasks"]

BACKENDS = ("joblib", "dask", "ray", "serial")
_EXTRAS = {"dask": ("dask.distributed", "Dask distributed"), "ray": ("ray", "Ray")}


def check_backend(backend: Any, n_jobs: Any, owner: str) -> int | None:
    """Validate ``backend`` and ``n_jobs`` (None, -1 or a positive int); return ``n_jobs``."""
    if backend not in BACKENDS:
        raise ValueError(f"{owner}: backend must be one of {BACKENDS}, got {backend!r}")
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
              *, backend: str = "joblib", n_jobs: int | None = None,
              address: str | None = None, client: Any = None) -> list[Any]:
    """``[fn(*shared, *task) for task in tasks]`` computed by ``backend``, in task order."""
    if not tasks:
        return []
    if backend == "serial":
        return [fn(*shared, *task) for task in tasks]
    if backend == "joblib":
        from joblib import Parallel, delayed

        return Parallel(n_jobs=-1 if n_jobs is None else n_jobs)(
            delayed(fn)(*shared, *task) for task in tasks)
    if backend == "dask":
        return _run_dask(fn, shared, tasks, n_jobs, address, client)
    return _run_ray(fn, shared, tasks, n_jobs, address)


def _run_dask(fn: Callable[..., Any], shared: Sequence[Any], tasks: Sequence[tuple],
              n_jobs: int | None, address: str | None, client: Any) -> list[Any]:
    try:
        from dask import distributed
    except ImportError:
        raise missing_extra("dask") from None
    own = client is None
    if own:
        client = (distributed.Client(address) if address is not None else
                  distributed.Client(n_workers=None if n_jobs in (None, -1) else n_jobs,
                                     threads_per_worker=1, dashboard_address=None))
    try:
        data = client.scatter(list(shared), broadcast=True)
        futures = [client.submit(fn, *data, *task, pure=False) for task in tasks]
        return client.gather(futures)
    finally:
        if own:
            client.close()


def _run_ray(fn: Callable[..., Any], shared: Sequence[Any], tasks: Sequence[tuple],
             n_jobs: int | None, address: str | None) -> list[Any]:
    try:
        import ray
    except ImportError:
        raise missing_extra("ray") from None
    own = not ray.is_initialized()
    if own:
        if address is not None:
            ray.init(address=address)
        else:
            ray.init(num_cpus=None if n_jobs in (None, -1) else n_jobs, include_dashboard=False)
    try:
        remote = ray.remote(num_cpus=1)(fn)
        data = [ray.put(value) for value in shared]
        return ray.get([remote.remote(*data, *task) for task in tasks])
    finally:
        if own:
            ray.shutdown()
