"""check.explain: every path from wrt to the output, its local derivatives and its
contribution; the contributions sum to autograd's gradient, each one equals
PyTorch's gradient with the other paths detached, and the graph is left intact."""

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.check import PathReport, explain


def _f64(values, requires_grad=True):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def _two_paths(worked_examples):
    inputs = worked_examples["chain_rule_two_paths"]["inputs"]
    a, b = _f64(inputs["a"]), _f64(inputs["b"])
    return a, b, (a**2) * (a + b)


def test_two_paths_reproduce_the_course_numbers_exactly(worked_examples):
    answer = worked_examples["chain_rule_two_paths"]["correct_answer"]
    a, b, c = _two_paths(worked_examples)
    report = explain(c, a, output_name="c", wrt_name="a")
    assert isinstance(report, PathReport) and len(report) == 2
    via_square, via_sum = report.paths
    assert via_square.nodes == ("Pow", "Mul[0]") and via_sum.nodes == ("Add[0]", "Mul[1]")
    assert via_square.slots == (0, 0) and via_sum.slots == (0, 1)
    # dv1/da = 2a = -2, dc/dv1 = v2 = 3;  dv2/da = 1, dc/dv2 = v1 = 1
    assert via_square.factors == (-2.0, 3.0) and via_sum.factors == (1.0, 1.0)
    assert via_square.contribution.item() == answer["path_via_a_squared"] == -6
    assert via_sum.contribution.item() == answer["path_via_a_plus_b"] == 1
    assert report.total.item() == answer["dc_da"] == -5
    assert report.total.shape == () and report.total.dtype == np.float64


def test_two_paths_print_as_a_table(worked_examples):
    a, _, c = _two_paths(worked_examples)
    lines = str(explain(c, a, output_name="c", wrt_name="a")).splitlines()
    assert lines[0] == "paths from a (shape ()) to c (shape ()), upstream gradient 1"
    assert lines[1].split() == ["#", "path", "local", "derivatives", "contribution"]
    assert lines[2].split() == ["1", "a", "→", "Pow", "→", "Mul[0]", "→", "c", "-2", "×", "3",
                                "-6"]
    assert lines[3].split() == ["2", "a", "→", "Add[0]", "→", "Mul[1]", "→", "c", "1", "×", "1",
                                "1"]
    assert lines[4].split() == ["total", "-5"]


def test_explain_leaves_the_graph_and_grads_alone(worked_examples):
    a, b, c = _two_paths(worked_examples)
    explain(c, a)
    explain(c, b)
    assert a.grad is None and b.grad is None
    c.backward()  # the graph was not freed: backward works as if explain never ran
    assert a.grad.item() == -5 and b.grad.item() == 1


def test_explain_after_backward_needs_retain_graph(worked_examples):
    a, _, c = _two_paths(worked_examples)
    c.backward(retain_graph=True)
    assert explain(c, a).total.item() == -5
    c.backward()  # frees the graph
    with pytest.raises(RuntimeError, match=r"freed by backward\(\).*retain_graph=True"):
        explain(c, a)


def test_a_variable_used_twice_by_one_op_gives_one_path_per_input_slot(rng):
    x = _f64(rng.standard_normal(4))
    report = explain((x * x).sum(), x)
    assert [p.nodes for p in report] == [("Mul[0]", "Sum"), ("Mul[1]", "Sum")]
    for path in report:  # ∂(x·x)/∂(first x) = second x and vice versa
        np.testing.assert_array_equal(path.contribution, x.data)
        assert path.factors == ("(4,)→(4,)", "(4,)→()")
    np.testing.assert_array_equal(report.total, 2 * x.data)


def _mlp(arrays, lib):
    """A small MLP with a skip connection and an L2 penalty: W1 reaches the loss along
    three paths (through the hidden layer, the skip, the penalty)."""
    x, y, w1, b1, w2, ws = arrays
    h = (x @ w1 + b1).tanh()
    logits = h @ w2 + (x @ w1) @ ws
    if lib is torch:
        return torch.nn.functional.cross_entropy(logits, y) + 0.1 * (w1**2).sum(), h
    return F.cross_entropy(logits, y) + 0.1 * (w1**2).sum(), h


def _mlp_arrays(rng):
    return [rng.standard_normal((8, 4)), rng.integers(0, 3, 8), rng.standard_normal((4, 5)),
            rng.standard_normal(5), rng.standard_normal((5, 3)), rng.standard_normal((5, 3))]


