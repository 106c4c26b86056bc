"""Data: datasets, the DataLoader, samplers, augmentation (:mod:`chainrule.data.transforms`),
class weights, splits and cross-validation (``torch.utils.data``, ``torchvision.transforms``
and ``sklearn`` semantics).

>>> import numpy as np
>>> from chainrule.data import DataLoader, TensorDataset
>>> ds = TensorDataset(np.zeros((10, 3), np.float32), np.arange(10))
>>> [tuple(t.shape for t in batch) for batch in DataLoader(ds, batch_size=4)]
[((4, 3), (4,)), ((4, 3), (4,)), ((2, 3), (2,))]
"""

from chainrule.data import datasets, transforms
from chainrule.data.class_weight import compute_class_weight, compute_sample_weight
from chainrule.data.dataset import Dataset, Subset, TensorDataset
from chainrule.data.loader import DataLoader, default_collate
from chainrule.data.pairs import make_pairs
from chainrule.data.sampler import (
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from chainrule.data.splits import KFold, StratifiedKFold, random_split, train_val_test_split

__all__ = [
    "DataLoader",
    "Dataset",
    "KFold",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StratifiedKFold",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "compute_class_weight",
    "compute_sample_weight",
    "datasets",
    "default_collate",
    "make_pairs",
    "random_split",
    "train_val_test_split",
    "transforms",
]
