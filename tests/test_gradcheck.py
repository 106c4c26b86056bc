"""chainrule.check.gradcheck: finite differences against every op's backward,
and a demonstration that it catches a wrong backward."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.check import GradcheckError, gradcheck
from chainrule.function import Function
from chainrule.ops.shape import pad


def _x(rng, *shape, low=None):
    """A float64 leaf; ``low`` keeps |x| ≥ low (away from kinks at 0)."""
    data = rng.standard_normal(shape)
    if low is not None:
        data = np.sign(data) * (np.abs(data) + low)
    return cr.tensor(data, requires_grad=True)


def _pos(rng, *shape):
    return cr.tensor(rng.uniform(0.5, 2.0, shape), requires_grad=True)


# name -> (fn, builder of the inputs from a Generator)
CORE = {
    "add_broadcast": (lambda a, b: a + b, lambda r: [_x(r, 2, 3), _x(r, 3)]),
    "sub_scalar": (lambda a: 2.0 - a, lambda r: [_x(r, 2, 3)]),
    "mul_broadcast": (lambda a, b: a * b, lambda r: [_x(r, 2, 1, 3), _x(r, 4, 1)]),
    "div": (lambda a, b: a / b, lambda r: [_x(r, 2, 3), _pos(r, 2, 3)]),
    "rdiv_ndarray": (lambda a: np.array([1.0, -2.0, 3.0]) / a, lambda r: [_pos(r, 2, 3)]),
    "neg": (lambda a: -a, lambda r: [_x(r, 3)]),
    "pow_tensor_tensor": (lambda a, b: a**b, lambda r: [_pos(r, 2, 3), _x(r, 3)]),
    "pow_scalar": (lambda a: a**3, lambda r: [_x(r, 4)]),
    "rpow": (lambda b: 1.5**b, lambda r: [_x(r, 4)]),
    "exp": (lambda a: a.exp(), lambda r: [_x(r, 2, 3)]),
    "log": (lambda a: a.log(), lambda r: [_pos(r, 2, 3)]),
    "sqrt": (lambda a: a.sqrt(), lambda r: [_pos(r, 2, 3)]),
    "abs": (lambda a: a.abs(), lambda r: [_x(r, 2, 3, low=0.1)]),
    "clip": (lambda a: a.clip(-0.05, 0.05), lambda r: [_x(r, 2, 3, low=0.1)]),
    "maximum": (cr.maximum, lambda r: [_x(r, 2, 3), _x(r, 3) + 0.3]),
    "minimum": (cr.minimum, lambda r: [_x(r, 2, 3), _x(r, 3) + 0.3]),
    "where": (lambda a, b: cr.where(a.data > 0, a, b), lambda r: [_x(r, 2, 3), _x(r, 3)]),
    "clone_cast": (lambda a: a.clone().astype(np.float64), lambda r: [_x(r, 3)]),
    "sum_dim": (lambda a: a.sum(1), lambda r: [_x(r, 2, 3, 2)]),
    "sum_keepdim": (lambda a: a.sum((0, 2), keepdim=True), lambda r: [_x(r, 2, 3, 2)]),
    "mean": (lambda a: a.mean(-1), lambda r: [_x(r, 2, 3)]),
    "var": (lambda a: a.var(0), lambda r: [_x(r, 3, 2)]),
    "var_biased_all": (lambda a: a.var(correction=0), lambda r: [_x(r, 3, 2)]),
    "max_dim": (lambda a: a.max(1).values, lambda r: [_x(r, 3, 4)]),
    "min_dim_keepdim": (lambda a: a.min(0, keepdim=True)[0], lambda r: [_x(r, 3, 4)]),
    "max_all": (lambda a: a.max(), lambda r: [_x(r, 3, 4)]),
    "min_all": (lambda a: a.min(), lambda r: [_x(r, 3, 4)]),
    "std": (lambda a: a.std(1, keepdim=True), lambda r: [_x(r, 3, 4)]),
    "sign": (lambda a: a.sign() * a, lambda r: [_x(r, 5, low=0.1)]),
    "logsumexp": (lambda a: a.logsumexp(1), lambda r: [_x(r, 3, 4)]),
    "logsumexp_fn": (lambda a: cr.logsumexp(a, (0, 1)), lambda r: [_x(r, 3, 4)]),
    "reshape": (lambda a: a.reshape(3, -1) * np.arange(8.0), lambda r: [_x(r, 2, 12)]),
    "transpose": (lambda a: a.transpose(0, 2), lambda r: [_x(r, 2, 3, 4)]),
    "permute": (lambda a: a.permute(1, 2, 0), lambda r: [_x(r, 2, 3, 4)]),
    "flatten": (lambda a: a.flatten(1), lambda r: [_x(r, 2, 3, 4)]),
    "squeeze_unsqueeze": (lambda a: a.squeeze(1).unsqueeze(0), lambda r: [_x(r, 2, 1, 3)]),
    "expand": (lambda a: a.expand(4, 2, 3), lambda r: [_x(r, 1, 3)]),
    "T": (lambda a: a.T, lambda r: [_x(r, 2, 3)]),
    "getitem_basic": (lambda a: a[1:, None, ::2], lambda r: [_x(r, 3, 4)]),
    "getitem_repeated": (lambda a: a[[0, 2, 0], 1:], lambda r: [_x(r, 3, 4)]),
    "getitem_mask": (lambda a: a[np.array([True, False, True])], lambda r: [_x(r, 3, 4)]),
    "cat": (lambda a, b: cr.cat([a, b, a], 1), lambda r: [_x(r, 2, 3), _x(r, 2, 1)]),
    "stack": (lambda a, b: cr.stack([a, b], -1), lambda r: [_x(r, 2, 3), _x(r, 2, 3)]),
    "pad": (lambda a: pad(a, (1, 2, 0, 1), value=0.5), lambda r: [_x(r, 2, 3)]),
    "matmul": (lambda a, b: a @ b, lambda r: [_x(r, 2, 3), _x(r, 3, 4)]),
    "matmul_batched": (lambda a, b: a @ b, lambda r: [_x(r, 2, 2, 3), _x(r, 3, 2)]),
    "matmul_vectors": (lambda a, b: a @ b, lambda r: [_x(r, 3), _x(r, 3)]),
    "linear": (F.linear, lambda r: [_x(r, 4, 3), _x(r, 2, 3), _x(r, 2)]),
    "relu_method": (lambda a: a.relu(), lambda r: [_x(r, 2, 3, low=0.1)]),
    "sigmoid_method": (lambda a: a.sigmoid(), lambda r: [_x(r, 2, 3)]),
    "tanh_method": (lambda a: a.tanh(), lambda r: [_x(r, 2, 3)]),
    "softmax_method": (lambda a: a.softmax(1), lambda r: [_x(r, 2, 3)]),
    "log_softmax_method": (lambda a: a.log_softmax(0), lambda r: [_x(r, 2, 3)]),
}


@pytest.mark.parametrize("name", sorted(CORE))
def test_gradcheck_passes_on_core_ops(name):
    fn, build = CORE[name]
    assert gradcheck(fn, build(np.random.default_rng(0))) is True


def _labels(*shape, classes=3, seed=1):
    return cr.tensor(np.random.default_rng(seed).integers(0, classes, shape))


def _probs(rng, *shape):
    return cr.tensor(rng.uniform(0.1, 0.9, shape), requires_grad=True)


def _dropout(a):
    return F.dropout(a, p=0.3, training=True, generator=np.random.default_rng(5))


def _distinct(rng, *shape):
    """A float64 leaf of values 0.1 apart in random order: no max-pool ties within eps."""
    data = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1
    return cr.tensor(data, dtype=np.float64, requires_grad=True)


def _batch_norm(a, w, b):
    stats = np.zeros(3), np.ones(3)
    return F.batch_norm(a, *stats, weight=w, bias=b, training=True)


# name -> (attribute of F the call needs, fn, inputs builder)
FUNCTIONAL = {
    "relu": ("relu", lambda a: F.relu(a), lambda r: [_x(r, 2, 3, low=0.1)]),
    "leaky_relu": ("leaky_relu", lambda a: F.leaky_relu(a, 0.2), lambda r: [_x(r, 6, low=0.1)]),
    "prelu": ("prelu", lambda a, w: F.prelu(a, w),
              lambda r: [_x(r, 2, 3, 2, low=0.1), _pos(r, 3)]),
    "elu": ("elu", lambda a: F.elu(a, alpha=0.7), lambda r: [_x(r, 2, 3, low=0.1)]),
    "gelu": ("gelu", lambda a: F.gelu(a), lambda r: [_x(r, 2, 3)]),
    "gelu_tanh": ("gelu", lambda a: F.gelu(a, approximate="tanh"), lambda r: [_x(r, 2, 3)]),
    "sigmoid": ("sigmoid", lambda a: F.sigmoid(a), lambda r: [_x(r, 2, 3)]),
    "tanh": ("tanh", lambda a: F.tanh(a), lambda r: [_x(r, 2, 3)]),
    "softplus": ("softplus", lambda a: F.softplus(a, beta=2.0), lambda r: [_x(r, 2, 3)]),
    "softmax": ("softmax", lambda a: F.softmax(a, dim=-1), lambda r: [_x(r, 2, 3)]),
    "log_softmax": ("log_softmax", lambda a: F.log_softmax(a, dim=0), lambda r: [_x(r, 2, 3)]),
    "mse_loss": ("mse_loss", F.mse_loss if hasattr(F, "mse_loss") else None,
                 lambda r: [_x(r, 2, 3), _x(r, 2, 3)]),
    "mse_loss_sum": ("mse_loss", lambda a, b: F.mse_loss(a, b, reduction="sum"),
                     lambda r: [_x(r, 4), cr.tensor(r.standard_normal(4))]),
    "l1_loss": ("l1_loss", lambda a, b: F.l1_loss(a, b.detach() + 0.5),
                lambda r: [_x(r, 2, 3, low=0.6), cr.zeros(2, 3, dtype=np.float64)]),
    "binary_cross_entropy": ("binary_cross_entropy", lambda p, t: F.binary_cross_entropy(p, t),
                             lambda r: [_probs(r, 4), _probs(r, 4)]),
    "bce_with_logits": ("binary_cross_entropy_with_logits",
                        lambda z, t: F.binary_cross_entropy_with_logits(z, t),
                        lambda r: [_x(r, 2, 3), _probs(r, 2, 3)]),
    "cross_entropy": ("cross_entropy", lambda z: F.cross_entropy(z, _labels(4)),
                      lambda r: [_x(r, 4, 3)]),
    "cross_entropy_smoothed": ("cross_entropy",
                               lambda z: F.cross_entropy(z, _labels(4), label_smoothing=0.1),
                               lambda r: [_x(r, 4, 3)]),
    "cross_entropy_probs": ("cross_entropy", lambda z, q: F.cross_entropy(z, q.softmax(1)),
                            lambda r: [_x(r, 4, 3), _x(r, 4, 3)]),
    "cross_entropy_2d": ("cross_entropy", lambda z: F.cross_entropy(z, _labels(2, 2, 2)),
                         lambda r: [_x(r, 2, 3, 2, 2)]),
    "nll_loss": ("nll_loss", lambda z: F.nll_loss(z.log_softmax(1), _labels(4)),
                 lambda r: [_x(r, 4, 3)]),
    "kl_div": ("kl_div", lambda a, b: F.kl_div(a.log_softmax(1), b.softmax(1),
                                               reduction="batchmean"),
               lambda r: [_x(r, 3, 4), _x(r, 3, 4)]),
    "normalize": ("normalize", lambda a: F.normalize(a, dim=1), lambda r: [_x(r, 3, 4)]),
    "normalize_p3": ("normalize", lambda a: F.normalize(a, p=3, dim=0),
                     lambda r: [_x(r, 3, 4)]),
    "cosine_similarity": ("cosine_similarity", lambda a, b: F.cosine_similarity(a, b),
                          lambda r: [_x(r, 3, 4), _x(r, 3, 4)]),
    "cosine_embedding_loss": ("cosine_embedding_loss",
                              lambda a, b: F.cosine_embedding_loss(
                                  a, b, cr.tensor([1.0, -1.0, 1.0], dtype=np.float64),
                                  margin=-1.0),
                              lambda r: [_x(r, 3, 4), _x(r, 3, 4)]),
    "cosine_similarity_loss": ("cosine_similarity_loss",
                               lambda a, b: F.cosine_similarity_loss(
                                   a, b, cr.tensor([1.0, -1.0, 1.0], dtype=np.float64)),
                               lambda r: [_x(r, 3, 4), _x(r, 3, 4)]),
    "contrastive_loss": ("contrastive_loss",
                         lambda a, b: F.contrastive_loss(
                             a, b, cr.tensor([1.0, -1.0, -1.0], dtype=np.float64), margin=3.0),
                         lambda r: [_x(r, 3, 4), _x(r, 3, 4)]),
    "pairwise_distance": ("pairwise_distance", lambda a, b: F.pairwise_distance(a, b),
                          lambda r: [_x(r, 3, 4), _x(r, 3, 4)]),
    "dropout": ("dropout", _dropout, lambda r: [_x(r, 4, 5)]),
    "conv1d": ("conv1d", lambda a, w, b: F.conv1d(a, w, b, stride=2, padding=1),
               lambda r: [_x(r, 2, 2, 5), _x(r, 3, 2, 3), _x(r, 3)]),
    "conv2d": ("conv2d", lambda a, w, b: F.conv2d(a, w, b, padding="same", groups=2),
               lambda r: [_x(r, 1, 4, 4, 3), _x(r, 2, 2, 2, 3), _x(r, 2)]),
    "conv_transpose1d": ("conv_transpose1d",
                         lambda a, w: F.conv_transpose1d(a, w, stride=2, output_padding=1),
                         lambda r: [_x(r, 2, 2, 3), _x(r, 2, 3, 2)]),
    "conv_transpose2d": ("conv_transpose2d",
                         lambda a, w, b: F.conv_transpose2d(a, w, b, stride=2, padding=1),
                         lambda r: [_x(r, 1, 2, 3, 2), _x(r, 2, 2, 3, 3), _x(r, 2)]),
    "dropout2d": ("dropout2d",
                  lambda a: F.dropout2d(a, p=0.3, generator=np.random.default_rng(5)),
                  lambda r: [_x(r, 4, 5, 2, 2)]),
    "max_pool2d": ("max_pool2d", lambda a: F.max_pool2d(a, 3, 2, 1, 2, True),
                   lambda r: [_distinct(r, 2, 3, 5, 6)]),
    "max_pool1d": ("max_pool1d", lambda a: F.max_pool1d(a, 3, 2, 1),
                   lambda r: [_distinct(r, 2, 3, 7)]),
    "avg_pool2d": ("avg_pool2d", lambda a: F.avg_pool2d(a, 3, 2, 1, True, False),
                   lambda r: [_x(r, 2, 3, 5, 6)]),
    "avg_pool1d": ("avg_pool1d", lambda a: F.avg_pool1d(a, 2, 1), lambda r: [_x(r, 2, 3, 7)]),
    "adaptive_avg_pool2d": ("adaptive_avg_pool2d", lambda a: F.adaptive_avg_pool2d(a, (3, 2)),
                            lambda r: [_x(r, 2, 3, 5, 7)]),
    "adaptive_avg_pool1d": ("adaptive_avg_pool1d", lambda a: F.adaptive_avg_pool1d(a, 3),
                            lambda r: [_x(r, 2, 3, 7)]),
    "batch_norm": ("batch_norm", _batch_norm,
                   lambda r: [_x(r, 4, 3, 2), _pos(r, 3), _x(r, 3)]),
    "layer_norm": ("layer_norm", lambda a, w, b: F.layer_norm(a, (3, 2), w, b),
                   lambda r: [_x(r, 2, 3, 2), _pos(r, 3, 2), _x(r, 3, 2)]),
}


def test_every_differentiable_functional_is_gradchecked():
    core = {"pad", "linear"}  # checked with the core ops above
    assert set(F.__all__) - core <= {attribute for attribute, _, _ in FUNCTIONAL.values()}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_gradcheck_passes_on_functional(name):
    _, fn, build = FUNCTIONAL[name]
    assert gradcheck(fn, build(np.random.default_rng(0))) is True


class CubeWithWrongBackward(Function):
    """y = x³ with the derivative mistaken as 2x² (should be 3x²)."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x**3

    @staticmethod
    def backward(ctx, grad):
        return grad * 2 * ctx.x**2