def test_mlp_path_contributions_sum_to_autograd_and_each_matches_torch(rng):
    arrays = _mlp_arrays(rng)
    leaves = [cr.tensor(a, requires_grad=a.dtype == np.float64) for a in arrays]
    loss, _ = _mlp(leaves, cr)
    report = explain(loss, leaves[2], output_name="L", wrt_name="W1")
    assert [p.nodes for p in report] == [
        ("MatMul[1]", "Add[0]", "Tanh", "MatMul[0]", "Add[0]", "CrossEntropy", "Add[0]"),
        ("MatMul[1]", "MatMul[0]", "Add[1]", "CrossEntropy", "Add[0]"),
        ("Pow", "Sum", "Mul", "Add[1]"),
    ]
    assert report.paths[2].factors[-1] == 1.0  # scalar to scalar: a number
    loss.backward()
    np.testing.assert_allclose(report.total, leaves[2].grad.data, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(report.paths[2].contribution, 0.2 * arrays[2], rtol=1e-15)

    # each path alone, in torch: the uses of W1 on the other paths are detached
    def torch_path(keep):
        x, y, w1, b1, w2, ws = (torch.tensor(a) for a in arrays)
        w1.requires_grad_()
        uses = [w1 if k == keep else w1.detach() for k in range(3)]
        h = (x @ uses[0] + b1).tanh()
        logits = h @ w2 + (x @ uses[1]) @ ws
        loss = torch.nn.functional.cross_entropy(logits, y) + 0.1 * (uses[2] ** 2).sum()
        loss.backward()
        return w1.grad.numpy()

    for k, path in enumerate(report.paths):
        np.testing.assert_allclose(path.contribution, torch_path(k), rtol=1e-12, atol=1e-14)


def test_an_intermediate_tensor_as_wrt(rng):
    arrays = _mlp_arrays(rng)
    leaves = [cr.tensor(a, requires_grad=a.dtype == np.float64) for a in arrays]
    loss, h = _mlp(leaves, cr)
    h.retain_grad()
    report = explain(loss, h)
    assert [p.nodes for p in report] == [("MatMul[0]", "Add[0]", "CrossEntropy", "Add[0]")]
    assert h.grad is None  # hooks (retain_grad) are not run by explain
    loss.backward()
    np.testing.assert_allclose(report.total, h.grad.data, rtol=1e-14)
    assert report.total.shape == (8, 5)
    assert str(report).splitlines()[-1].split()[:3] == ["total", "‖·‖", "="]


def test_non_scalar_output_uses_ones_or_the_given_upstream(rng):
    x = _f64(rng.standard_normal(3))
    y = x.exp() * x
    ones = explain(y, x)
    assert ones.upstream == "ones (as for out.sum())"
    np.testing.assert_allclose(ones.total, np.exp(x.data) * (1 + x.data), rtol=1e-15)
    upstream = rng.standard_normal(3)
    given = explain(y, x, grad=upstream)
    np.testing.assert_allclose([p.contribution for p in given],
                               [upstream * np.exp(x.data) * x.data, upstream * np.exp(x.data)],
                               rtol=1e-15)
    with pytest.raises(ValueError, match=r"grad has shape \(2,\) but output has shape \(3,\)"):
        explain(y, x, grad=np.ones(2))


def test_too_many_paths_are_refused_before_any_is_computed():
    t = _f64(1.0)
    u = t
    for _ in range(3):
        u = u + u  # each doubling doubles the paths
    report = explain(u, t)
    assert len(report) == 8 and report.total.item() == 8
    assert all(p.contribution.item() == 1 for p in report)
    for _ in range(17):
        u = u + u
    with pytest.raises(ValueError, match=r"1048576 paths lead from x to out, more than "
                                         r"max_paths=1000; explain a smaller subgraph"):
        explain(u, t)


def test_deep_graphs_are_walked_iteratively():
    t = _f64(1.0)
    u = t
    for _ in range(3000):
        u = u * 1.0001
    report = explain(u, t)
    assert len(report) == 1 and len(report.paths[0].nodes) == 3000
    assert report.total.item() == pytest.approx(1.0001**3000, rel=1e-12)


def test_no_path_and_bad_arguments(rng):
    x, unused = _f64(rng.standard_normal(2)), _f64(0.0)
    out = (x * 2).sum()
    report = explain(out, unused, wrt_name="z", output_name="L")
    assert report.paths == () and report.total.item() == 0
    assert str(report).splitlines()[-1] == "no path: L does not depend on z, so ∂L/∂z = 0"
    assert explain(out, out).total.item() == 1  # the output itself: one empty path
    with pytest.raises(ValueError, match="x does not require grad"):
        explain(out, _f64(1.0, requires_grad=False))
    with pytest.raises(TypeError, match="must be Tensors, got ndarray and Tensor"):
        explain(np.ones(2), x)
    with pytest.raises(ValueError, match="max_paths must be a positive integer, got 0"):
        explain(out, x, max_paths=0)
