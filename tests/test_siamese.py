"""Siamese networks: the shared-weight model, the pair losses (against torch in float64),
make_pairs, the worked example siamese_cosine_backprop and the digits recipe."""

import json

import numpy as np
import pytest
import torch
from torch_compare import assert_matches_torch

import chainrule as cr
from chainrule import nn
from chainrule.check import gradcheck
from chainrule.data.pairs import make_pairs
from chainrule.models import mlp
from chainrule.models.siamese import Siamese, siamese
from chainrule.nn.siamese_loss import ContrastiveLoss, CosineSimilarityLoss
from chainrule.ops.distance import contrastive_loss, cosine_similarity_loss
from chainrule.train.siamese import run_siamese

T = torch.nn.functional


def torch_cosine_loss(z1, z2, y, reduction="mean"):
    loss = -y * T.cosine_similarity(z1, z2, dim=-1)
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


def torch_contrastive(z1, z2, y, margin=1.0, reduction="mean"):
    d = torch.linalg.vector_norm(z1 - z2, dim=-1)
    loss = torch.where(y == 1, 0.5 * d**2, 0.5 * torch.clamp(margin - d, min=0) ** 2)
    return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]


LABELS = np.array([1, -1, 1, -1, -1, 1, -1])


# ------------------------------------------------------------------ the losses
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cosine_similarity_loss_matches_torch(rng, reduction):
    a, b = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    y = LABELS.astype(np.float64)
    assert_matches_torch(
        lambda p, q: cosine_similarity_loss(p, q, y, reduction=reduction),
        lambda p, q: torch_cosine_loss(p, q, torch.tensor(y), reduction), a, b)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("margin", [1.0, 4.0, 7.0])
def test_contrastive_loss_matches_torch(rng, reduction, margin):
    a, b = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    y = LABELS
    d = np.linalg.norm(a - b, axis=1)
    assert_matches_torch(
        lambda p, q: contrastive_loss(p, q, y, margin=margin, reduction=reduction),
        lambda p, q: torch_contrastive(p, q, torch.tensor(y), margin, reduction), a, b)
    if margin == 4.0:  # the hinge is active for some impostors and inactive for others
        assert (d[y == -1] < margin).any() and (d[y == -1] > margin).any()


@pytest.mark.parametrize("y", [1.0, -1.0])
def test_losses_on_single_vectors_with_a_0d_target(rng, y):
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    assert_matches_torch(lambda p, q: cosine_similarity_loss(p, q, cr.tensor(y)),
                         lambda p, q: torch_cosine_loss(p, q, torch.tensor(y)), a, b)
    assert_matches_torch(lambda p, q: contrastive_loss(p, q, cr.tensor(y), margin=5.0),
                         lambda p, q: torch_contrastive(p, q, torch.tensor(y), 5.0), a, b)


def test_contrastive_loss_hand_values():
    z1 = cr.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], dtype=np.float64)
    z2 = cr.tensor([[3.0, 4.0], [0.3, 0.4], [3.0, 4.0]], dtype=np.float64)
    loss = contrastive_loss(z1, z2, [1, -1, -1], margin=2.0, reduction="none")
    # d = 5, 0.5, 5: genuine ½·25; impostor ½(2 - 0.5)² = 1.125; impostor past the margin 0
    np.testing.assert_allclose(loss.data, [12.5, 1.125, 0.0])


def test_contrastive_loss_at_zero_distance_matches_torch(rng):
    a = rng.standard_normal((4, 3))
    y = np.array([1, -1, 1, -1])
    assert_matches_torch(lambda p, q: contrastive_loss(p, q, y, margin=1.5),
                         lambda p, q: torch_contrastive(p, q, torch.tensor(y), 1.5), a, a.copy())
    z1, z2 = cr.tensor(a, requires_grad=True), cr.tensor(a.copy(), requires_grad=True)
    loss = contrastive_loss(z1, z2, y, margin=1.5, reduction="none")
    np.testing.assert_allclose(loss.data, [0, 1.125, 0, 1.125])  # ½ margin² for impostors
    loss.sum().backward()
    assert np.all(z1.grad.numpy() == 0) and np.all(z2.grad.numpy() == 0)


