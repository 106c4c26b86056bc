"""top_k_ensemble: the best configurations of a search, trained again and averaged."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import KFold
from chainrule.data.datasets import load_digits
from chainrule.model_selection import RecipeModel, grid_search, top_k_ensemble
from chainrule.train.ensemble import Ensemble, compare_with_members

BUILD = RecipeModel("mlp", "digits")


@pytest.fixture(scope="module")
def search():
    x, y = load_digits()
    x = x.reshape(len(x), -1)
    data, test = (x[:600], y[:600]), (x[600:900], y[600:900])
    result = grid_search(BUILD, {"hidden": [[16], [32]], "lr": [1e-3, 1e-2]}, data, cv=KFold(3),
                         config={"epochs": 3}, backend="serial", test=test)
    return result, data, test


def test_members_are_the_best_configurations_trained_as_the_refit(search):
    result, data, test = search
    state = cr.random.get_rng_state()
    ensemble = top_k_ensemble(result, BUILD, data, k=3)
    assert isinstance(ensemble, Ensemble) and len(ensemble) == 3
    assert np.array_equal(cr.random.get_rng_state(), state)  # the caller's generator untouched
    assert ensemble.models[0] is result.best_model  # the search's refit, not trained again
    widths = [m.state_dict()["1.weight"].shape[0] for m in ensemble.models]
    assert widths == [t.config["hidden"][0] for t in result.trials[:3]]
    compared = compare_with_members(ensemble, *test)
    assert compared["members"][0] == pytest.approx(result.test_score)
    assert 0.5 < compared["ensemble_accuracy"] <= 1


def test_without_the_refit_model_the_best_configuration_is_trained_as_the_refit(search):
    result, data, _ = search
    bare = grid_search(BUILD, {"hidden": [[16], [32]], "lr": [1e-3, 1e-2]}, data, cv=KFold(3),
                       config={"epochs": 3}, backend="serial", refit=False)
    assert bare.best_model is None and bare.best_config == result.best_config
    ensemble = top_k_ensemble(bare, BUILD, data, k=np.int64(2))
    assert len(ensemble) == 2
    first = ensemble.models[0].state_dict()
    for name, value in result.best_model.state_dict().items():  # weight for weight
        assert np.array_equal(first[name], value), name


def test_bad_requests_are_named(search):
    result, data, _ = search
    with pytest.raises(ValueError, match=r"k=5, but the search has 4 successful trial\(s\) of 4"):
        top_k_ensemble(result, BUILD, data, k=5)
    with pytest.raises(ValueError, match="k must be a positive int, got 0"):
        top_k_ensemble(result, BUILD, data, k=0)
    with pytest.raises(TypeError, match="result must be what grid_search"):
        top_k_ensemble({"trials": []}, BUILD, data)
