"""Train an MLP on the bundled 8×8 digits with the fit loop and early stopping.

The same pieces `chainrule train` uses, assembled by hand: a stratified
train/validation/test split, DataLoaders, a model, Adam, a cosine schedule,
early stopping that restores the best weights, and the test metrics.
"""

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import DataLoader, TensorDataset, train_val_test_split
from chainrule.data.datasets import load_digits
from chainrule.metrics import accuracy, f1_score
from chainrule.train import EarlyStopping, fit, predict

cr.manual_seed(0)
X, y = load_digits()  # X: (1797, 1, 8, 8) float32 in [0, 1], y: int64
X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(
    X, y, val_size=0.1, test_size=0.2, stratify=y, seed=0
)
train = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True, seed=0)
val = DataLoader(TensorDataset(X_val, y_val), batch_size=256)

model = nn.Sequential(
    nn.Flatten(), nn.Linear(64, 512), nn.ReLU(), nn.Dropout(0.3), nn.Linear(512, 10)
)
print(nn.summary(model, (1, 8, 8)))
optimizer = optim.Adam(model.parameters(), lr=1e-3)
epochs = 60
history = fit(
    model, nn.CrossEntropyLoss(), optimizer, train, val, epochs=epochs,
    scheduler=optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs),
    callbacks=[EarlyStopping(patience=15, restore_best_weights=True)], progress=False,
)
best = min(history.epochs, key=lambda e: e["val_loss"])
print(f"best epoch {best['epoch']}: val_loss {best['val_loss']:.4f}  "
      f"val_accuracy {best['val_accuracy']:.4f}")
predicted = predict(model, X_test).argmax(axis=1)
print(f"test accuracy {accuracy(y_test, predicted):.4f}  "
      f"macro-F1 {f1_score(y_test, predicted, average='macro'):.4f}")
