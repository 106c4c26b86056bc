"""k-fold cross-validation choosing the L2 strength (weight decay) of an MLP on digits.

The digits are split once, stratified: 80% for choosing (the "training" data) and
20% held out as the test set. For each weight decay λ (SGD with momentum adds λw to
each gradient: the gradient of the penalty λ/2 ‖w‖²), 5-fold cross-validation trains
on four fifths of the training data and scores on the remaining fifth, five times;
the λ with the best mean validation accuracy (ties: the lower mean loss) is chosen.
Only then is the model trained on all the training data with that λ and scored on
the test set — once. The folds run in parallel on local processes (joblib).

    python examples/kfold_l2.py

prints one line per λ (mean ± std over the folds), the chosen λ, and last
``test accuracy A (weight decay λ, scored once)``.
"""

import chainrule
from chainrule import nn
from chainrule.data import DataLoader, StratifiedKFold, TensorDataset, train_val_test_split
from chainrule.data.datasets import load_digits
from chainrule.model_selection import cross_validate
from chainrule.train import evaluate, fit
from chainrule.train.recipes import build_model, build_optimizer

WEIGHT_DECAYS = [0.0, 1e-4, 1e-3, 1e-2]
SETTINGS = {"optimizer": "momentum", "lr": 0.05, "epochs": 15, "batch_size": 32}


def build(config: dict) -> nn.Module:
    """An MLP 64-128-10 (module level, so that worker processes can receive it)."""
    return build_model("mlp", "digits", hidden=[128], dropout=0.0)


def main() -> None:
    X, y = load_digits()
    x_train, _, x_test, y_train, _, y_test = train_val_test_split(
        X, y, val_size=0, test_size=0.2, stratify=y, seed=0)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    print(f"{len(y_train)} training samples in 5 folds, {len(y_test)} test samples held out")
    results = {}
    for decay in WEIGHT_DECAYS:
        cv = cross_validate(build, (x_train, y_train), folds,
                            config={**SETTINGS, "weight_decay": decay})
        results[decay] = cv
        print(f"weight decay {decay:<7g} validation {cv}")
    chosen = min(WEIGHT_DECAYS, key=lambda d: (-results[d].mean, results[d].mean_loss))
    print(f"chosen: weight decay {chosen:g}")

    chainrule.manual_seed(0)
    model = build({})
    optimizer = build_optimizer(SETTINGS["optimizer"], model.parameters(), SETTINGS["lr"],
                                chosen)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=SETTINGS["batch_size"],
                        shuffle=True, seed=0)
    fit(model, nn.functional.cross_entropy, optimizer, loader, epochs=SETTINGS["epochs"],
        verbose=0)
    test = evaluate(model, DataLoader(TensorDataset(x_test, y_test), batch_size=512))
    print(f"test accuracy {test['accuracy']:.4f} (weight decay {chosen:g}, scored once)")


if __name__ == "__main__":  # the guard that process workers need
    main()
