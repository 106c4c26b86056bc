"""An ensemble of five MLPs trained from different seeds, against its members.

Five identical small MLPs (64-32-10, Adam lr 0.01, 20 epochs) are trained on the bundled
digits, each from its own seed: the seed sets the initial weights and the order of
the mini-batches, and nothing else differs. They end up
about equally good, but not on the same samples. The ensemble averages their
predicted class probabilities,

    p(c | x) = (1/5) Σ_m softmax(z_m(x))_c,

and predicts the class of largest average probability.

Why averaging helps: a member's mistakes on a test sample come partly from the
data (every member errs there: the average errs too) and partly from the
accidents of its own training (the seed). Those accidental mistakes differ from
member to member, and on such a sample the others, which mostly agree on the
right class, outvote a confident wrong member. In terms of the bias-variance
split of the error, averaging M predictors leaves the bias as it is and scales
the variance by ρ + (1 - ρ)/M, ρ the correlation of their errors: the less the
members agree on their mistakes, the larger the gain. Averaging probabilities
rather than votes also lets a confident member count more than an unsure one.

The best single member is the one with the best validation accuracy (as it would
be chosen in practice); the test set is scored once per model, after training.
Prints a table of each member's validation accuracy, test accuracy and test
log-loss (the mean cross-entropy -log p(y | x)), then the members' mean, the
member chosen on validation, and the ensemble. On 360 test digits one sample is
0.28% of accuracy, and the accuracies of members and ensemble differ by a few
samples, in either direction (here the ensemble, 0.9528, is a sample below the
members' mean): a test set this small cannot tell them apart. The log-loss, which
scores every probability and not only the argmax, shows the gain of averaging:
the ensemble's (0.137) is never above the members' mean (-log is convex) and here
is below every single member's (0.142 to 0.166).
"""

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset
from chainrule.train import fit
from chainrule.train.ensemble import Ensemble, compare_with_members
from chainrule.train.recipes import build_model, prepare_data

SEEDS = (0, 1, 2, 3, 4)
EPOCHS = 20

data = prepare_data("digits", seed=0)  # the split of `chainrule train`: 1257 / 180 / 360
val = DataLoader(TensorDataset(data.x_val, data.y_val), batch_size=256)
members, val_accuracy = [], []
for seed in SEEDS:
    cr.manual_seed(seed)  # the initial weights
    model = build_model("mlp", "digits", hidden=[32], dropout=0.0)
    train = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=32, shuffle=True,
                       seed=seed)
    history = fit(model, nn.functional.cross_entropy, optim.Adam(model.parameters(), lr=1e-2),
                  train, val, epochs=EPOCHS, verbose=0)
    members.append(model)
    val_accuracy.append(history.epochs[-1]["val_accuracy"])

ensemble = Ensemble(members)
result = compare_with_members(ensemble, data.x_test, data.y_test)
print(f"{'model':<18} val acc  test acc  test log-loss")
for seed, val_acc, acc, loss in zip(SEEDS, val_accuracy, result["members"],
                                    result["members_log_loss"]):
    print(f"{f'member seed {seed}':<18} {val_acc:.4f}   {acc:.4f}    {loss:.4f}")
chosen = max(range(len(SEEDS)), key=lambda i: val_accuracy[i])  # the first of ties
rows = [("mean of members", sum(result["members"]) / len(SEEDS),
         sum(result["members_log_loss"]) / len(SEEDS), ""),
        ("best on validation", result["members"][chosen], result["members_log_loss"][chosen],
         f"   (seed {SEEDS[chosen]})"),
        (f"ensemble of {len(ensemble)}", result["ensemble_accuracy"],
         result["ensemble_log_loss"], "")]
for name, acc, loss, note in rows:
    print(f"{name:<18}          {acc:.4f}    {loss:.4f}{note}")
