"""Data: datasets, the DataLoader, splits and cross-validation (``torch.utils.data`` and
``sklearn.model_selection`` semantics).

>>> import numpy as np
>>> from chainrule.data import DataLoader, TensorDataset
>>> ds = TensorDataset(np.zeros((10, 3), np.float32), np.arange(10))
>>> [tuple(t.shape for t in batch) for batch in DataLoader(ds, batch_size=4)]
[((4, 3), (4,)), ((4, 3), (4,)), ((2, 3), (2,))]
"""

from chainrule.data import datasets
from chainrule.data.dataset import Dataset, Subset, TensorDataset
from chainrule.data.loader import DataLoader, default_collate
from chainrule.data.splits import KFold, StratifiedKFold, random_split, train_val_test_split

__all__ = [
    "DataLoader",
    "Dataset",
    "KFold",
    "StratifiedKFold",
    "Subset",
    "TensorDataset",
    "datasets",
    "default_collate",
    "random_split",
    "train_val_test_split",
]
