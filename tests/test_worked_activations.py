"""Course problems on activations, dropout and batch norm, answered with chainrule's API."""

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F


def t64(values, requires_grad=False):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def check(got, expected, tol):
    np.testing.assert_allclose(got, expected, rtol=tol["rtol"], atol=tol["atol"])


def value_and_derivative(fn, x):
    """f(x) and f'(x) for an elementwise f, by back-propagating ones."""
    x = t64(x, requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.data, x.grad


def test_leaky_relu_0p1_derivative(worked_examples):
    ex = worked_examples["leaky_relu_0p1_derivative"]
    f, df = value_and_derivative(lambda x: F.leaky_relu(x, 0.1), ex["inputs"]["x"])
    check(f, ex["correct_answer"]["f"], ex["tolerance"])
    check(df, ex["correct_answer"]["df_dx"], ex["tolerance"])


def test_scaled_softplus_derivative(worked_examples):
    ex = worked_examples["scaled_softplus_derivative"]
    ans, tol = ex["correct_answer"], ex["tolerance"]
    f, df = value_and_derivative(lambda x: 3 * F.softplus(x, beta=3), ex["inputs"]["x"])
    check(f, ans["f"], tol)
    check(df, ans["df_dx"], tol)
    # f' = 3σ(3x): its limits, read at points far out in each tail
    _, tails = value_and_derivative(lambda x: 3 * F.softplus(x, beta=3), [1e4, -1e4])
    check(tails, [ans["limit_plus_inf"], ans["limit_minus_inf"]], tol)


def test_ln_exp_linear_activation(worked_examples):
    ex = worked_examples["ln_exp_linear_activation"]
    ans, tol = ex["correct_answer"], ex["tolerance"]
    f, df = value_and_derivative(lambda x: (3 * x + 1).exp().log(), ex["inputs"]["x"])
    check(f, ans["f"], tol)
    check(df, ans["df_dx"], tol)
    # f(x) = 3x + 1: linear, so a constant derivative that never vanishes (and adds no
    # non-linearity to a network: not a useful activation)
    check(f, 3 * np.asarray(ex["inputs"]["x"]) + 1, tol)
    assert np.all(df == df[0]) and df[0] != 0
    assert ans["suitable_activation"] is False and ans["prone_to_vanishing_gradient"] is False


def test_activation_derivative_table(worked_examples):
    ex = worked_examples["activation_derivative_table"]
    fns = {
        "tanh": F.tanh,
        "sigmoid": F.sigmoid,
        "gelu": F.gelu,
        "relu": F.relu,
        "leaky_relu_0.01": F.leaky_relu,
        "sign_step": lambda x: x.sign(),
        "cube": lambda x: x**3,
    }
    assert len(ex["correct_answer"]) == 13
    for key, expected in ex["correct_answer"].items():
        name, point = key.split("'(")
        _, derivative = value_and_derivative(fns[name], [float(point.rstrip(")"))])
        check(derivative, [expected], ex["tolerance"])


def test_prelu_elu_elementwise_derivatives(worked_examples):
    ex = worked_examples["prelu_elu_elementwise_derivatives"]
    inputs, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    x = t64(inputs["x"], requires_grad=True)
    a = t64([inputs["prelu_a"]], requires_grad=True)
    y = F.prelu(x, a)
    y.sum().backward()
    check(y.data, ans["prelu"], tol)
    check(x.grad, ans["prelu_dx"], tol)
    check(a.grad, [ans["prelu_da"]], tol)
    for alpha, key in zip(inputs["elu_alphas"], ["elu_a1", "elu_a05"]):
        f, df = value_and_derivative(lambda t, alpha=alpha: F.elu(t, alpha=alpha), inputs["x"])
        check(f, ans[key], tol)
        check(df, ans[key + "_dx"], tol)


def test_inverted_dropout(worked_examples):
    ex = worked_examples["inverted_dropout"]
    inputs, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    h, mask, p_keep = t64(inputs["h"]), t64(inputs["mask"]), inputs["p_keep"]
    p = 1 - p_keep  # F.dropout's p is the probability to DROP
    check((h * mask / p_keep).data, ans["train_output"], tol)
    assert F.dropout(h, p, training=False) is h
    check(F.dropout(h, p, training=False).data, ans["eval_output"], tol)
    # F.dropout in training multiplies by a mask of its own and scales by 1/(1 - p)
    y = F.dropout(h, p, generator=np.random.default_rng(0)).data
    own_mask = (y != 0).astype(np.float64)
    check(y, h.data * own_mask / (1 - p), tol)
    check(y[own_mask == 1] / h.data[own_mask == 1], ans["kept_scale"], tol)
    # a generator state that draws the course's mask gives exactly the course's output
    seed = next(
        s for s in range(2000)
        if np.array_equal(F.dropout(cr.ones(5, dtype=np.float64), p,
                                    generator=np.random.default_rng(s)).data != 0,
                          mask.data == 1)
    )
    check(F.dropout(h, p, generator=np.random.default_rng(seed)).data, ans["train_output"], tol)
    # E[output] = h: each unit is kept with probability 1 - p and then scaled by 1/(1 - p)
    check(h.data * (1 - p) * ans["kept_scale"], ans["expected_train_output"], tol)
    many = F.dropout(cr.tensor(np.tile(h.data, (20000, 1))), p, generator=np.random.default_rng(1))
    np.testing.assert_allclose(many.data.mean(0), ans["expected_train_output"], rtol=0.03)


def test_batchnorm_forward_backward_running_stats(worked_examples):
    ex = worked_examples["batchnorm_forward_backward_running_stats"]
    inputs, ans, tol = ex["inputs"], ex["correct_answer"], ex["tolerance"]
    eps = inputs["eps"]
    X = t64(inputs["X"], requires_grad=True)
    gamma = t64(inputs["gamma"], requires_grad=True)
    beta = t64(inputs["beta"], requires_grad=True)
    C = t64(inputs["C"])

    check(X.mean(0).data, ans["mu"], tol)
    check(X.var(0, correction=0).data, ans["var_biased"], tol)
    xhat = F.batch_norm(X.detach(), None, None, training=True, eps=eps)
    check(xhat.data, ans["xhat"], tol)
    check(xhat.mean(0).data, ans["xhat_mean"], tol)
    check(xhat.var(0, correction=0).data, ans["xhat_var"], tol)

    running_mean = t64(inputs["running_mean0"])
    running_var = t64(inputs["running_var0"])
    y = F.batch_norm(X, running_mean, running_var, gamma, beta, training=True,
                     momentum=0.1, eps=eps)
    check(y.data, ans["y"], tol)
    (y * C).sum().backward()
    check(X.grad, ans["dL_dX"], tol)
    check(gamma.grad, ans["dL_dgamma"], tol)
    check(beta.grad, ans["dL_dbeta"], tol)

    check(running_mean.data, ans["running_mean"], tol)
    check(running_var.data, ans["running_var_pytorch_unbiased_update"], tol)
    # the course's variant keeps 0.9 of the old value and adds 0.1 of the BIASED variance
    course_var = 0.9 * t64(inputs["running_var0"]) + 0.1 * X.detach().var(0, correction=0)
    check(course_var.data, ans["running_var_biased_update"], tol)

    y_eval = F.batch_norm(X.detach(), running_mean, running_var, gamma.detach(),
                          beta.detach(), training=False, eps=eps)
    check(y_eval.data, ans["eval_output"], tol)
    check(running_mean.data, ans["running_mean"], tol)  # evaluation leaves them alone

