"""Class imbalance: a class-weighted loss or a weighted sampler lifts the rare classes.

The training set keeps every image of the digits 0–4 but only 10% of the digits 5–9
(≈ 130 images a class against ≈ 13); the test set is balanced. One MLP is trained
three ways, with the same seed and the same number of steps:
  plain:    cross-entropy, shuffled batches;
  weighted: ``CrossEntropyLoss(weight=w)`` with
            ``w = compute_class_weight('balanced', ...)`` = n / (classes · n_c),
            so each class weighs the same in the loss;
  sampler:  a ``WeightedRandomSampler`` with the same weights per sample, so each
            batch holds every class about equally often.
Prints the test recall of each class, the mean recall of 0–4 and of 5–9, and the
macro-F1: the plain model misses about half of the rare digits; either remedy
recovers most of them, at the price of a few points of recall on the common ones.
"""

import numpy as np

import chainrule as cr
from chainrule import models, nn, optim
from chainrule.data import (
    DataLoader,
    TensorDataset,
    WeightedRandomSampler,
    compute_class_weight,
    compute_sample_weight,
    train_val_test_split,
)
from chainrule.data.datasets import load_digits
from chainrule.metrics import f1_score, recall
from chainrule.train import fit, predict

X, y = load_digits()
X_pool, _, X_test, y_pool, _, y_test = train_val_test_split(
    X, y, val_size=0, test_size=0.25, stratify=y, seed=0
)
# imbalance the training set: all of 0–4, a random 10% of each of 5–9
rng = np.random.default_rng(0)
keep = []
for c in range(10):
    members = rng.permutation(np.flatnonzero(y_pool == c))
    keep.append(members if c < 5 else members[: len(members) // 10])
keep = np.concatenate(keep)
X_train, y_train = X_pool[keep], y_pool[keep]
print("training images per class:", np.bincount(y_train).tolist())
print("test images per class:    ", np.bincount(y_test).tolist())

classes = np.arange(10)
class_weight = compute_class_weight("balanced", classes=classes, y=y_train)
print("balanced class weights:", np.round(class_weight, 2).tolist())
dataset = TensorDataset(X_train, y_train)
loaders = {
    "plain": DataLoader(dataset, batch_size=32, shuffle=True, seed=0),
    "weighted": DataLoader(dataset, batch_size=32, shuffle=True, seed=0),
    "sampler": DataLoader(dataset, batch_size=32, seed=0, sampler=WeightedRandomSampler(
        compute_sample_weight("balanced", y_train), num_samples=len(y_train))),
}
losses = {
    "plain": nn.CrossEntropyLoss(),
    "weighted": nn.CrossEntropyLoss(weight=cr.tensor(class_weight, dtype=np.float32)),
    "sampler": nn.CrossEntropyLoss(),
}

print(f"\n{'test recall':<10}" + "".join(f"{c:>6}" for c in classes)
      + f"{'0-4':>7}{'5-9':>6}{'macro-F1':>10}")
for name in loaders:
    cr.manual_seed(0)  # the same initial weights for all three
    model = models.mlp(64, hidden=(64,), num_classes=10)
    fit(model, losses[name], optim.Adam(model.parameters(), lr=1e-3), loaders[name],
        epochs=20, verbose=0)
    predicted = predict(model, X_test).argmax(axis=1)
    per_class = recall(y_test, predicted, average=None)
    print(f"{name:<10}" + "".join(f"{r:>6.2f}" for r in per_class)
          + f"{per_class[:5].mean():>7.3f}{per_class[5:].mean():>6.3f}"
          + f"{f1_score(y_test, predicted, average='macro'):>10.3f}")
