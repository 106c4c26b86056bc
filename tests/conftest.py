import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def worked_examples() -> dict:
    """The course problems of ../shared/worked_examples.json, keyed by id."""
    import json

    path = SHARED / "worked_examples.json"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return {e["id"]: e for e in json.loads(path.read_text())}
