"""Worked course problems on autograd, answered with chainrule's own API and
compared with the independently computed answers in worked_examples.json."""

import numpy as np
import pytest

import chainrule as cr


def _close(ex):
    """An assertion with the example's tolerance (exact means bit-for-bit equal)."""
    tol = ex["tolerance"]

    def check(actual, expected, what):
        actual = np.asarray(actual.data if isinstance(actual, cr.Tensor) else actual)
        if tol.get("exact"):
            np.testing.assert_array_equal(actual, expected, err_msg=what)
        else:
            np.testing.assert_allclose(actual, expected, rtol=tol["rtol"], atol=tol["atol"],
                                       err_msg=what)

    return check


def _f64(values, requires_grad=False):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def test_chain_rule_two_paths(worked_examples):
    ex = worked_examples["chain_rule_two_paths"]
    check, answer = _close(ex), ex["correct_answer"]
    a = _f64(ex["inputs"]["a"], requires_grad=True)
    b = _f64(ex["inputs"]["b"], requires_grad=True)
    v1, v2 = a**2, a + b
    c = v1 * v2
    c.backward()
    check(c, answer["c"], "c")
    check(a.grad, answer["dc_da"], "dc/da (both paths summed by the engine)")
    check(b.grad, answer["dc_db"], "dc/db")

    # each path alone: the other path's use of a is detached (a constant)
    a.grad = None
    ((a**2) * (a.detach() + b.detach())).backward()
    check(a.grad, answer["path_via_a_squared"], "(dc/dv1)(dv1/da)")
    via_squared = a.grad.numpy().copy()
    a.grad = None
    ((a.detach() ** 2) * (a + b.detach())).backward()
    check(a.grad, answer["path_via_a_plus_b"], "(dc/dv2)(dv2/da)")
    check(via_squared + a.grad, answer["dc_da"], "the two paths sum to dc/da")

    # dc/dv1 and dc/dv2: make the intermediates leaves
    v1_leaf, v2_leaf = v1.detach().requires_grad_(), v2.detach().requires_grad_()
    (v1_leaf * v2_leaf).backward()
    check(v1_leaf.grad, answer["dc_dv1"], "dc/dv1")
    check(v2_leaf.grad, answer["dc_dv2"], "dc/dv2")


def test_softmax_jacobian_row_by_row(worked_examples):
    ex = worked_examples["softmax_jacobian"]
    check, answer = _close(ex), ex["correct_answer"]
    z = _f64(ex["inputs"]["z"], requires_grad=True)
    y = z.softmax(dim=0)
    check(y, answer["softmax"], "softmax")
    rows = []
    for k in range(y.shape[0]):  # row k of J = ∇_z y_k, one backward each
        z.grad = None
        y[k].backward(retain_graph=True)
        rows.append(z.grad.numpy().copy())
    jacobian = np.stack(rows)
    check(jacobian, answer["jacobian"], "Jacobian")
    yd = y.data
    check(jacobian, np.diag(yd) - np.outer(yd, yd), "J = diag(y) - y yᵀ")