def test_gradcheck_fails_on_a_wrong_backward_and_says_where():
    x = cr.tensor([[0.5, -1.0], [2.0, 1.5]], requires_grad=True, dtype=np.float64)
    y = cr.tensor([1.0, 2.0], requires_grad=True, dtype=np.float64)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a * b + CubeWithWrongBackward.apply(a), [x, y])
    message = str(info.value)
    # worst element: x = 2.0 at (1, 0) — numerical 3·4 + 1 = 13, analytic 2·4 + 1 = 9
    assert "input 0" in message and "input element (1, 0)" in message
    assert "numerical 13" in message and "analytic 9" in message
    assert "relative error 0.308" in message
    assert isinstance(info.value, AssertionError)
    print(message)  # shown with pytest -s: what a user sees


def test_gradcheck_catches_a_backward_right_only_for_uniform_upstream():
    class SoftmaxWithoutJacobian(Function):
        @staticmethod
        def forward(ctx, x):
            e = np.exp(x - x.max())
            return e / e.sum()

        @staticmethod
        def backward(ctx, grad):
            return np.zeros_like(grad)  # right for out.sum(), wrong otherwise

    x = cr.tensor(np.array([0.1, 0.5, -0.3]), requires_grad=True)
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(SoftmaxWithoutJacobian.apply, [x])


def test_gradcheck_refuses_float32_inputs():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="input 0 has dtype float32.*float64"):
        gradcheck(lambda a: a * 2, [x])


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda a: a * 2, [cr.tensor(np.ones(2))])


def test_gradcheck_leaves_inputs_and_their_grads_untouched(rng):
    x = cr.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    before = x.data.copy()
    x.grad = np.full((2, 3), 7.0)
    assert gradcheck(lambda a, k: (a * k).softmax(1), [x, 2])  # non-tensor args pass through
    np.testing.assert_array_equal(x.data, before)
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 7.0))


def test_gradcheck_handles_tuple_outputs_and_unused_inputs(rng):
    x, u = cr.tensor(rng.standard_normal(4), requires_grad=True), _x(rng, 2)
    assert gradcheck(lambda a, _: (a.exp(), a * 3), [x, u])
