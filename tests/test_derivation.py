"""check.derivation on the backprop problems of the course: the correct hand-derived
gradients pass, and the sign-flipped, transposed, scaled and one-path-missing versions
are each named; plus the errors, and ``chainrule check-derivation`` on files."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.check import DerivationReport, derivation
from chainrule.cli import main


# ------------------------------------------------------------------ leaky max layer
def _leaky(ex):
    """L = ½‖max(αg, g) - y‖², g = W x + b; δ = [α 1(g<0) + 1(g≥0)] (f - y); dL/dW = δ xᵀ."""
    inputs = ex["inputs"]
    x, y, alpha = np.array(inputs["x"]), np.array(inputs["y"]), inputs["alpha"]

    def forward(W, b):
        g = W @ x + b
        return 0.5 * ((cr.maximum(alpha * g, g) - y) ** 2).sum()

    def delta(W, b):
        g = W @ x + b
        return np.where(g < 0, alpha, 1.0) * (np.maximum(alpha * g, g) - y)

    return forward, delta, x, [np.array(inputs["W_k"]), np.array(inputs["b"])]


def test_the_correct_leaky_layer_gradient_passes(worked_examples):
    ex = worked_examples["leaky_max_layer_backprop"]
    forward, delta, x, inputs = _leaky(ex)

    def claimed(W, b):
        return np.outer(delta(W, b), x), delta(W, b)

    answer = ex["correct_answer"]
    dW, db = claimed(*inputs)  # the hand formula gives the course's numbers
    np.testing.assert_allclose(dW, answer["dL_dWk"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(db, answer["dL_db"], rtol=1e-6, atol=1e-9)
    report = derivation(forward, claimed, inputs)
    assert isinstance(report, DerivationReport)
    assert report.ok and report.slip is None and report.points == 5 and report.skipped == 0
    assert [c.name for c in report.inputs] == ["∂L/∂W", "∂L/∂b"]  # forward's parameter names
    assert all(c.verdict == "correct" and c.max_abs_error < 1e-14 for c in report.inputs)
    text = str(report).splitlines()
    assert text[0] == ("derivation check at 5 points (the given one and 4 random), "
                       "rtol=1e-06, atol=1e-09")
    assert text[1].startswith("∂L/∂W: correct at all 5 points (max abs error ")
    assert text[-1] == "all gradients correct"


def test_a_sign_slip_is_named(worked_examples):
    forward, delta, x, inputs = _leaky(worked_examples["leaky_max_layer_backprop"])
    report = derivation(forward, lambda W, b: (np.outer(delta(W, b), x), -delta(W, b)), inputs)
    assert not report.ok and report.slip == "sign"
    check = report["b"]
    assert report["W"].ok and check.verdict == "wrong" and check.wrong_points == 5
    assert check.max_rel_error == pytest.approx(2.0)
    # the biggest differences at the given point: δ = [-0.2, 0.002, 0.5] negated
    assert check.differing_point == 0
    assert [index for index, _, _ in check.differing] == [(2,), (0,), (1,)]
    np.testing.assert_allclose([(c, t) for _, c, t in check.differing],
                               [(-0.5, 0.5), (0.2, -0.2), (-0.002, 0.002)], rtol=1e-12)
    assert ("∂L/∂b: wrong — looks like a sign slip: your gradient is the negative of the true "
            "one at all 5 points") in str(report)
    assert str(report).splitlines()[-1] == "wrong: ∂L/∂b"


def test_a_transposed_gradient_of_the_other_shape_is_named(worked_examples):
    forward, delta, x, inputs = _leaky(worked_examples["leaky_max_layer_backprop"])
    report = derivation(forward, lambda W, b: (np.outer(x, delta(W, b)), delta(W, b)), inputs)
    check = report["W"]
    assert report.slip == "transpose" and check.shapes == ((4, 3), (3, 4))
    assert check.max_abs_error is None
    assert ("∂L/∂W: wrong — looks like a transpose slip: your gradient is the transpose of the "
            "true one (shape (4, 3) where the input has shape (3, 4)) at all 5 points"
            ) in str(report)


def test_a_transposed_square_gradient_is_named(worked_examples):
    ex = worked_examples["leaky_max_layer_backprop"]
    _, _, _, (W, b) = _leaky(ex)
    x, y, alpha = np.array(ex["inputs"]["x"][:3]), np.array(ex["inputs"]["y"]), 0.2

    def forward(W):  # the same layer with a square W (the first three columns)
        g = W @ x + b
        return 0.5 * ((cr.maximum(alpha * g, g) - y) ** 2).sum()

    def claimed(W):
        g = W @ x + b
        return np.outer(x, np.where(g < 0, alpha, 1.0) * (np.maximum(alpha * g, g) - y))

    report = derivation(forward, claimed, [W[:, :3]])
    assert report.slip == "transpose" and report["W"].shapes is None
    assert report["W"].max_abs_error > 0.1
    assert "looks like a transpose slip" in str(report)
    fixed = derivation(forward, lambda W: claimed(W).T, [W[:, :3]])
    assert fixed.ok


def test_a_constant_factor_is_named_with_its_value(worked_examples):
    forward, delta, x, inputs = _leaky(worked_examples["leaky_max_layer_backprop"])
    # the ½ of ½‖f - y‖² forgotten: twice the true gradient
    doubled = derivation(forward, lambda W, b: (2 * np.outer(delta(W, b), x), delta(W, b)),
                         inputs)
    assert doubled.slip == "factor" and doubled["W"].factor == pytest.approx(2.0, rel=1e-12)
    assert "looks like a constant-factor slip: your gradient is 2 times the true one at all " \
           "5 points" in str(doubled)
    halved = derivation(forward, lambda W, b: (np.outer(delta(W, b), x), delta(W, b) / 2),
                        inputs)
    assert halved["b"].factor == pytest.approx(0.5, rel=1e-12)
    assert "your gradient is 0.5 (= 1/2) times the true one" in str(halved)


# ------------------------------------------------------------------ two paths
def _two_paths(worked_examples):
    inputs = worked_examples["chain_rule_two_paths"]["inputs"]
    return (lambda a, b: (a**2) * (a + b)), [inputs["a"], inputs["b"]]


def test_the_two_path_derivative_passes_and_each_one_path_version_is_named(worked_examples):
    answer = worked_examples["chain_rule_two_paths"]["correct_answer"]
    forward, inputs = _two_paths(worked_examples)

    def correct(a, b):  # dc/da = 2a(a + b) + a², dc/db = a²
        return 2 * a * (a + b) + a**2, a**2

    assert correct(-1.0, 4.0) == (answer["dc_da"], answer["dc_db"])
    assert derivation(forward, correct, inputs).ok

    only_square = derivation(forward, lambda a, b: (2 * a * (a + b), a**2), inputs)
    check = only_square["a"]
    assert only_square.slip == "missing-path" and check.path_count == 2
    assert check.missing == ("a → Add[0] → Mul[1] → L",)
    assert check.differing == [((), -6.0, -5.0)]  # the path via a² alone, against the total
    assert ("∂L/∂a: wrong — looks like a missing path: your gradient is the sum over 1 of the 2 "
            "paths to the output at all 5 points; missing: a → Add[0] → Mul[1] → L"
            ) in str(only_square)

    only_sum = derivation(forward, lambda a, b: (a**2, a**2), inputs)
    assert only_sum.slip == "missing-path" and only_sum["a"].missing == ("a → Pow → Mul[0] → L",)


# ------------------------------------------------------------------ siamese (shared weights)
def _siamese(ex):
    inputs = ex["inputs"]
    x, xh, y = np.array(inputs["x"]), np.array(inputs["xhat"]), inputs["y"]

    def forward(W1, W2):
        z, zh = W2 @ (W1 @ x).relu(), W2 @ (W1 @ xh).relu()
        return -y * F.cosine_similarity(z, zh, dim=0)

    def claimed(W1, W2, towers=(True, True)):
        """The course's formulas; ``towers`` says which uses of the weights are summed."""
        m, n = W1 @ x, W1 @ xh
        h, hh = np.maximum(m, 0), np.maximum(n, 0)
        z, zh = W2 @ h, W2 @ hh
        nz, nzh = np.linalg.norm(z), np.linalg.norm(zh)
        s = z @ zh / (nz * nzh)
        dz, dzh = -y * (zh / (nz * nzh) - s * z / nz**2), -y * (z / (nz * nzh) - s * zh / nzh**2)
        dm, dn = (m > 0) * (W2.T @ dz), (n > 0) * (W2.T @ dzh)
        parts_w1, parts_w2 = [np.outer(dm, x), np.outer(dn, xh)], [np.outer(dz, h),
                                                                   np.outer(dzh, hh)]
        return (sum(p for p, keep in zip(parts_w1, towers) if keep),
                sum(p for p, keep in zip(parts_w2, towers) if keep))

    return forward, claimed, {"W1": np.array(inputs["W1"]), "W2": np.array(inputs["W2"])}


