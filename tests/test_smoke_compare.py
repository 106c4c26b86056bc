import numpy as np
from torch_compare import assert_matches_torch


def test_compare_helper_on_broadcast_mul(rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    assert_matches_torch(lambda x, y: x * y + y, lambda x, y: x * y + y, a, b)


def test_compare_helper_on_matmul_relu_logsoftmax(rng):
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    assert_matches_torch(
        lambda x, w: (x @ w).relu().log_softmax(1),
        lambda x, w: (x @ w).relu().log_softmax(1),
        a,
        b,
    )
    assert np.isfinite(a).all()
