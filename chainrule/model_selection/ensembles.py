"""An ensemble of the best configurations of a search.

>>> result = grid_search(build, space, (X, y), cv=KFold(5))               # doctest: +SKIP
>>> ensemble = top_k_ensemble(result, build, (X, y), k=3)                 # doctest: +SKIP
>>> compare_with_members(ensemble, X_test, y_test)   # against the best single model

The ``k`` best-ranked configurations (by mean validation accuracy; failed trials
skipped) are each trained on all of ``dataset``, seeded as the search's own refit
(``trial_seed(config, seed, "refit")``); the first member is ``result.best_model``
itself when the search kept it (it is that training). ``dataset``, ``build`` and
``loss_fn`` must be the search's for the members to be what the search ranked. The
:class:`~chainrule.train.ensemble.Ensemble` averages their predicted class
probabilities. The caller's random state is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral
from typing import Any

from chainrule import nn
from chainrule.model_selection.results import SearchResult
from chainrule.model_selection.space import trial_seed
from chainrule.model_selection.validate import as_arrays, train_model
from chainrule.random import get_rng_state, set_rng_state
from chainrule.train.ensemble import Ensemble

__all__ = ["top_k_ensemble"]


def top_k_ensemble(result: SearchResult, build: Callable[[dict[str, Any]], Any], dataset: Any,
                   k: int = 3, *,
                   loss_fn: Callable[..., Any] = nn.functional.cross_entropy) -> Ensemble:
    """The :class:`Ensemble` of the ``k`` best configurations of ``result``, each trained on
    all of ``dataset`` (the search's ``(X, y)``) with ``build`` and ``loss_fn`` as in the
    search. Fewer than ``k`` successful trials is an error that says how many there are."""
    owner = "top_k_ensemble"
    if not isinstance(result, SearchResult):
        raise TypeError(f"{owner}: result must be what grid_search, random_search or "
                        f"optuna_search return, got {type(result).__name__}")
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"{owner}: k must be a positive int, got {k!r}")
    succeeded = [t for t in result.trials if t.error is None]
    if len(succeeded) < k:
        raise ValueError(f"{owner}: k={k}, but the search has {len(succeeded)} successful "
                         f"trial(s) of {len(result.trials)}; ask for at most {len(succeeded)}")
    X, y = as_arrays(dataset, owner)
    reuse = result.best_model is not None
    state = get_rng_state()
    try:
        members = [train_model(build, X, y, t.config, trial_seed(t.config, result.seed, "refit"),
                               loss_fn) for t in succeeded[int(reuse):int(k)]]
    finally:
        set_rng_state(state)
    return Ensemble([result.best_model] * reuse + members)
