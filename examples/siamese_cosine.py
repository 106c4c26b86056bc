"""A shared-weight (Siamese) network trained with a cosine loss.

Two inputs pass through the SAME two-layer network; the loss is
L = -y cos(z, ẑ) (y = +1 for a genuine pair). Because the weights are shared,
each weight's gradient is the sum of its two uses — the engine adds them.
The numbers are those of a course problem, so the printout can be checked by hand.
"""

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F

W1 = cr.tensor([[0.5, -0.2, 0.3], [-0.4, 0.8, 0.1], [0.2, 0.3, -0.6], [0.7, -0.5, 0.4]],
               requires_grad=True, dtype=np.float64)
W2 = cr.tensor([[0.3, -0.6, 0.2, 0.5], [-0.1, 0.4, 0.7, -0.3], [0.6, 0.2, -0.4, 0.1]],
               requires_grad=True, dtype=np.float64)
x = cr.tensor([1.0, -0.5, 2.0], dtype=np.float64)
x_hat = cr.tensor([0.3, 1.2, -0.8], dtype=np.float64)


def tower(v: cr.Tensor) -> cr.Tensor:
    return W2 @ (W1 @ v).relu()


z, z_hat = tower(x), tower(x_hat)
loss = -1.0 * F.cosine_similarity(z, z_hat, dim=0)
loss.backward()
np.set_printoptions(precision=6, suppress=True)
print(f"L = {loss.item():.9f}")
print("dL/dW2 =\n", W2.grad.numpy())
print("dL/dW1 =\n", W1.grad.numpy())