def test_cosine_similarity_loss_of_a_zero_embedding_matches_torch(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    a[1] = 0.0
    y = np.array([1.0, -1.0, 1.0])
    assert_matches_torch(lambda p, q: cosine_similarity_loss(p, q, y),
                         lambda p, q: torch_cosine_loss(p, q, torch.tensor(y)), a, b)


def test_pair_losses_pass_gradcheck(rng):
    a = cr.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    b = cr.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    y = LABELS[:6]
    assert gradcheck(lambda p, q: cosine_similarity_loss(p, q, y, reduction="none"), [a, b])
    assert gradcheck(lambda p, q: contrastive_loss(p, q, y, margin=2.0, reduction="none"),
                     [a, b])


def test_cosine_similarity_loss_worked_values(worked_examples):
    ex = worked_examples["cosine_similarity_loss_values"]
    inputs, answer = ex["inputs"], ex["correct_answer"]
    z = np.array(inputs["z"], np.float64)
    for key, other in (("aligned", "zhat_aligned"), ("orthogonal", "zhat_orthogonal"),
                       ("opposite", "zhat_opposite")):
        loss = cosine_similarity_loss(z, np.array(inputs[other], np.float64), inputs["y"])
        np.testing.assert_allclose(loss.item(), answer[key], atol=1e-12)
    loss = cosine_similarity_loss(np.array(inputs["z_45"], np.float64),
                                  np.array(inputs["zhat_45"], np.float64), inputs["y"])
    np.testing.assert_allclose(loss.item(), answer["at_45_degrees"], rtol=1e-9)


def test_loss_errors_name_the_argument():
    z = cr.zeros(3, 2)
    with pytest.raises(ValueError, match=r"contrastive_loss: target must hold \+1 .* got "
                                         r"\[0\]; map 0/1 labels"):
        contrastive_loss(z, z, [1, 0, 1])
    with pytest.raises(ValueError, match=r"cosine_similarity_loss: target must have shape "
                                         r"\(3,\)"):
        cosine_similarity_loss(z, z, [1, -1])
    with pytest.raises(ValueError, match=r"z1 and z2 must both have shape .* got \(3, 2\) "
                                         r"and \(3, 3\)"):
        contrastive_loss(z, cr.zeros(3, 3), [1, -1, 1])
    with pytest.raises(ValueError, match="margin must be a non-negative number, got -1"):
        contrastive_loss(z, z, [1, -1, 1], margin=-1)
    with pytest.raises(ValueError, match="reduction must be one of"):
        cosine_similarity_loss(z, z, [1, -1, 1], reduction="avg")
    with pytest.raises(TypeError, match="z1 must be a floating-point tensor"):
        cosine_similarity_loss(cr.tensor([[1, 2]]), z[:1], [1])


def test_loss_modules_equal_the_functions_and_name_themselves(rng):
    a, b = cr.tensor(rng.standard_normal((5, 3))), cr.tensor(rng.standard_normal((5, 3)))
    y = LABELS[:5]
    assert ContrastiveLoss(margin=2.0, reduction="sum")(a, b, y).item() == \
        contrastive_loss(a, b, y, margin=2.0, reduction="sum").item()
    assert CosineSimilarityLoss()(a, b, y).item() == cosine_similarity_loss(a, b, y).item()
    assert repr(ContrastiveLoss(0.5)) == "ContrastiveLoss(margin=0.5, reduction='mean')"
    with pytest.raises(ValueError, match="ContrastiveLoss"):
        ContrastiveLoss()(a, b, [2, 1, 1, 1, 1])


# ------------------------------------------------------------------ the model
def twin_networks(rng):
    """The same encoder in chainrule and torch (float64, equal weights)."""
    cr.manual_seed(3)
    encoder = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 4)).double()
    model = siamese(encoder)
    twin = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(),
                               torch.nn.Linear(7, 4)).double()
    with torch.no_grad():
        for (name, p), (t_name, q) in zip(model.encoder.named_parameters(),
                                          twin.named_parameters()):
            assert name == t_name
            q.copy_(torch.tensor(p.data))
    return model, twin


