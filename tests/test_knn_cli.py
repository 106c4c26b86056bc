"""``chainrule knn`` against the same computation done with scikit-learn's classifier.

The oracle takes the split ``chainrule train`` makes (``prepare_data``) and the folds of
chainrule's ``StratifiedKFold`` (the same splitter the command uses), and fits
scikit-learn's ``KNeighborsClassifier(algorithm='brute')`` on each fold, with its defaults
(its tie order depends on its OpenMP threads, which chainrule replays: see
``tests/test_neighbors.py``).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.neighbors import KNeighborsClassifier as Oracle  # noqa: E402

from chainrule import cli  # noqa: E402
from chainrule.commands import knn as knn_command  # noqa: E402
from chainrule.data import KFold, StratifiedKFold  # noqa: E402
from chainrule.neighbors import KNeighborsClassifier, cross_validate_k  # noqa: E402
from chainrule.train.recipes import prepare_data  # noqa: E402


def oracle(ks, folds, metric, weights, seed=0):
    """Per-fold accuracies (len(ks), folds), the chosen k and its test accuracy, by sklearn."""
    s = prepare_data("digits", seed=seed)
    X = np.concatenate([s.x_train.reshape(len(s.x_train), -1), s.x_val.reshape(len(s.x_val), -1)])
    y = np.concatenate([s.y_train, s.y_val])
    X_test, y_test = s.x_test.reshape(len(s.x_test), -1), s.y_test
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    scores = np.zeros((len(ks), folds))
    for f, (train, val) in enumerate(cv.split(X, y)):
        for i, k in enumerate(ks):
            model = Oracle(k, algorithm="brute", metric=metric, weights=weights)
            scores[i, f] = model.fit(X[train], y[train]).score(X[val], y[val])
    mean = scores.mean(axis=1)
    chosen = ks[int(np.argmax(mean))]  # argmax: the first, i.e. smallest, of ties
    model = Oracle(chosen, algorithm="brute", metric=metric, weights=weights)
    test = model.fit(X, y).score(X_test, y_test)
    return scores, chosen, test, len(y)


def run(capsys, *argv):
    assert cli.main(["knn", *argv]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("metric, weights, ks, folds", [
    ("euclidean", "uniform", [1, 3, 5, 7, 9], 5),
    ("manhattan", "distance", [1, 2, 4, 6, 8, 12], 4),
    ("cosine", "uniform", [1, 2, 3, 4, 5], 3),
])
def test_table_chosen_k_and_test_accuracy_equal_sklearn(tmp_path, capsys, metric, weights, ks,
                                                        folds):
    scores, chosen, test, n = oracle(ks, folds, metric, weights)
    out = run(capsys, "--dataset", "digits", "--k", ",".join(map(str, reversed(ks))),
              "--folds", str(folds), "--metric", metric, "--weights", weights,
              "--out", str(tmp_path))
    lines = out.splitlines()
    assert lines[0] == (f"digits: {n} training + validation samples of 64 features; "
                        "360 test samples set aside")
    start = lines.index(f"    k  validation accuracy (mean ± std over {folds} folds)") + 1
    for i, k in enumerate(ks):  # sorted, whatever the order given
        row = lines[start + i].split()
        assert row[:4] == [str(k), f"{scores[i].mean():.4f}", "±", f"{scores[i].std():.4f}"]
        assert (row[4:] == ["<-", "chosen"]) == (k == chosen)
    assert lines[-1] == (f"test accuracy {test:.4f} with k = {chosen} (fitted on all {n} "
                         "training + validation samples)")

    record = json.loads((tmp_path / "knn_accuracy.json").read_text())
    assert record["k"] == ks and record["chosen_k"] == chosen
    assert record["test_accuracy"] == test
    assert np.array_equal(record["fold_accuracy"], scores)  # exactly, fold by fold
    assert np.array_equal(record["mean"], scores.mean(axis=1))
    assert np.array_equal(record["std"], scores.std(axis=1))
    rows = (tmp_path / "knn_accuracy.csv").read_text().splitlines()
    assert rows[0] == "k,mean,std," + ",".join(f"fold_{f + 1}" for f in range(folds))
    for i, k in enumerate(ks):
        values = [float(v) for v in rows[1 + i].split(",")]
        assert values[0] == k and values[3:] == scores[i].tolist()
    assert (tmp_path / "knn_accuracy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_run_on_digits_numbers():
    """The figures the default ``chainrule knn`` prints (README), fixed by the seed."""
    scores, chosen, test, n = oracle([1, 3, 5, 7, 9], 5, "euclidean", "uniform")
    assert (n, chosen, round(test, 4)) == (1437, 3, 0.9861)
    assert np.round(scores.mean(axis=1), 4).tolist() == [0.9875, 0.9889, 0.9875, 0.9833, 0.984]


def test_a_tie_goes_to_the_smallest_k():
    assert knn_command.choose_k([1, 3, 5], np.array([0.9, 0.95, 0.95])) == 3
    assert knn_command.choose_k([2, 4], np.array([0.8, 0.8 - 1e-15])) == 2
    assert knn_command.choose_k([2, 4], np.array([0.8, 0.8 + 1e-9])) == 4


def test_cross_validate_k_equals_a_classifier_per_k_and_fold():
    s = prepare_data("digits", seed=1)
    X, y = s.x_train.reshape(len(s.x_train), -1), s.y_train
    ks, cv = [1, 4, 6, 16], KFold(3, shuffle=True, random_state=2)
    scores = cross_validate_k(X, y, ks, cv, metric="euclidean", weights="distance")
    expected = [[KNeighborsClassifier(k, metric="euclidean", weights="distance")
                 .fit(X[train], y[train]).score(X[val], y[val]) for train, val in cv.split(X)]
                for k in ks]
    assert np.array_equal(scores, expected)
    knn = KNeighborsClassifier(16).fit(X, y)
    for k, predicted in zip(ks, knn.predict_each_k(s.x_val.reshape(len(s.x_val), -1), ks)):
        assert np.array_equal(predicted, KNeighborsClassifier(k).fit(X, y).predict(
            s.x_val.reshape(len(s.x_val), -1)))
    with pytest.raises(ValueError, match=r"each k must be a positive int, got 0"):
        knn.predict_each_k(X[:3], [0, 1])
    with pytest.raises(ValueError, match=r"n_neighbors=2000 is more than the 1257 training"):
        knn.predict_each_k(X[:3], [2000])


@pytest.mark.parametrize("argv, message", [
    (["--k", "0,3"], "--k 0,3: k is a number of neighbours, at least 1; got 0"),
    (["--k=-1,3"], "--k -1,3: k is a number of neighbours, at least 1; got -1"),
    (["--k", "3,5,3"], "--k 3,5,3: k = 3 is given more than once"),
    (["--k", "1,x"], "--k 1,x: expected comma-separated integers such as 1,3,5,7,9"),
    (["--k", ""], "--k : expected comma-separated integers such as 1,3,5,7,9"),
    (["--k", "1,1150"], "--k 1,1150: k = 1150 is more than the 1149 samples the smallest "
                        "training part of a fold holds (5 folds of 1437 samples)"),
    (["--folds", "1"], "--folds 1: cross-validation needs at least 2 folds"),
    (["--seed=-1"], "--seed -1: expected an integer >= 0"),
    (["--folds", "200"], "--folds 200: the smallest class of the 1437 training + validation "
                         "samples has 139 samples, so some validation folds would lack it; "
                         "choose --folds 139 or fewer"),
    (["--data-dir", "x"], "--data-dir is for the datasets read from files (mnist, "
                          "fashion-mnist, cifar10); digits needs none"),
    (["--dataset", "mnist"], "--dataset mnist reads the MNIST files from --data-dir DIR; "
                             "download it with"),
    (["--dataset", "cifar10", "--data-dir", "/nonexistent"],
     "--data-dir /nonexistent: no such directory; download it with"),
])
def test_bad_arguments_are_one_line_messages(tmp_path, argv, message):
    with pytest.raises(SystemExit) as info:
        cli.main(["knn", "--out", str(tmp_path / "out"), *argv])
    text = str(info.value.code)
    assert text.startswith(f"chainrule knn: {message}") and "\n" not in text
    assert not (tmp_path / "out").exists()  # refused before writing anything


def test_an_unknown_dataset_names_the_choices(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["knn", "--dataset", "iris"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --dataset: invalid choice: 'iris'" in err
    assert all(name in err for name in ("digits", "mnist1d", "fashion-mnist", "cifar10"))


def test_default_output_is_a_new_folder_under_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = run(capsys, "--k", "1,2", "--folds", "2")
    (folder,) = os.listdir(tmp_path / "runs")
    assert folder.endswith("-knn-digits") and f"to runs/{folder}\n" in out
    assert sorted(os.listdir(tmp_path / "runs" / folder)) == [
        "knn_accuracy.csv", "knn_accuracy.json", "knn_accuracy.png"]
    run(capsys, "--k", "1,2", "--folds", "2")  # a second run: a folder of its own
    assert len(os.listdir(tmp_path / "runs")) == 2


def test_without_matplotlib_the_plot_is_skipped_with_the_reason(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib.figure", None)
    out = run(capsys, "--k", "1,3", "--folds", "2", "--out", str(tmp_path))
    assert (f"wrote knn_accuracy.csv and knn_accuracy.json to {tmp_path}; plot skipped: "
            "plotting needs matplotlib") in out
    assert sorted(os.listdir(tmp_path)) == ["knn_accuracy.csv", "knn_accuracy.json"]
