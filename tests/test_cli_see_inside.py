"""`chainrule train` flags that reach the see-inside tools and the Siamese recipe:
--lr auto (lr_find), --diagnose (GradientFlow), --task siamese, per-model schedules."""

import json

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import cli
from chainrule.data import DataLoader, TensorDataset
from chainrule.data.datasets import load_digits
from chainrule.data.pairs import make_pairs
from chainrule.metrics import roc_auc_score
from chainrule.models import mlp
from chainrule.models.siamese import siamese
from chainrule.train.lr_find import lr_find
from chainrule.train.recipes import build_model, build_optimizer, prepare_data
from chainrule.train.siamese import cnn_encoder

PNG = b"\x89PNG\r\n\x1a\n"
SMALL = ["--hidden", "32", "--dropout", "0.2", "--batch-size", "64", "--quiet"]
PAIRS = ["--loss", "contrastive"]  # the quick MLP on pairs, where the recipe is not the point


def _history(directory):
    return json.loads((directory / "history.json").read_text())


def test_lr_auto_trains_with_lr_finds_suggestion_for_the_same_model_and_data(tmp_path, capsys):
    assert cli.main(["train", "--lr", "auto", "--epochs", "1", "--out", str(tmp_path),
                     *SMALL]) == 0
    chosen = _history(tmp_path)["config"]["lr"]
    # the same sweep by hand: same seed, model, optimizer and training loader as the run
    data = prepare_data("digits", seed=0)
    cr.manual_seed(0)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=64, shuffle=True,
                        seed=0)
    model = build_model("mlp", "digits", [32], 0.2)
    optimizer = build_optimizer("adam", model.parameters(), 1e-3, 0.0)
    found = lr_find(model, F.cross_entropy, optimizer, loader)
    assert isinstance(chosen, float) and chosen == pytest.approx(found.suggestion, rel=1e-12)
    assert found.lrs[0] <= chosen <= found.lrs[-1]


def test_lr_auto_is_printed_and_the_run_is_reproducible(tmp_path, capsys):
    for run in ("a", "b"):
        assert cli.main(["train", "--lr", "auto", "--epochs", "2", "--out",
                         str(tmp_path / run), *SMALL[:-1]]) == 0
    out = capsys.readouterr().out
    assert out.count("--lr auto: ") == 2
    a, b = _history(tmp_path / "a"), _history(tmp_path / "b")
    assert a["config"]["lr"] == b["config"]["lr"]
    assert [e["val_loss"] for e in a["epochs"]] == [e["val_loss"] for e in b["epochs"]]


