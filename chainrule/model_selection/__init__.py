"""Model selection: k-fold cross-validation and hyperparameter search, run in parallel on
local processes (joblib), on a Dask distributed cluster or on Ray.

>>> from chainrule.model_selection import grid_search, LogUniform, random_search
>>> def build(config):                       # module level: it travels to the workers
...     return chainrule.models.mlp(64, hidden=(config["width"],), dropout=config["dropout"])
>>> result = grid_search(build, {"width": [32, 128], "dropout": [0.0, 0.3]}, (X, y),
...                      cv=KFold(5), test=(X_test, y_test),
...                      config={"epochs": 20, "lr": 1e-3})        # doctest: +SKIP
>>> print(result)                # ranked by mean validation accuracy ± std
>>> result.best_config, result.test_score                           # doctest: +SKIP
>>> result.to_csv("search.csv"); result.to_json("search.json")    # doctest: +SKIP

- :func:`cross_validate`: one configuration, per-fold scores, mean and std;
- :func:`grid_search`, :func:`random_search` (lists and :class:`LogUniform`,
  :class:`Uniform`, :class:`IntUniform` distributions), :func:`optuna_search`
  (``pip install "chainrule[optuna]"``): a :class:`SearchResult`;
- ``backend='joblib'`` (default), ``'dask'`` (``pip install "chainrule[dask]"``),
  ``'ray'`` (``pip install "chainrule[ray]"``) or ``'serial'``, with identical results:
  each trial is seeded from its configuration (:func:`trial_seed`), never from a
  worker;
- :class:`RecipeModel`: a picklable ``build`` for the models of ``chainrule train``;
- :func:`top_k_ensemble`: the ``Ensemble`` of a search's k best configurations.
"""

from chainrule.model_selection.backends import BACKENDS
from chainrule.model_selection.ensembles import top_k_ensemble
from chainrule.model_selection.results import SearchResult, Trial
from chainrule.model_selection.search import (
    RecipeModel,
    grid_search,
    optuna_search,
    random_search,
)
from chainrule.model_selection.space import IntUniform, LogUniform, Uniform, trial_seed
from chainrule.model_selection.validate import TRAINING, CrossValidation, cross_validate

__all__ = [
    "BACKENDS",
    "TRAINING",
    "CrossValidation",
    "IntUniform",
    "LogUniform",
    "RecipeModel",
    "SearchResult",
    "Trial",
    "Uniform",
    "cross_validate",
    "grid_search",
    "optuna_search",
    "random_search",
    "top_k_ensemble",
    "trial_seed",
]
