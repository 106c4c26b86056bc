import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

WORKED_EXAMPLES = Path(__file__).parent / "data" / "worked_examples.json"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def worked_examples() -> dict:
    """The course problems the tests answer, keyed by id: tests/data/worked_examples.json,
    a verbatim copy of those entries of ../shared/worked_examples.json (test_worked_data.py
    keeps the two equal)."""
    import json

    return {e["id"]: e for e in json.loads(WORKED_EXAMPLES.read_text())}
