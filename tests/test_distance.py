"""chainrule.ops.distance against torch (float64, random upstream); cosine similarity,
pairwise distance and the cosine embedding loss are also covered in test_loss.py."""

import pytest
import torch
from torch_compare import assert_matches_torch

import chainrule as cr
from chainrule.ops.distance import cdist


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, 0.5, float("inf")])
@pytest.mark.parametrize("shapes", [((4, 3), (5, 3)), ((2, 4, 3), (5, 3)),
                                    ((2, 1, 4, 3), (3, 5, 3))])
def test_cdist_matches_torch(rng, p, shapes):
    a, b = (rng.standard_normal(s) for s in shapes)
    assert_matches_torch(lambda x, y: cdist(x, y, p), lambda x, y: torch.cdist(x, y, p), a, b)


def test_cdist_gradient_is_zero_at_zero_distance_like_torch(rng):
    a = rng.standard_normal((3, 2))
    assert_matches_torch(lambda x, y: cdist(x, y), lambda x, y: torch.cdist(x, y), a, a.copy())


def test_cdist_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"cdist: .* same M, got shapes \(2, 3\) and \(2, 4\)"):
        cdist(cr.ones(2, 3), cr.ones(2, 4))
    with pytest.raises(ValueError, match=r"cdist: batch dimensions of shapes \(2, 1, 3\)"):
        cdist(cr.ones(2, 1, 3), cr.ones(3, 1, 3))
