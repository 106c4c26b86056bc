"""Ensembles average their members' softmax: checked against torch (float64) and by hand."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train.ensemble import Ensemble, compare_with_members

torch = pytest.importorskip("torch")


def constant_model(logits):
    """A Linear(1, C) whose output is ``logits`` for the input [0] (weight 0, bias = logits)."""
    model = nn.Linear(1, len(logits))
    with cr.no_grad():
        model.weight.zero_()
        model.bias.copy_(cr.tensor(np.asarray(logits, np.float32)))
    return model


def test_probabilities_are_the_mean_of_the_members_softmax_in_eval_mode():
    cr.manual_seed(0)
    members = [nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 4))
               for _ in range(3)]
    X = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    ensemble = Ensemble(members)
    proba = ensemble.predict_proba(X)
    assert all(m.training for m in members)  # the mode is restored
    for m in members:
        m.eval()
    logits = torch.tensor(np.stack([m(cr.tensor(X)).numpy() for m in members]),
                          dtype=torch.float64)
    expected = torch.softmax(logits, dim=2).mean(dim=0).numpy()
    assert proba.dtype == np.float64 and proba.shape == (7, 4)
    np.testing.assert_allclose(proba, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-14)
    np.testing.assert_allclose(ensemble.predict_log_proba(X), np.log(expected), rtol=1e-12)
    assert np.array_equal(ensemble.predict(X), expected.argmax(axis=1))
    assert ensemble.predict_proba(X).tobytes() == proba.tobytes()  # no dropout: deterministic


def test_the_ensemble_fixes_a_members_mistake():
    # the true class is 1; member 0 says 0 (softmax [e²,1,1]/(e²+2)), the others say 1
    # (softmax [1,e,1]/(e+2)): the mean is [0.4036, 0.4196, 0.1768] -> class 1
    members = [constant_model([2, 0, 0]), constant_model([0, 1, 0]), constant_model([0, 1, 0])]
    X, y = np.zeros((1, 1), np.float32), np.array([1])
    e = math.e
    a, b = [e**2 / (e**2 + 2), 1 / (e**2 + 2)], [1 / (e + 2), e / (e + 2)]
    expected = [(a[0] + 2 * b[0]) / 3, (a[1] + 2 * b[1]) / 3, (a[1] + 2 * b[0]) / 3]
    ensemble = Ensemble(members)
    proba = ensemble.predict_proba(X)[0]
    np.testing.assert_allclose(proba, expected, rtol=1e-12)
    np.testing.assert_allclose(proba, [0.40362, 0.41958, 0.17680], atol=5e-6)
    assert ensemble.predict(X).tolist() == [1]
    assert ensemble.score(X, y) == 1.0
    result = compare_with_members(members, X, y)
    assert result["members"] == [0.0, 1.0, 1.0]
    assert (result["best_member"], result["best_member_accuracy"]) == (1, 1.0)
    assert result["ensemble_accuracy"] == 1.0
    np.testing.assert_allclose(result["members_log_loss"],
                               [-math.log(a[1]), -math.log(b[1]), -math.log(b[1])], rtol=1e-7)
    np.testing.assert_allclose(result["ensemble_log_loss"], -math.log(expected[1]), rtol=1e-7)


def test_a_confident_wrong_member_can_outvote_the_others():
    # probabilities, not votes: two unsure right members lose to one very sure wrong one
    members = [constant_model([9, 0]), constant_model([0, 0.5]), constant_model([0, 0.5])]
    X = np.zeros((1, 1), np.float32)
    assert Ensemble(members).predict(X).tolist() == [0]
    assert compare_with_members(members, X, [1])["ensemble_accuracy"] == 0.0


def test_the_ensemble_log_loss_is_never_above_the_members_mean():
    cr.manual_seed(1)
    members = [nn.Linear(3, 5) for _ in range(4)]
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(50, 3)).astype(np.float32) * 3, rng.integers(0, 5, 50)
    result = compare_with_members(Ensemble(members), X, y)
    assert result["ensemble_log_loss"] <= np.mean(result["members_log_loss"])
    logits = torch.tensor(np.stack([m(cr.tensor(X)).numpy() for m in members]),
                          dtype=torch.float64)
    joint = torch.softmax(logits, dim=2).mean(dim=0)
    loss = torch.nn.functional.nll_loss(joint.log(), torch.tensor(y)).item()
    assert result["ensemble_log_loss"] == pytest.approx(loss, rel=1e-12)
    members_loss = [torch.nn.functional.cross_entropy(z, torch.tensor(y)).item()
                    for z in logits]
    np.testing.assert_allclose(result["members_log_loss"], members_loss, rtol=1e-12)


def test_bad_members_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"^Ensemble: models is empty"):
        Ensemble([])
    with pytest.raises(TypeError, match=r"^Ensemble: models must be a list of models, got "
                                        r"Linear"):
        Ensemble(nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"^Ensemble: models\[1\] is a str, not a model"):
        Ensemble([nn.Linear(1, 2), "model.safetensors"])
    mixed = Ensemble([constant_model([0, 1, 2]), constant_model([0, 1, 2, 3])])
    with pytest.raises(ValueError, match=r"^Ensemble: models\[1\] gives 4 classes but "
                                         r"models\[0\] gives 3; all members must classify "
                                         r"into the same classes"):
        mixed.predict_proba(np.zeros((2, 1), np.float32))
    flat = Ensemble([nn.Flatten(0)])
    with pytest.raises(ValueError, match=r"models\[0\] gives outputs of shape \(2,\); expected "
                                         r"logits of shape \(n, classes\)"):
        flat.predict(np.zeros((2, 1), np.float32))


def test_labels_are_class_indices_checked_alike_by_score_and_compare_with_members():
    # the models say class 0, 1, 1 for the three samples (input 0, 1, 2 scales the weights)
    members = [nn.Linear(1, 3), nn.Linear(1, 3)]
    with cr.no_grad():
        for m in members:
            m.weight.copy_(cr.tensor(np.array([[-1], [0.5], [1]], np.float32)))
            m.bias.copy_(cr.tensor(np.array([1, 0.5, -0.5], np.float32)))
    X = np.array([[0], [1], [2]], np.float32)
    ensemble = Ensemble(members)
    assert ensemble.predict(X).tolist() == [0, 1, 1]
    expected = compare_with_members(ensemble, X, np.array([0, 1, 2]))
    assert expected["members"] == [2 / 3, 2 / 3] and expected["ensemble_accuracy"] == 2 / 3
    for y in (np.array([0.0, 1.0, 2.0]), cr.tensor(np.array([0.0, 1.0, 2.0])), [0, 1, 2],
              np.array([0, 1, 2], np.uint8)):
        assert compare_with_members(ensemble, X, y) == expected
        assert ensemble.score(X, y) == 2 / 3
    classes = r"the models output 3 classes, so labels must be integers 0\.\.2"
    for fn, run in (("compare_with_members", lambda y: compare_with_members(ensemble, X, y)),
                    ("Ensemble.score", lambda y: ensemble.score(X, y))):
        with pytest.raises(TypeError, match=rf"^{fn}: labels must be class indices \({classes}\)"
                                            r", got dtype <U3: \['cat', 'dog', 'cat'\]"):
            run(np.array(["cat", "dog", "cat"]))
        for y, bad in (([0, 1, 12], "y\\[2\\] = 12"), ([0, -1, 2], "y\\[1\\] = -1"),
                       ([0, 1.5, 2], "y\\[1\\] = 1.5"), ([np.nan, 1, 2], "y\\[0\\] = nan"),
                       ([0, 1, 3.0], "y\\[2\\] = 3.0")):
            with pytest.raises(ValueError, match=rf"^{fn}: label {bad} is not a class index; "
                                                 rf"{classes}$"):
                run(y)
        with pytest.raises(ValueError, match=rf"^{fn}: y must hold one label per sample of X "
                                             r"\(3\), got shape \(2,\)"):
            run([0, 1])


def test_batch_size_is_checked():
    cr.manual_seed(2)
    ensemble = Ensemble([nn.Linear(2, 3), nn.Linear(2, 3)])
    X = np.random.default_rng(2).normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_allclose(ensemble.predict_proba(X, batch_size=1),  # float32 logits
                               ensemble.predict_proba(X), rtol=1e-6)
    for method in (ensemble.predict, ensemble.predict_proba, ensemble.predict_log_proba,
                   ensemble.member_log_probabilities):
        for size in (0, -3):
            with pytest.raises(ValueError, match=rf"^Ensemble: batch_size must be a positive "
                                                 rf"int, got {size}$"):
                method(X, batch_size=size)
        for size in (2.5, True, None):
            with pytest.raises(TypeError, match=rf"^Ensemble: batch_size must be a positive "
                                                rf"int, got {size}$"):
                method(X, batch_size=size)


def test_a_one_output_model_is_refused():
    # the softmax of one logit is 1: every sample would get probability 1.0
    X = np.zeros((2, 1), np.float32)
    with pytest.raises(ValueError, match=r"^Ensemble: models\[1\] gives 1 output per sample; "
                                         r"the ensemble averages class probabilities "
                                         r"softmax\(logits\) over >= 2 classes.* two logits "
                                         r"\(for a sigmoid logit z: \[0, z\]\)"):
        Ensemble([constant_model([0, 3]), constant_model([3])]).predict_proba(X)
    # the suggested fix: logits [0, z] give the sigmoid's probabilities [1 - σ(z), σ(z)]
    proba = Ensemble([constant_model([0, 3])]).predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + math.exp(-3)), rtol=1e-12)
    np.testing.assert_allclose(proba[:, 0], 1 / (1 + math.exp(3)), rtol=1e-12)