@pytest.mark.parametrize("loss", ["cosine", "contrastive"])
def test_shared_encoder_gradients_equal_torch(rng, loss):
    model, twin = twin_networks(rng)
    x1, x2 = rng.standard_normal((7, 5)), rng.standard_normal((7, 5))
    y = LABELS
    c1, c2 = cr.tensor(x1, requires_grad=True), cr.tensor(x2, requires_grad=True)
    t1, t2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    z1, z2 = model(c1, c2)
    u1, u2 = twin(t1), twin(t2)  # the same module on both inputs
    if loss == "cosine":
        ours, theirs = cosine_similarity_loss(z1, z2, y), torch_cosine_loss(u1, u2,
                                                                           torch.tensor(y))
    else:
        ours, theirs = contrastive_loss(z1, z2, y, 2.0), torch_contrastive(u1, u2,
                                                                          torch.tensor(y), 2.0)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    np.testing.assert_allclose(c1.grad.numpy(), t1.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(c2.grad.numpy(), t2.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_shared_weight_gradient_is_the_sum_of_both_towers(rng):
    model, _ = twin_networks(rng)
    x1, x2 = cr.tensor(rng.standard_normal((4, 5))), cr.tensor(rng.standard_normal((4, 5)))
    R1, R2 = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    z1, z2 = model(x1, x2)
    ((z1 * R1).sum() + (z2 * R2).sum()).backward()
    both = model.encoder[0].weight.grad.numpy().copy()
    parts = []
    for x, R in ((x1, R1), (x2, R2)):
        model.zero_grad()
        (model.embed(x) * R).sum().backward()
        parts.append(model.encoder[0].weight.grad.numpy().copy())
    np.testing.assert_allclose(both, parts[0] + parts[1], rtol=1e-12)


def test_siamese_holds_one_encoder():
    encoder = mlp(64, (16,), 8)
    model = siamese(encoder)
    assert isinstance(model, Siamese) and model.encoder is encoder
    assert len(list(model.parameters())) == len(list(encoder.parameters())) == 4
    assert repr(model) == "Siamese(\n  (encoder): " + repr(encoder).replace("\n", "\n  ") + "\n)"
    x = cr.randn(3, 64)
    np.testing.assert_array_equal(model.embed(x).numpy(), encoder(x).numpy())
    with pytest.raises(TypeError, match="Siamese: encoder must be an nn.Module, got function"):
        siamese(lambda v: v)


def test_siamese_cosine_backprop_through_the_model(worked_examples):
    """The course problem with models.siamese and cosine_similarity_loss."""
    ex = worked_examples["siamese_cosine_backprop"]
    inputs, answer = ex["inputs"], ex["correct_answer"]
    tol = {"rtol": ex["tolerance"]["rtol"], "atol": ex["tolerance"]["atol"]}
    encoder = nn.Sequential(nn.Linear(3, 4, bias=False), nn.ReLU(),
                            nn.Linear(4, 3, bias=False)).double()
    encoder[0].weight.data[...] = inputs["W1"]
    encoder[2].weight.data[...] = inputs["W2"]
    model = siamese(encoder)
    kept = []

    def keep(module, args, output):
        output.retain_grad()
        kept.append(output)

    encoder[0].register_forward_hook(keep)  # m = W1 x and n = W1 x̂
    x = cr.tensor(np.array(inputs["x"], np.float64))
    x_hat = cr.tensor(np.array(inputs["xhat"], np.float64))
    z, z_hat = model(x, x_hat)
    z.retain_grad()
    z_hat.retain_grad()
    loss = cosine_similarity_loss(z, z_hat, cr.tensor(float(inputs["y"])))
    loss.backward()
    m, n = kept
    np.testing.assert_allclose(loss.item(), answer["L"], **tol)
    for got, key in ((m.data, "m"), (n.data, "n"), (z.grad, "delta_z"),
                     (z_hat.grad, "delta_zhat"), (m.grad, "delta_m"), (n.grad, "delta_n"),
                     (encoder[2].weight.grad, "dL_dW2"), (encoder[0].weight.grad, "dL_dW1")):
        np.testing.assert_allclose(np.asarray(got), answer[key], err_msg=key, **tol)


# ------------------------------------------------------------------ make_pairs
def labelled(y):
    """Samples that are their own index, so a pair names its two samples."""
    return np.arange(len(y))[:, None], np.asarray(y)


@pytest.mark.parametrize("n_pairs", [2, 11, 400, 401])
def test_make_pairs_properties(n_pairs):
    y = np.repeat([3, 5, 8, 9], [2, 7, 30, 11])
    x, y = labelled(y)
    x1, x2, t = make_pairs(x, y, n_pairs, seed=0)
    i, j = x1[:, 0], x2[:, 0]
    assert x1.shape == x2.shape == (n_pairs, 1) and t.shape == (n_pairs,)
    assert t.dtype == np.int64 and set(np.unique(t)) <= {-1, 1}
    np.testing.assert_array_equal(t == 1, y[i] == y[j])  # genuine iff the same class
    assert np.sum(t == 1) == (n_pairs + 1) // 2  # an odd count gives genuine the extra one
    assert np.sum(t == -1) == n_pairs // 2
    assert np.all(i != j)  # never a sample with itself
    genuine = np.array([np.sum((t == 1) & (y[i] == c)) for c in (3, 5, 8, 9)])
    impostor_first = np.array([np.sum((t == -1) & (y[i] == c)) for c in (3, 5, 8, 9)])
    assert genuine.max() - genuine.min() <= 1
    assert impostor_first.max() - impostor_first.min() <= 1
    if n_pairs >= 400:  # the second side of impostors: uniform over the other classes,
        # so each of the 4 classes is in ½·¼ + ½·(¼ + ¼) = 3/8 of the pairs
        share = np.array([np.mean((y[i] == c) | (y[j] == c)) for c in (3, 5, 8, 9)])
        assert np.all(np.abs(share - 0.375) < 0.06)


def test_make_pairs_is_deterministic_and_draws_within_classes():
    x, y = labelled(np.repeat(np.arange(3), 50))
    a = make_pairs(x, y, 300, seed=7)
    b = make_pairs(x, y, 300, seed=np.random.default_rng(7))
    c = make_pairs(x, y, 300, seed=8)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    used = np.unique(np.concatenate([a[0][:, 0], a[1][:, 0]]))
    assert len(used) > 140  # most of the 150 samples take part
    images = np.random.default_rng(0).random((150, 1, 2, 2)).astype(np.float32)
    x1, _, _ = make_pairs(cr.tensor(images), cr.tensor(y), 300, seed=7)
    np.testing.assert_array_equal(x1, images[a[0][:, 0]])


def test_make_pairs_errors():
    x, y = labelled([0, 0, 1, 1])
    with pytest.raises(ValueError, match="at least 2 classes .* got \\[4\\]"):
        make_pairs(x, np.full(4, 4), 10, 0)
    with pytest.raises(ValueError, match=r"at least 2 samples .* class\(es\) \[2\] have 1"):
        make_pairs(np.zeros((5, 1)), [0, 0, 1, 1, 2], 10, 0)
    with pytest.raises(ValueError, match="n_pairs must be at least 2 .* got 1"):
        make_pairs(x, y, 1, 0)
    with pytest.raises(TypeError, match="n_pairs must be an int, got 2.5"):
        make_pairs(x, y, 2.5, 0)
    with pytest.raises(ValueError, match=r"same number of samples, got x of shape \(3, 1\) "
                                         r"and 4 labels"):
        make_pairs(x[:3], y, 10, 0)
    with pytest.raises(TypeError, match="seed must be an int"):
        make_pairs(x, y, 10, "zero")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_make_pairs_refuses_non_finite_labels(bad):
    # NaN != NaN, so np.unique made NaN a class: its samples became "genuine" pairs
    y = np.r_[np.zeros(10), np.full(10, bad)]
    with pytest.raises(ValueError, match=r"^make_pairs: y holds 10 non-finite label\(s\), "
                                         rf"first y\[10\] = {bad}; class labels must be "
                                         r"finite"):
        make_pairs(np.zeros((20, 1)), y, 4, seed=0)
    # finite float labels are classes as before
    x, y = labelled(np.r_[np.zeros(10), np.full(10, 2.5)])
    x1, x2, t = make_pairs(x, y, 40, seed=0)
    np.testing.assert_array_equal(t == 1, y[x1[:, 0]] == y[x2[:, 0]])


# ------------------------------------------------------------------ the recipe
def test_run_siamese_on_digits(tmp_path, capsys):
    results = run_siamese("digits", seed=0, out_dir=tmp_path, loss="contrastive")
    out = capsys.readouterr().out.splitlines()
    assert len([line for line in out if line.startswith("epoch ")]) == 5
    assert out[-3] == (
        f"verification on unseen classes 7-9: ROC AUC {results['auc']:.4f}  EER "
        f"{results['eer']:.4f}  accuracy {results['accuracy']:.4f} (threshold "
        f"{results['threshold']:.4f} from validation pairs)")
    assert out[-2] == ("the same pairs by plain pixel distance, which learns nothing: ROC AUC "
                       f"{results['pixel_auc']:.4f}")
    # the baseline, recomputed: the test pairs are those of seed 0 drawn from digits 7-9
    from sklearn.metrics import roc_auc_score

    from chainrule.data.datasets import load_digits
    x, y = load_digits()
    x1, x2, t = make_pairs(x[y >= 7], y[y >= 7], 2000, seed=np.random.default_rng([0, 2]))
    pixel = -np.linalg.norm((x1 - x2).reshape(len(t), -1), axis=1)
    assert results["pixel_auc"] == pytest.approx(roc_auc_score(t, pixel), abs=1e-12)
    # measured: validation (classes 0-6) 0.999; unseen 7-9: AUC 0.75, EER 0.31; pixels 0.83
    assert results["val_auc"] > 0.99
    assert results["auc"] > 0.7 and results["eer"] < 0.35
    assert 0.8 < results["pixel_auc"] < 0.86
    assert results["epochs"][-1]["loss"] < results["epochs"][0]["loss"]
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["auc"] == results["auc"] and history["config"]["loss"] == "contrastive"
    assert (tmp_path / "roc_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_siamese_errors():
    with pytest.raises(ValueError, match="dataset must be 'digits'"):
        run_siamese("mnist")
    with pytest.raises(ValueError, match="loss must be one of .* got 'triplet'"):
        run_siamese(loss="triplet")
    with pytest.raises(ValueError, match="epochs must be at least 1, got 0"):
        run_siamese(epochs=0)
    with pytest.raises(ValueError, match=r"model must be one of \('mlp', 'cnn'\) \(the encoder\), "
                                         r"got 'resnet'"):
        run_siamese(model="resnet")
    with pytest.raises(ValueError, match=r"channels must be two numbers \(c1, c2\)"):
        run_siamese(channels=(8,))
    with pytest.raises(ValueError, match=r"hidden sizes the MLP encoder; the CNN encoder takes "
                                         r"channels, got hidden=\(64,\) with model='cnn'"):
        run_siamese(hidden=(64,))
    with pytest.raises(ValueError, match=r"channels size the CNN encoder; the MLP encoder "
                                         r"takes hidden, got channels=\(4, 8\)"):
        run_siamese(loss="contrastive", channels=(4, 8))
    with pytest.raises(ValueError, match="test_shift must be at least 0, got -1"):
        run_siamese(test_shift=-1)
    with pytest.raises(ValueError, match="train_composites must be at least 1, got 0"):
        run_siamese(train_composites=0)
    with pytest.raises(ValueError, match="test_shift must be smaller than the 8-pixel side"):
        run_siamese(test_shift=8)
    with pytest.raises(TypeError, match="channels must be a sequence of ints, got 4"):
        run_siamese(channels=4)
    with pytest.raises(TypeError, match="hidden must be a sequence of ints, got '64'"):
        run_siamese(loss="contrastive", hidden="64")
    with pytest.raises(ValueError, match="lr must be a finite number of at least 0.0, got inf"):
        run_siamese(lr=float("inf"))


def test_run_siamese_encoder_that_diverged_on_the_last_step_is_reported(tmp_path):
    """One step at lr 1e30 leaves a finite loss but non-finite weights: the scoring says
    so, and nothing is written."""
    with pytest.raises(FloatingPointError, match="non-finite embeddings: training diverged"):
        run_siamese(loss="contrastive", lr=1e30, train_pairs=64, epochs=1, quiet=True,
                    out_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_run_siamese_composite_loss_defaults_and_record(tmp_path):
    """loss='composite' (the default) picks the CNN, batches of 256, 64-d embeddings and
    scoring over the 9 one-pixel shifts; a short run already learns the seen classes."""
    results = run_siamese(epochs=2, channels=(4, 8), train_composites=1024, quiet=True,
                          out_dir=tmp_path)
    config = json.loads((tmp_path / "history.json").read_text())["config"]
    assert {k: config[k] for k in ("loss", "model", "batch_size", "embedding_dim",
                                   "test_shift", "train_composites", "channels")} == {
        "loss": "composite", "model": "cnn", "batch_size": 256, "embedding_dim": 64,
        "test_shift": 1, "train_composites": 1024, "channels": [4, 8]}
    assert config["hidden"] is None  # the MLP's sizes, not used by the CNN
    assert len(results["epochs"]) == 2
    assert results["epochs"][1]["loss"] < results["epochs"][0]["loss"]
    assert results["val_auc"] > 0.75
    # an explicit choice wins over the recipe's: an MLP on composites, scored without shifts
    mlp_run = run_siamese(epochs=1, model="mlp", test_shift=0, train_composites=512,
                          quiet=True)
    assert 0.5 < mlp_run["auc"] < 1


def test_roc_plot_draws_the_baseline_beside_the_curve():
    pytest.importorskip("matplotlib", reason="matplotlib is not installed")
    from chainrule.train.siamese import plot_roc_curve

    fig = plot_roc_curve([0, 0.2, 1], [0, 0.9, 1], None, auc=0.89, eer=0.15,
                         baseline=([0, 0.5, 1], [0, 0.6, 1], "pixel distance, AUC 0.55"))
    ax = fig.axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["ROC, AUC 0.8900", "pixel distance, AUC 0.55", "chance", "EER 0.1500"]
    baseline = next(line for line in ax.lines if line.get_label().startswith("pixel"))
    np.testing.assert_array_equal(baseline.get_xydata(), [[0, 0], [0.5, 0.6], [1, 1]])
