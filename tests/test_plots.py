"""The learning-curve and confusion-matrix figures: what they show, not just that they draw."""

import numpy as np
import pytest

from chainrule.train import History

plots = pytest.importorskip("chainrule.train.plots")
pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


def _history(lrs):
    return History([{"epoch": e, "train_loss": 1 / e, "train_accuracy": 1 - 1 / (e + 1),
                     "val_loss": 1 / e + (e - 3) ** 2 / 10, "val_accuracy": 0.5, "lr": lr}
                    for e, lr in enumerate(lrs, start=1)])


def _labels(ax):
    return [line.get_label() for line in ax.get_lines()]


def test_learning_curves_name_the_run_and_mark_best_and_tested_epochs(tmp_path):
    history = _history([0.1] * 5)  # val_loss lowest at epoch 3
    fig = plots.plot_learning_curves(history, tmp_path / "c.png", tested_epoch=5,
                                     title="mlp 32 on digits: adam lr 0.1, seed 4")
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG
    assert fig.get_suptitle() == "mlp 32 on digits: adam lr 0.1, seed 4"
    loss, accuracy = fig.axes[:2]
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["Loss", "Accuracy"]
    for ax in (loss, accuracy):
        labels = _labels(ax)
        assert "best epoch 3 (val_loss 0.3333)" in labels
        assert "tested epoch 5" in labels
        tested = ax.get_lines()[labels.index("tested epoch 5")]
        assert list(tested.get_xdata()) == [5, 5]
    # the same epoch best and tested: one marker that says both
    fig = plots.plot_learning_curves(history, None, tested_epoch=3)
    assert "best and tested epoch 3 (val_loss 0.3333)" in _labels(fig.axes[0])
    assert not any(label.startswith("tested epoch") for label in _labels(fig.axes[0]))


def test_epoch_ticks_are_integers():
    fig = plots.plot_learning_curves(_history([0.1] * 3), None)  # 3 epochs: matplotlib
    for ax in fig.axes:                                          # would tick 1.0, 1.25 ...
        fig.canvas.draw()
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_a_learning_rate_panel_when_the_rate_changes_or_is_asked_for():
    rates = [0.1, 0.1, 0.05, 0.05, 0.01]
    fig = plots.plot_learning_curves(_history(rates), None)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == [
        "Loss", "Accuracy", "Learning rate"]
    lr_ax = next(ax for ax in fig.axes if ax.get_title() == "Learning rate")
    np.testing.assert_allclose(lr_ax.get_lines()[0].get_ydata(), rates)
    constant = plots.plot_learning_curves(_history([0.1] * 5), None)
    assert "Learning rate" not in [ax.get_title() for ax in constant.axes]
    asked = plots.plot_learning_curves(_history([0.1] * 5), None, lr_panel=True)
    assert "Learning rate" in [ax.get_title() for ax in asked.axes]


def test_confusion_matrix_title_carries_the_accuracy(tmp_path):
    cm = np.array([[5, 1], [0, 4]])
    fig = plots.plot_confusion_matrix(cm, tmp_path / "cm.png", title="digits test set, epoch 7")
    assert (tmp_path / "cm.png").read_bytes()[:8] == PNG
    assert fig.axes[0].get_title() == "digits test set, epoch 7\naccuracy 0.9000 (9/10)"
    fig = plots.plot_confusion_matrix(cm, None, normalize=True, show_accuracy=False)
    assert fig.axes[0].get_title() == "Confusion matrix"
