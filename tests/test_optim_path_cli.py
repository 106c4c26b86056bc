"""``chainrule optim-path``: the table it prints, the pictures it writes, its errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image

from chainrule import playground as pg
from chainrule.cli import main


def _rows(out: str) -> dict[str, str]:
    """The table's rows by optimizer (the lines between the header and 'wrote')."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("optimizer"))
    return {line.split()[0]: line for line in lines[start + 1:] if not line.startswith("wrote")}


def test_table_and_png_for_the_ravine(tmp_path: Any, capsys: Any) -> None:
    assert main(["optim-path", "--function", "ravine", "--optimizers", "sgd,adam",
                 "--steps", "300", "--lr", "adam=0.05", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == ("ravine: f = ½ (x² + 100 y²); start (-4, 1); "
                                   "minimum f(0, 0) = 0; 300 steps")
    rows = _rows(out)
    assert list(rows) == ["sgd", "adam"]
    # SGD on the ravine: x_k = -4 · 0.985^k, y_k = (-0.5)^k, never within 1e-4 in 300 steps
    x = -4 * 0.985**300
    assert rows["sgd"].split()[1:5] == ["0.015", f"({x:.4g},", f"{0.5**300:.4g})",
                                        f"{0.5 * x * x + 50 * 0.25 ** 300:.4g}"]
    assert rows["sgd"].endswith("not reached")
    adam = pg.run_path("ravine", "adam", lr=0.05, steps=300)
    assert rows["adam"].split()[1] == "0.05"
    assert rows["adam"].split()[-1] == str(adam.steps_to_tol)
    assert out.splitlines()[-1] == f"wrote {tmp_path / 'optim-path-ravine.png'}"
    with Image.open(tmp_path / "optim-path-ravine.png") as image:
        assert image.format == "PNG" and image.size == (750, 560)


def test_piecewise_width_escape_and_gif(tmp_path: Any, capsys: Any) -> None:
    """The worked example's h = 0.15: GD with lr 0.3 gets past the bump at step 5."""
    assert main(["optim-path", "--function", "piecewise", "--width", "0.15", "--optimizers",
                 "sgd", "--lr", "0.3", "--steps", "1000", "--out", str(tmp_path), "--gif"]) == 0
    out = capsys.readouterr().out
    assert "unbounded below, local minimum f(1) = 0; 1000 steps" in out.splitlines()[0]
    assert _rows(out)["sgd"].split() == ["sgd", "0.3", "(598.5)", "-1194", "5"]
    with Image.open(tmp_path / "optim-path-piecewise.gif") as image:
        # 60 snapshots; Pillow merges identical ones (the path has left the window)
        assert image.format == "GIF" and 2 <= image.n_frames <= 60
    with Image.open(tmp_path / "optim-path-piecewise.png") as image:
        assert image.format == "PNG"


def test_start_and_default_learning_rates(tmp_path: Any, capsys: Any) -> None:
    assert main(["optim-path", "--function", "saddle", "--start=-1,0.01", "--steps", "3",
                 "--optimizers", "sgd,momentum", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "start (-1, 0.01)" in out
    rows = _rows(out)
    # sgd lr 0.05 on x² - y²: x ← 0.9 x, y ← 1.1 y
    assert rows["sgd"].split()[1:4] == ["0.05", "(-0.729,", "0.01331)"]
    assert rows["momentum"].split()[1] == "0.01"
    assert rows["sgd"].endswith("not reached")


@pytest.mark.parametrize("argv, message", [
    (["--function", "himmelblau"], "--function: unknown function 'himmelblau'; choose from "
                                   "rosenbrock|beale|saddle|plateau|ravine|piecewise"),
    (["--function", "ravine", "--optimizers", "sgd,lbfgs"],
     "--optimizers: unknown optimizer 'lbfgs'; choose from "
     "sgd,momentum,nesterov,adagrad,rmsprop,adam"),
    (["--function", "ravine", "--optimizers", "sgd,sgd"],
     "--optimizers: 'sgd,sgd' names an optimizer twice"),
    (["--function", "ravine", "--lr", "fast"], "--lr: expected a number >= 0 or a list"),
    (["--function", "ravine", "--lr", "-1"], "--lr: expected a number >= 0"),
    (["--function", "ravine", "--optimizers", "sgd", "--lr", "adam=0.1"],
     "--lr: 'adam' is not one of the --optimizers (sgd)"),
    (["--function", "ravine", "--lr", "adam=x"], "--lr: expected a learning rate >= 0 for "
                                                 "adam, got 'x'"),
    (["--function", "ravine", "--start", "1"], "--start: ravine takes 2 coordinates (x,y), "
                                               "got '1'"),
    (["--function", "ravine", "--start", "1,nan"], "--start: expected finite numbers x,y"),
    (["--function", "ravine", "--steps", "0"], "--steps: expected a positive integer, got '0'"),
    (["--function", "ravine", "--steps", "ten"], "--steps: expected a positive integer"),
    (["--function", "ravine", "--width", "0.1"], "--width is the bump width of --function "
                                                 "piecewise; ravine has none"),
    (["--function", "piecewise", "--width", "0"], "--width: expected a bump width > 0"),
    (["--function", "ravine", "--tol", "0"], "--tol: expected a tolerance > 0"),
])
def test_errors_are_one_line(argv: list[str], message: str, tmp_path: Any) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["optim-path", *argv, "--out", str(tmp_path)])
    text = str(exc.value.code)
    assert text.startswith(f"chainrule optim-path: {message}") and "\n" not in text
    assert list(tmp_path.iterdir()) == []  # refused before anything is written


def test_out_must_be_a_directory(tmp_path: Any) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit, match="--out .*file: not a directory"):
        main(["optim-path", "--function", "saddle", "--out", str(tmp_path / "file")])


def test_every_optimizer_by_default(tmp_path: Any, capsys: Any) -> None:
    assert main(["optim-path", "--function", "plateau", "--steps", "2",
                 "--out", str(tmp_path)]) == 0
    rows = _rows(capsys.readouterr().out)
    assert list(rows) == list(pg.OPTIMIZERS)
    for name, row in rows.items():
        path = pg.run_path("plateau", name, steps=2)
        point = "(" + ", ".join(f"{v:.4g}" for v in path.final_point) + ")"
        assert point in row and f"{path.final_loss:.4g}" in row
    np.testing.assert_equal(len(list(tmp_path.iterdir())), 1)