def test_the_siamese_gradient_passes_and_a_forgotten_tower_is_a_missing_path(worked_examples):
    ex = worked_examples["siamese_cosine_backprop"]
    forward, claimed, inputs = _siamese(ex)
    dW1, dW2 = claimed(inputs["W1"], inputs["W2"])
    np.testing.assert_allclose(dW1, ex["correct_answer"]["dL_dW1"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dW2, ex["correct_answer"]["dL_dW2"], rtol=1e-6, atol=1e-9)
    assert derivation(forward, claimed, inputs).ok

    report = derivation(forward, lambda W1, W2: claimed(W1, W2, towers=(True, False)), inputs)
    assert report.slip == "missing-path"
    assert report["W1"].missing == (
        "W1 → MatMul → ReLU → MatMul[1] → CosineSimilarity[1] → Mul → L",)
    assert report["W2"].missing == ("W2 → MatMul[0] → CosineSimilarity[1] → Mul → L",)
    report = derivation(forward, lambda W1, W2: claimed(W1, W2, towers=(False, True)), inputs)
    assert report["W1"].missing == (
        "W1 → MatMul → ReLU → MatMul[1] → CosineSimilarity[0] → Mul → L",)


# ------------------------------------------------------------------ softmax and cosine
def test_softmax_cross_entropy_gradient_and_its_sign_slip(worked_examples):
    ex = worked_examples["softmax_cross_entropy_gradient"]
    y = np.array(ex["inputs"]["y_soft"])

    def forward(z):
        return -(y * z.log_softmax(0)).sum()

    def softmax(z):
        e = np.exp(z - z.max())
        return e / e.sum()

    z = np.array(ex["inputs"]["z"])
    np.testing.assert_allclose(softmax(z) - y, ex["correct_answer"]["grad_soft"], rtol=1e-6)
    assert derivation(forward, lambda z: softmax(z) - y, [z]).ok
    assert derivation(forward, lambda z: y - softmax(z), [z]).slip == "sign"


def test_a_gradient_with_a_dropped_term_is_wrong_without_a_named_slip(worked_examples):
    ex = worked_examples["cosine_similarity_gradient"]

    def forward(z, zhat):
        return -F.cosine_similarity(z, zhat, dim=0)

    def claimed(z, zhat, full=True):
        nz, nzh = np.linalg.norm(z), np.linalg.norm(zhat)
        s = z @ zhat / (nz * nzh)
        return (-(zhat / (nz * nzh) - full * s * z / nz**2),
                -(z / (nz * nzh) - s * zhat / nzh**2))

    inputs = [ex["inputs"]["z"], ex["inputs"]["zhat"]]
    np.testing.assert_allclose(claimed(*map(np.array, inputs))[0],
                               ex["correct_answer"]["y_plus1"]["dL_dz"], rtol=1e-6)
    assert derivation(forward, claimed, inputs).ok
    report = derivation(forward, lambda z, zhat: claimed(z, zhat, full=False), inputs)
    assert not report.ok and report.slip is None and report["zhat"].ok
    assert report["z"].verdict == "wrong" and report["z"].wrong_points == 5
    assert ("∂L/∂z: wrong at 5 of 5 points — not a sign, transpose, constant-factor or "
            "missing-path slip") in str(report)


# ------------------------------------------------------------------ points, names, errors
def test_random_points_are_seeded_and_non_finite_ones_skipped():
    def forward(a, b):
        return (a * b).log()

    def claimed(a, b):
        return 1 / a, 1 / b

    first = derivation(forward, claimed, {"a": -1.0, "b": -2.0}, points=12, seed=3)
    again = derivation(forward, claimed, {"a": -1.0, "b": -2.0}, points=12, seed=3)
    assert first.ok and first.skipped > 0 and first.points + first.skipped == 12
    assert (first.points, first.skipped) == (again.points, again.skipped)
    assert f"{first.skipped} random points skipped (not finite there)" in str(first)
    with pytest.raises(ValueError, match="L or its gradient is not finite at the given inputs"):
        derivation(forward, claimed, {"a": 1.0, "b": -2.0})


def test_wrong_shapes_counts_and_values_are_clear():
    def forward(w):
        return (w**2).sum()

    w = np.arange(6.0).reshape(2, 3)
    wrong_shape = derivation(forward, lambda w: 2 * w.ravel(), [w])
    assert wrong_shape["w"].verdict == "wrong shape" and wrong_shape.slip is None
    assert ("∂L/∂w: wrong shape: your gradient has shape (6,), but a gradient has its input's "
            "shape (2, 3)") in str(wrong_shape)
    with np.errstate(divide="ignore"):
        not_finite = derivation(forward, lambda w: 2 * w / 0, [w])
    assert not_finite["w"].verdict == "not finite"
    with pytest.raises(ValueError, match=r"claimed returned 2 arrays for 1 inputs \(w\)"):
        derivation(forward, lambda w: (2 * w, w), [w])
    with pytest.raises(TypeError, match="claimed's gradient for 'w' is not numeric: str"):
        derivation(forward, lambda w: ("2w",), [w])
    with pytest.raises(ValueError, match=r"forward must return a scalar .* got shape \(2, 3\)"):
        derivation(lambda w: w * 2, lambda w: 2 * w, [w])
    with pytest.raises(TypeError, match="forward must return a chainrule Tensor .* got float"):
        derivation(lambda w: float((w.data**2).sum()), lambda w: 2 * w, [w])
    with pytest.raises(ValueError, match="does not depend on its inputs through chainrule ops"):
        derivation(lambda w: cr.tensor((w.data**2).sum()), lambda w: 2 * w, [w])
    with pytest.raises(ValueError, match="points must be a positive integer, got 0"):
        derivation(forward, lambda w: 2 * w, [w], points=0)
    with pytest.raises(ValueError, match="input 'w' has nan or inf"):
        derivation(forward, lambda w: 2 * w, [np.array([np.nan])])
    with pytest.raises(TypeError, match="inputs must be a list/tuple of arrays or a dict"):
        derivation(forward, lambda w: 2 * w, w)


def test_one_point_and_unnamed_inputs():
    report = derivation(lambda *xs: (xs[0] * xs[1]).sum(), lambda u, v: (v, u),
                        [np.ones(2), np.full(2, 3.0)], points=1)
    assert report.ok and report.points == 1 and [c.name for c in report.inputs] == [
        "∂L/∂x0", "∂L/∂x1"]
    assert str(report).startswith("derivation check at 1 point (the given one and 0 random)")


# ------------------------------------------------------------------ the command
CORRECT = """
import numpy as np
import chainrule as cr

x = np.array([1.0, -2.0, 0.5])

def forward(W):
    return ((W @ x).tanh() ** 2).sum()

def claimed(W):
    t = np.tanh(W @ x)
    return np.outer({sign}2 * t * (1 - t**2), x)

inputs = {{"W": np.array([[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]])}}

if __name__ == "__main__":
    raise SystemExit("not run by check-derivation")
"""


def test_cli_exit_status_follows_the_verdict(tmp_path, capsys):
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(CORRECT.format(sign=""))
    bad.write_text(CORRECT.format(sign="-"))
    assert main(["check-derivation", str(good)]) == 0
    out = capsys.readouterr().out
    assert "∂L/∂W: correct at all 5 points" in out and out.endswith("all gradients correct\n")
    assert main(["check-derivation", str(bad), "--points", "3", "--seed", "1"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("derivation check at 3 points")
    assert "∂L/∂W: wrong — looks like a sign slip" in out


def test_cli_errors_are_one_line(tmp_path):
    missing = tmp_path / "nothing.py"
    with pytest.raises(SystemExit, match=f"chainrule check-derivation: no such file: {missing}"):
        main(["check-derivation", str(missing)])
    partial = tmp_path / "partial.py"
    partial.write_text("def forward(w):\n    return w.sum()\n")
    with pytest.raises(SystemExit, match="partial.py does not define claimed, inputs"):
        main(["check-derivation", str(partial)])
    broken = tmp_path / "broken.py"
    broken.write_text("1 / 0\n")
    with pytest.raises(SystemExit, match="broken.py raised ZeroDivisionError: division by zero"):
        main(["check-derivation", str(broken)])
    failing = tmp_path / "failing.py"
    failing.write_text("def forward(w):\n    return w * 2\n"
                       "def claimed(w):\n    return 2 * w\ninputs = [[1.0, 2.0]]\n")
    with pytest.raises(SystemExit, match=r"failing.py: ValueError: derivation: forward must "
                                         r"return a scalar"):
        main(["check-derivation", str(failing)])
