"""A student's hand-derived backprop, checked and diagnosed.

The network is the shared-weight (Siamese) one of a course problem:
m = W1 x, n = W1 x̂, z = W2 relu(m), ẑ = W2 relu(n), L = -cos(z, ẑ).
The student's first attempt at dL/dW1 forgets that W1 is used twice (by both
towers), and writes dL/dW2 as h δᵀ instead of δ hᵀ; the checker names both slips,
`explain` shows the two paths through W1 (CosineSimilarity[0] is the z tower,
[1] the ẑ tower), and the corrected derivation passes.
"""

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.check import derivation, explain

x = np.array([1.0, -0.5, 2.0])
x_hat = np.array([0.3, 1.2, -0.8])
inputs = {
    "W1": np.array([[0.5, -0.2, 0.3], [-0.4, 0.8, 0.1], [0.2, 0.3, -0.6], [0.7, -0.5, 0.4]]),
    "W2": np.array([[0.3, -0.6, 0.2, 0.5], [-0.1, 0.4, 0.7, -0.3], [0.6, 0.2, -0.4, 0.1]]),
}


def forward(W1, W2):
    z, z_hat = W2 @ (W1 @ x).relu(), W2 @ (W1 @ x_hat).relu()
    return -F.cosine_similarity(z, z_hat, dim=0)


def backprop(W1, W2):
    """The deltas of the course's derivation: δ_z, δ_ẑ, δ_m, δ_n and the hidden layers."""
    m, n = W1 @ x, W1 @ x_hat
    h, h_hat = np.maximum(m, 0), np.maximum(n, 0)
    z, z_hat = W2 @ h, W2 @ h_hat
    norm, norm_hat = np.linalg.norm(z), np.linalg.norm(z_hat)
    s = z @ z_hat / (norm * norm_hat)
    d_z = -(z_hat / (norm * norm_hat) - s * z / norm**2)
    d_z_hat = -(z / (norm * norm_hat) - s * z_hat / norm_hat**2)
    return d_z, d_z_hat, (m > 0) * (W2.T @ d_z), (n > 0) * (W2.T @ d_z_hat), h, h_hat


def first_attempt(W1, W2):
    d_z, d_z_hat, d_m, d_n, h, h_hat = backprop(W1, W2)
    dW1 = np.outer(d_m, x)                                   # the x̂ tower forgotten
    dW2 = np.outer(h, d_z) + np.outer(h_hat, d_z_hat)        # h δᵀ instead of δ hᵀ
    return dW1, dW2


def corrected(W1, W2):
    d_z, d_z_hat, d_m, d_n, h, h_hat = backprop(W1, W2)
    return (np.outer(d_m, x) + np.outer(d_n, x_hat),
            np.outer(d_z, h) + np.outer(d_z_hat, h_hat))


print("first attempt")
print(derivation(forward, first_attempt, inputs))

print("\nwhere W1's gradient comes from")
W1 = cr.tensor(inputs["W1"], requires_grad=True)
W2 = cr.tensor(inputs["W2"], requires_grad=True)
print(explain(forward(W1, W2), W1, output_name="L", wrt_name="W1"))

print("\ncorrected")
report = derivation(forward, corrected, inputs)
print(report)
print("ok:", report.ok)
