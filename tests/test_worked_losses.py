"""Course problems on losses (../shared/worked_examples.json), answered with chainrule's API."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F


def f64(values, requires_grad=False):
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def close(actual, expected, example):
    tol = example["tolerance"]
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected,
                               rtol=tol["rtol"], atol=tol["atol"])


def test_bce_single_y0_p09(worked_examples):
    ex = worked_examples["bce_single_y0_p09"]
    loss = F.binary_cross_entropy(f64([ex["inputs"]["p"]]), f64([ex["inputs"]["y"]]))
    assert loss.dtype == np.float64
    close(loss.item(), ex["correct_answer"]["loss"], ex)


def test_bce_mean_three_samples(worked_examples):
    ex = worked_examples["bce_mean_three_samples"]
    p, y = f64(ex["inputs"]["p"]), f64(ex["inputs"]["y"])
    close(F.binary_cross_entropy(p, y).item(), ex["correct_answer"]["mean_loss"], ex)
    close(F.binary_cross_entropy(p, y, reduction="none").data,
          ex["correct_answer"]["per_sample"], ex)


def test_cross_entropy_true_class_prob(worked_examples):
    ex = worked_examples["cross_entropy_true_class_prob"]
    inputs, answer = ex["inputs"], ex["correct_answer"]
    target = cr.tensor([inputs["true_class"]])
    losses, losses_log2 = {}, {}
    for key in ("a", "b"):
        log_p = f64([inputs["p" + key]]).log()  # one sample: shape (1, C)
        losses[key] = F.nll_loss(log_p, target).item()
        losses_log2[key] = F.nll_loss(log_p / math.log(2), target).item()
        close(losses[key], answer["loss_" + key], ex)
        close(losses_log2[key], answer["log2_variant"]["loss_" + key], ex)
    assert (losses["a"] > losses["b"]) == answer["loss_a_gt_loss_b"]


@pytest.mark.parametrize("case", ["onehot", "soft"])
def test_softmax_cross_entropy_gradient(worked_examples, case):
    ex = worked_examples["softmax_cross_entropy_gradient"]
    z = f64([ex["inputs"]["z"]], requires_grad=True)  # one sample: shape (1, 3)
    y = f64([ex["inputs"]["y_" + case]])  # a float target: class probabilities
    loss = F.cross_entropy(z, y)
    loss.backward()
    close(loss.item(), ex["correct_answer"]["loss_" + case], ex)
    close(z.grad[0], ex["correct_answer"]["grad_" + case], ex)
    # the general result dL/dz = softmax(z) - y
    close(z.grad, F.softmax(z.detach(), 1).data - y.data, ex)


def test_weighted_bce_class_weights(worked_examples, rng):
    ex = worked_examples["weighted_bce_class_weights"]
    n0, n1 = ex["inputs"]["N_y0"], ex["inputs"]["N_y1"]
    answer = ex["correct_answer"]
    # equal total weight alpha·N1 = beta·N0 with beta = 1: alpha = N0 / N1
    beta = answer["example"]["beta"]
    alpha = beta * n0 // n1
    assert alpha / beta == answer["alpha_over_beta"]
    assert (alpha, beta) == (answer["example"]["alpha"], answer["example"]["beta"])
    assert alpha * n1 == answer["total_weight_y1"] and beta * n0 == answer["total_weight_y0"]

    # BCEWithLogits(pos_weight = alpha/beta) is the hand-weighted loss (up to the factor beta)
    z = cr.tensor(rng.standard_normal(8), requires_grad=True)
    y = f64([1, 0, 0, 1, 0, 0, 0, 1])
    fused = F.binary_cross_entropy_with_logits(z, y, pos_weight=f64([alpha / beta]))
    fused.backward()
    fused_grad, z.grad = z.grad, None
    p = F.sigmoid(z)
    by_hand = (-(alpha * y * p.log() + beta * (1 - y) * (1 - p).log())).mean()
    by_hand.backward()
    np.testing.assert_allclose(fused.item(), by_hand.item() / beta, rtol=1e-12)
    np.testing.assert_allclose(fused_grad, z.grad / beta, rtol=1e-12)


def test_cosine_similarity_loss_values(worked_examples):
    ex = worked_examples["cosine_similarity_loss_values"]
    inputs, answer = ex["inputs"], ex["correct_answer"]
    y = inputs["y"]

    def loss(z, z_hat):
        return (-y * F.cosine_similarity(f64(z), f64(z_hat), dim=0)).item()

    for key in ("aligned", "orthogonal", "opposite"):
        close(loss(inputs["z"], inputs["zhat_" + key]), answer[key], ex)
    close(loss(inputs["z_45"], inputs["zhat_45"]), answer["at_45_degrees"], ex)


@pytest.mark.parametrize("y,key", [(1, "y_plus1"), (-1, "y_minus1")])
def test_cosine_similarity_gradient(worked_examples, y, key):
    ex = worked_examples["cosine_similarity_gradient"]
    answer = ex["correct_answer"]
    z = f64(ex["inputs"]["z"], requires_grad=True)
    z_hat = f64(ex["inputs"]["zhat"], requires_grad=True)
    s = F.cosine_similarity(z, z_hat, dim=0)
    loss = -y * s
    loss.backward()
    close(s.item(), answer["s"], ex)
    close(loss.item(), answer[key]["L"], ex)
    close(z.grad, answer[key]["dL_dz"], ex)
    close(z_hat.grad, answer[key]["dL_dzhat"], ex)


def test_siamese_cosine_backprop(worked_examples):
    ex = worked_examples["siamese_cosine_backprop"]
    inputs, answer = ex["inputs"], ex["correct_answer"]
    x, x_hat, y = f64(inputs["x"]), f64(inputs["xhat"]), inputs["y"]
    W1, W2 = f64(inputs["W1"], requires_grad=True), f64(inputs["W2"], requires_grad=True)

    def head(m, n, W2):
        """m, n -> L: ReLU, the shared W2, cosine loss."""
        return -y * F.cosine_similarity(W2 @ F.relu(m), W2 @ F.relu(n), dim=0)

    # the whole shared-weight network: dL/dW1 and dL/dW2 sum both branches
    m, n = W1 @ x, W1 @ x_hat
    loss = head(m, n, W2)
    loss.backward()
    close(m.data, answer["m"], ex)
    close(n.data, answer["n"], ex)
    close(loss.item(), answer["L"], ex)
    close(W1.grad, answer["dL_dW1"], ex)
    close(W2.grad, answer["dL_dW2"], ex)

    # the deltas of the intermediate layers: back-propagate from leaves put in their place
    z = (W2.detach() @ F.relu(m.detach())).requires_grad_()
    z_hat = (W2.detach() @ F.relu(n.detach())).requires_grad_()
    (-y * F.cosine_similarity(z, z_hat, dim=0)).backward()
    close(z.grad, answer["delta_z"], ex)
    close(z_hat.grad, answer["delta_zhat"], ex)

    m_leaf, n_leaf = m.detach().requires_grad_(), n.detach().requires_grad_()
    head(m_leaf, n_leaf, W2.detach()).backward()
    close(m_leaf.grad, answer["delta_m"], ex)
    close(n_leaf.grad, answer["delta_n"], ex)

    # and the outer-product formulas of the question agree with autograd
    h1, h1_hat = np.maximum(m.data, 0), np.maximum(n.data, 0)
    close(np.outer(z.grad, h1) + np.outer(z_hat.grad, h1_hat), W2.grad, ex)
    close(np.outer(m_leaf.grad, x.data) + np.outer(n_leaf.grad, x_hat.data), W1.grad, ex)
