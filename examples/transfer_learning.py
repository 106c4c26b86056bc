"""Transfer learning: reuse a CNN trained on the digits 0–4 for the digits 5–9.

Pre-train a small CNN on every image of the classes 0–4 of the bundled 8×8 digits.
The new task: the classes 5–9 (relabelled 0..4) with only 100 labelled training
images (stratified, 20 a class); every other image of 5–9 is the test set.

  fine-tune:  freeze the pre-trained body (``body.requires_grad_(False)``), put a new
              ``nn.Linear(..., 5)`` head on it and train only the head;
  random body: the same, on a frozen body that was never trained (a control);
  scratch:    the same architecture, freshly initialised, trained whole.

The optimizer skips the frozen parameters and the backward pass stops at the head, so
the body after fine-tuning is bit-identical to the pre-trained one.

Do not expect a triumph on these easy 8×8 images. Over seeds 0–7 (of the weights and
of the split) the head on the pre-trained body scored 0.933–0.955 (mean 0.943), the
head on a random body 0.876–0.955 (mean 0.924) and the whole CNN trained from scratch
0.950–0.981 (mean 0.961), ahead of fine-tuning for 6 of the 8 seeds: 20 images a
class teach it features as good as those learnt from 0–4 (seed 0, printed here, is one
of the two where fine-tuning edges ahead). A frozen body should pay off where the new
task's own data cannot teach the features, on harder images than these.
"""

import numpy as np

import chainrule as cr
from chainrule import models, nn, optim
from chainrule.data import DataLoader, TensorDataset, train_val_test_split
from chainrule.data.datasets import load_digits
from chainrule.metrics import accuracy
from chainrule.train import fit, predict

cr.manual_seed(0)
X, y = load_digits()  # (1797, 1, 8, 8) float32 in [0, 1]
X_old, y_old = X[y < 5], y[y < 5]
X_new, y_new = X[y >= 5], y[y >= 5] - 5  # relabelled 0..4
X_few, _, X_test, y_few, _, y_test = train_val_test_split(
    X_new, y_new, val_size=0, test_size=len(y_new) - 100, stratify=y_new, seed=0
)
print(f"pre-training: {len(y_old)} images of 0-4; new task: {len(y_few)} training and "
      f"{len(y_test)} test images of 5-9")


def make_cnn() -> nn.Sequential:  # conv-relu-pool ×2, Flatten, Linear(128, 5)
    return models.cnn(in_channels=1, num_classes=5, input_size=(8, 8), channels=(16, 32))


def train(model, X_train, y_train, epochs, lr) -> None:
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)
    trainable = [p for p in model.parameters() if p.requires_grad]
    fit(model, nn.CrossEntropyLoss(), optim.Adam(trainable, lr=lr), loader, epochs=epochs,
        verbose=0)


def new_head(model) -> nn.Module:
    """Freeze everything but the last layer, then replace that layer; returns the body."""
    body = model[:-1]  # a Sequential sharing the modules
    body.requires_grad_(False)
    model[-1] = nn.Linear(model[-1].in_features, 5)
    return body


pretrained = make_cnn()
train(pretrained, X_old, y_old, epochs=20, lr=1e-3)
body = new_head(pretrained)
before = {k: v.copy() for k, v in body.state_dict().items()}
train(pretrained, X_few, y_few, epochs=100, lr=1e-2)
unchanged = all(np.array_equal(v, before[k]) for k, v in body.state_dict().items())

random_body = make_cnn()
new_head(random_body)
train(random_body, X_few, y_few, epochs=100, lr=1e-2)

scratch = make_cnn()
train(scratch, X_few, y_few, epochs=100, lr=1e-2)

print(f"{'':<13}{'trained params':>15}{'test accuracy':>15}")
for name, model in [("fine-tune", pretrained), ("random body", random_body),
                    ("scratch", scratch)]:
    trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    acc = accuracy(y_test, predict(model, X_test).argmax(axis=1))
    print(f"{name:<13}{trained:>15}{acc:>15.4f}")
print(f"frozen body bit-identical after fine-tuning: {unchanged}")