def test_softmax_numerical_stability(worked_examples):
    ex = worked_examples["softmax_numerical_stability"]
    check, answer = _close(ex), ex["correct_answer"]
    z_values = np.asarray(ex["inputs"]["z"], dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(z_values) / np.exp(z_values).sum()  # inf / inf
    assert bool(np.isnan(naive).all()) is answer["naive_result_is_nan"]

    z = _f64(z_values)
    softmax, log_softmax = z.softmax(0), z.log_softmax(0)
    check(softmax, answer["softmax"], "softmax")
    check(log_softmax, answer["log_softmax"], "log_softmax")
    assert np.all(np.isfinite(softmax.data)) and np.all(np.isfinite(log_softmax.data))
    np.testing.assert_array_equal((z - 1002.0).softmax(0).data, softmax.data)  # shift invariance
    check(cr.tensor(z_values, dtype=np.float32).softmax(0), answer["softmax"], "float32 softmax")


def test_logsumexp_bounds_every_case(worked_examples):
    ex = worked_examples["logsumexp_bounds"]
    check, cases = _close(ex), ex["correct_answer"]["cases"]
    vectors = {f"x=[{','.join(str(int(v)) for v in vec)}]": _f64(vec)
               for vec in ex["inputs"]["vectors"]}
    assert set(vectors) | {"scaled_t=10_x=[1,2,3]"} == set(cases)

    for name, x in vectors.items():
        case, n = cases[name], x.numel()
        lse, max_x, max_abs = cr.logsumexp(x, 0), x.max(), x.abs().max()
        check(lse, case["LSE"], f"{name} LSE")
        assert max_x.item() <= lse.item() <= max_x.item() + np.log(n) + 1e-12
        if "max_x" in case:
            check(max_x, case["max_x"], f"{name} max")
        if "upper_bound" in case:
            check(max_x + np.log(n), case["upper_bound"], f"{name} upper bound")
        if "max_abs_x" in case:
            check(max_abs, case["max_abs_x"], f"{name} max|x|")
        if "abs_version_lower_bound_holds" in case:
            assert (max_abs.item() <= lse.item()) is case["abs_version_lower_bound_holds"]
        if "max_version_holds_with_equality_in_upper" in case:
            equal = bool(np.isclose(lse.item(), max_x.item() + np.log(n), rtol=1e-12))
            assert equal is case["max_version_holds_with_equality_in_upper"]
        if "max_abs_plus_ln2" in case:
            check(max_abs + np.log(2), case["max_abs_plus_ln2"], f"{name} max|x| + ln 2")
            equal = bool(np.isclose(lse.item(), max_abs.item() + np.log(2), rtol=1e-12))
            assert equal is case["upper_bound_equality"]
        if "max_plus_ln3" in case:
            check(max_x + np.log(3), case["max_plus_ln3"], f"{name} max + ln 3")
            check(lse, case["max_plus_ln3"], f"{name}: all equal, the upper bound is tight")

    t, x = ex["inputs"]["t"], vectors["x=[1,2,3]"]
    scaled = cases["scaled_t=10_x=[1,2,3]"]
    check(cr.logsumexp(t * x, 0) / t, scaled["LSE(tx)/t"], "LSE(tx)/t")
    check(x.max() + np.log(3) / t, scaled["upper"], "max + ln(n)/t")


def test_leaky_max_layer_backprop(worked_examples):
    ex = worked_examples["leaky_max_layer_backprop"]
    check, answer, inputs = _close(ex), ex["correct_answer"], ex["inputs"]
    x, y = _f64(inputs["x"]), _f64(inputs["y"])
    w = _f64(inputs["W_k"], requires_grad=True)
    b = _f64(inputs["b"], requires_grad=True)
    alpha = inputs["alpha"]
    g = w @ x + b
    f = cr.maximum(alpha * g, g)
    loss = 0.5 * ((f - y) ** 2).sum()
    loss.backward()
    check(g, answer["g"], "g")
    check(loss, answer["L"], "L")
    check(b.grad, answer["dL_db"], "dL/db")
    check(w.grad, answer["dL_dWk"], "dL/dW_k")
    check(w.grad, np.outer(b.grad, x.data), "dL/dW_k = (dL/dh) xᵀ")


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_zero_init_tanh_no_learning(worked_examples, activation):
    ex = worked_examples["zero_init_tanh_no_learning"]
    check, answer = _close(ex), ex["correct_answer"]
    x = _f64(ex["inputs"]["X_rows"])  # (2 samples, 4)
    y = _f64(ex["inputs"]["y"])
    w1 = cr.zeros(3, 4, dtype=np.float64, requires_grad=True)
    w2 = cr.zeros(1, 3, dtype=np.float64, requires_grad=True)
    hidden = getattr(w1 @ x.T, activation)()  # (3, 2)
    out = (w2 @ hidden).reshape(-1)  # (2,)
    loss = 0.5 * ((out - y) ** 2).mean()  # the answer's MSE: (1/2N) Σ (out - y)²
    loss.backward()
    check(w1.grad, answer[f"dL_dW1_{activation}"], f"dL/dW1 ({activation})")
    check(w2.grad, answer[f"dL_dW2_{activation}"], f"dL/dW2 ({activation})")
    if activation == "tanh":
        assert answer["all_zero_tanh"] and not w1.grad.any() and not w2.grad.any()