def test_lr_must_be_a_number_or_auto(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--lr", "fast"])
    assert "--lr" in capsys.readouterr().err


def test_diagnose_writes_the_records_and_picture_and_prints_the_table(tmp_path, capsys):
    assert cli.main(["train", "--diagnose", "--epochs", "2", "--out", str(tmp_path),
                     *SMALL[:-1]]) == 0
    out = capsys.readouterr().out
    assert "gradient flow, last epoch" in out and "no problem found" in out
    records = json.loads((tmp_path / "diagnostics.json").read_text())
    assert records["epochs"] == [1, 2]
    assert {"Linear", "ReLU"} <= set(records["kinds"].values())
    norms = [v["grad_norm"] for k, v in records["weights"].items()]
    assert all(len(n) == 2 and all(x > 0 for x in n) for n in norms)
    assert (tmp_path / "diagnostics.png").read_bytes().startswith(PNG)


def test_diagnose_does_not_change_the_training(tmp_path, capsys):
    for run, extra in (("plain", []), ("diagnosed", ["--diagnose"])):
        assert cli.main(["train", "--epochs", "2", "--out", str(tmp_path / run), *SMALL,
                         *extra]) == 0
    a, b = cr.load(tmp_path / "plain" / "model.safetensors"), \
        cr.load(tmp_path / "diagnosed" / "model.safetensors")
    for key in a:
        if not key.startswith("rng."):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_diagnose_explains_a_diverged_run(tmp_path, capsys):
    with pytest.raises(SystemExit, match="training diverged"):
        cli.main(["train", "--diagnose", "--optimizer", "sgd", "--lr", "100", "--epochs", "2",
                  "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert "gradients explode" in captured.out
    assert (tmp_path / "diagnostics.json").exists()


def test_cnn_and_resnet_default_to_the_plateau_schedule(tmp_path, capsys):
    assert cli.main(["train", "--model", "cnn", "--channels", "4", "--hidden", "8",
                     "--epochs", "1", "--out", str(tmp_path), "--quiet"]) == 0
    assert _history(tmp_path)["config"]["schedule"] == "plateau"
    assert cli.main(["train", "--epochs", "1", "--out", str(tmp_path / "mlp"), *SMALL]) == 0
    assert _history(tmp_path / "mlp")["config"]["schedule"] == "none"


def test_task_siamese_verifies_on_the_unseen_digits(tmp_path, capsys):
    assert cli.main(["train", "--task", "siamese", "--loss", "contrastive", "--epochs", "2",
                     "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("verification on unseen classes"))
    auc = float(line.split("ROC AUC")[1].split()[0])
    assert _history(tmp_path)["auc"] == pytest.approx(auc, abs=5e-5)
    assert 0.5 < auc <= 1
    assert (tmp_path / "roc_curve.png").read_bytes().startswith(PNG)
    # the trained weights, which give the same scores when loaded into a fresh network
    model = siamese(mlp(64, (128,), 32))
    model.load_state_dict(cr.load(tmp_path / "siamese.safetensors"))
    x, y = load_digits()
    x1, x2, t = make_pairs(x[y >= 7], y[y >= 7], 2000, seed=np.random.default_rng([0, 2]))
    with cr.no_grad():
        z1, z2 = model(cr.tensor(x1), cr.tensor(x2))
    scores = -np.linalg.norm(z1.numpy().astype(np.float64) - z2.numpy(), axis=1)
    assert roc_auc_score(t, scores) == pytest.approx(auc, abs=5e-5)
    # a second run into the same directory is refused, as for a classifier, but a siamese
    # run cannot be resumed, so --resume is not suggested
    with pytest.raises(SystemExit, match="holds another run") as refused:
        cli.main(["train", "--task", "siamese", "--loss", "contrastive", "--epochs", "1",
                  "--out", str(tmp_path)])
    assert "--resume" not in str(refused.value)
    assert cli.main(["train", "--task", "siamese", "--loss", "contrastive", "--epochs", "1",
                     "--out", str(tmp_path), "--overwrite", "--quiet"]) == 0


def test_task_siamese_composite_cnn_scores_with_shifted_copies(tmp_path, capsys):
    """The default loss: a CNN taught 728 composite classes; a pair's score is the cosine
    of the embeddings averaged over the 9 one-pixel shifts of each image."""
    assert cli.main(["train", "--task", "siamese", "--channels", "4,8", "--epochs", "1",
                     "--out", str(tmp_path), "--quiet"]) == 0
    history = _history(tmp_path)
    assert history["config"]["loss"] == "composite" and history["config"]["model"] == "cnn"
    assert history["config"]["test_shift"] == 1 and history["config"]["embedding_dim"] == 64
    model = siamese(cnn_encoder((4, 8), 64))
    model.load_state_dict(cr.load(tmp_path / "siamese.safetensors"))
    x, y = load_digits()
    x1, x2, t = make_pairs(x[y >= 7], y[y >= 7], 2000, seed=np.random.default_rng([0, 2]))

    def embed(images):
        padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
        total = 0
        for dy in range(3):
            for dx in range(3):
                with cr.no_grad():
                    z = model.embed(cr.tensor(padded[:, :, dy:dy + 8, dx:dx + 8].copy()))
                z = z.numpy().astype(np.float64)
                total = total + z / np.linalg.norm(z, axis=1, keepdims=True)
        return total / np.linalg.norm(total, axis=1, keepdims=True)

    scores = (embed(x1) * embed(x2)).sum(axis=1)
    assert roc_auc_score(t, scores) == pytest.approx(history["auc"], abs=1e-6)


def test_task_siamese_diverged_run_says_so_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    with pytest.raises(SystemExit, match=r"^chainrule train: the loss is nan at epoch 1, batch "
                                         r"\d+: training diverged; try a smaller lr \(now "
                                         r"1e\+30\)$"):
        cli.main(["train", "--task", "siamese", *PAIRS, "--lr", "1e30", "--out", str(out)])
    assert not out.exists()
    mine = tmp_path / "mine"  # a directory the user made is kept
    mine.mkdir()
    with pytest.raises(SystemExit, match="training diverged"):
        cli.main(["train", "--task", "siamese", *PAIRS, "--lr", "1e30", "--out", str(mine)])
    assert mine.is_dir() and not any(mine.iterdir())
    fresh = tmp_path / "fresh"  # without --out: neither the run directory nor runs/ is left
    fresh.mkdir()
    monkeypatch.chdir(fresh)
    with pytest.raises(SystemExit, match="training diverged"):
        cli.main(["train", "--task", "siamese", *PAIRS, "--lr", "1e30"])
    assert not any(fresh.iterdir())
    assert cli.main(["train", "--task", "siamese", *PAIRS, "--lr", "0", "--epochs", "1",
                     "--quiet", "--out", str(out)]) == 0
    assert "warning: --lr 0: a learning rate of 0 never changes the weights" in (
        capsys.readouterr().err)


@pytest.mark.parametrize("signal_name, exception, code", [
    ("SIGINT", KeyboardInterrupt, 130), ("SIGTERM", cli._Terminated, 143)])
def test_task_siamese_interrupted_says_so_and_leaves_nothing(tmp_path, capsys, monkeypatch,
                                                            signal_name, exception, code):
    def interrupted(*args, **kwargs):
        raise exception()

    monkeypatch.setattr(cli, "run_siamese", interrupted)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--task", "siamese"]) == code
    assert capsys.readouterr().err == (
        f"chainrule train: interrupted ({signal_name}) during the siamese run; a siamese run "
        "cannot be resumed, start it again\n")
    assert not any(tmp_path.iterdir())  # neither the run directory nor runs/ is left


@pytest.mark.parametrize("args, message", [
    (["--task", "siamese", "--model", "resnet"], "--task siamese takes --model mlp or cnn"),
    (["--task", "siamese", "--channels", "4"], "--channels must be two numbers C1,C2"),
    (["--task", "siamese", "--depth", "2"], "--task siamese does not take --depth"),
    (["--task", "siamese", "--hidden", "64"], "--hidden sizes the MLP encoder; the CNN "
                                              "encoder .* takes --channels C1,C2"),
    (["--task", "siamese", "--loss", "cosine", "--channels", "4,8"],
     "--channels sizes the CNN encoder; the MLP encoder takes --hidden"),
    (["--task", "siamese", "--augment"], "--task siamese does not take --augment"),
    (["--task", "siamese", "--dataset", "mnist"], "--dataset mnist is not supported"),
    (["--task", "siamese", "--lr", "auto"], "does not take --lr auto"),
    (["--loss", "cosine"], "--loss is the loss of --task siamese"),
])
def test_task_siamese_refuses_what_it_does_not_use(tmp_path, args, message):
    with pytest.raises(SystemExit, match=message):
        cli.main(["train", *args, "--out", str(tmp_path)])
    assert not any(tmp_path.iterdir())
