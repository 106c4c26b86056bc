"""Course problems answered with chainrule.nn modules (parameter counts, layer shapes,
and the layer-level backprop problems built from nn.Linear / nn.BatchNorm1d)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.nn import init


def _close(actual, expected, tolerance):
    np.testing.assert_allclose(
        actual, np.asarray(expected, dtype=np.float64),
        rtol=tolerance.get("rtol", 1e-7), atol=tolerance.get("atol", 0),
    )


def _mlp(sizes, bias=True, head=None):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, bias=bias))
        layers.append(nn.ReLU() if i < len(sizes) - 2 else head)
    return nn.Sequential(*layers)


def _weights_only(model):
    return sum(p.numel() for name, p in model.named_parameters() if name.endswith("weight"))


def test_mlp_params_100_100_20_1(worked_examples):
    example = worked_examples["mlp_params_100_100_20_1"]
    sizes, answer = example["inputs"]["layers"], example["correct_answer"]
    model = _mlp(sizes, head=nn.Sigmoid())
    summary = nn.summary(model, (sizes[0],))
    assert summary.total_params == summary.trainable_params == answer["with_biases"]
    assert _weights_only(model) == answer["weights_only"]
    no_bias = _mlp(sizes, bias=False, head=nn.Sigmoid())
    assert nn.summary(no_bias, (sizes[0],)).total_params == answer["weights_only"]
    # the notes' variant: a 2-unit softmax output layer
    softmax_sizes = [*sizes[:-1], 2]
    variant = _mlp(softmax_sizes, head=nn.Softmax(dim=1))
    assert _weights_only(variant) == 12040
    assert nn.summary(variant, (sizes[0],)).total_params == 12162
    assert nn.summary(_mlp(softmax_sizes, bias=False, head=nn.Softmax(dim=1)),
                      (sizes[0],)).total_params == 12040


def test_softmax_output_layer_shapes(worked_examples):
    example = worked_examples["softmax_output_layer_shapes"]
    da, k = example["inputs"]["Da"], example["inputs"]["K"]
    answer = example["correct_answer"]
    layer = nn.Linear(da, k)
    assert list(layer.weight.shape) == answer["W2_shape"]
    # the course's column vector b2 (K, 1) is PyTorch's bias of shape (K,)
    assert layer.bias.shape == (answer["b2_shape"][0],)
    assert sum(p.numel() for p in layer.parameters()) == answer["params"]
    probs = nn.Sequential(layer, nn.Softmax(dim=1))(cr.randn(4, da))
    assert probs.shape == (4, k)
    np.testing.assert_allclose(probs.data.sum(axis=1), 1, rtol=1e-6)


def test_leaky_max_layer_backprop_with_modules(worked_examples):
    example = worked_examples["leaky_max_layer_backprop"]
    inputs, answer, tol = example["inputs"], example["correct_answer"], example["tolerance"]
    layer = nn.Linear(4, 3, dtype=cr.float64)
    layer.load_state_dict({"weight": np.array(inputs["W_k"]), "bias": np.array(inputs["b"])})
    x = cr.tensor([inputs["x"]], dtype=cr.float64)
    g = layer(x)
    f = nn.LeakyReLU(inputs["alpha"])(g)
    loss = 0.5 * nn.MSELoss(reduction="sum")(f, cr.tensor([inputs["y"]], dtype=cr.float64))
    loss.backward()
    _close(g.data[0], answer["g"], tol)
    _close(loss.item(), answer["L"], tol)
    _close(layer.bias.grad, answer["dL_db"], tol)
    _close(layer.weight.grad, answer["dL_dWk"], tol)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_zero_init_tanh_no_learning_with_modules(worked_examples, activation):
    example = worked_examples["zero_init_tanh_no_learning"]
    inputs, answer, tol = example["inputs"], example["correct_answer"], example["tolerance"]
    hidden = nn.Tanh() if activation == "tanh" else nn.Sigmoid()
    model = nn.Sequential(nn.Linear(4, 3, bias=False), hidden, nn.Linear(3, 1, bias=False))
    model.double()
    model.apply(lambda m: init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    x = cr.tensor(inputs["X_rows"], dtype=cr.float64)
    y = cr.tensor(inputs["y"], dtype=cr.float64).reshape(2, 1)
    (0.5 * nn.MSELoss()(model(x), y)).backward()  # the course's L = (1/2N) Σ (out - y)²
    _close(model[0].weight.grad, answer[f"dL_dW1_{activation}"], tol)
    _close(model[2].weight.grad, answer[f"dL_dW2_{activation}"], tol)


def test_batchnorm_forward_backward_running_stats_with_module(worked_examples):
    example = worked_examples["batchnorm_forward_backward_running_stats"]
    inputs, answer, tol = example["inputs"], example["correct_answer"], example["tolerance"]
    bn = nn.BatchNorm1d(3, eps=inputs["eps"], momentum=0.1, dtype=cr.float64)
    bn.load_state_dict({
        "weight": np.array(inputs["gamma"]), "bias": np.array(inputs["beta"]),
        "running_mean": np.array(inputs["running_mean0"]),
        "running_var": np.array(inputs["running_var0"]), "num_batches_tracked": np.array(0),
    })
    x = cr.tensor(inputs["X"], dtype=cr.float64, requires_grad=True)
    y = bn(x)
    (y * cr.tensor(inputs["C"], dtype=cr.float64)).sum().backward()
    _close(y.data, answer["y"], tol)
    _close(x.grad, answer["dL_dX"], tol)
    _close(bn.weight.grad, answer["dL_dgamma"], tol)
    _close(bn.bias.grad, answer["dL_dbeta"], tol)
    _close(bn.running_mean.data, answer["running_mean"], tol)
    _close(bn.running_var.data, answer["running_var_pytorch_unbiased_update"], tol)
    assert int(bn.num_batches_tracked.data) == 1
    _close(bn.eval()(cr.tensor(inputs["X"], dtype=cr.float64)).data, answer["eval_output"], tol)


def test_inverted_dropout_with_module(worked_examples):
    example = worked_examples["inverted_dropout"]
    inputs, answer, tol = example["inputs"], example["correct_answer"], example["tolerance"]
    drop = nn.Dropout(p=1 - inputs["p_keep"])
    h = cr.tensor(inputs["h"], dtype=cr.float64)
    _close(drop.eval()(h).data, answer["eval_output"], tol)
    out = drop.train()(h).data
    kept = out != 0
    _close(out[kept] / np.asarray(inputs["h"])[kept], answer["kept_scale"], tol)
    # the mean over many masks approaches the expected training output
    many = drop(cr.tensor(np.tile(inputs["h"], (20000, 1)))).data.mean(axis=0)
    np.testing.assert_allclose(many, answer["expected_train_output"], rtol=0.03)


def test_siamese_cosine_backprop_with_shared_modules(worked_examples):
    example = worked_examples["siamese_cosine_backprop"]
    inputs, answer, tol = example["inputs"], example["correct_answer"], example["tolerance"]
    branch = nn.Sequential(nn.Linear(3, 4, bias=False), nn.ReLU(), nn.Linear(4, 3, bias=False))
    branch.double().load_state_dict(
        {"0.weight": np.array(inputs["W1"]), "2.weight": np.array(inputs["W2"])}
    )
    x = cr.tensor([inputs["x"]], dtype=cr.float64)
    xhat = cr.tensor([inputs["xhat"]], dtype=cr.float64)
    loss = nn.CosineEmbeddingLoss()(branch(x), branch(xhat), cr.tensor([inputs["y"]]))
    loss.backward()
    _close(loss.item() - 1, answer["L"], tol)  # L = -s; CosineEmbeddingLoss(y=1) = 1 - s
    _close(branch[2].weight.grad, answer["dL_dW2"], tol)
    _close(branch[0].weight.grad, answer["dL_dW1"], tol)
