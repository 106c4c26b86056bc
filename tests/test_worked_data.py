"""tests/data/worked_examples.json is a verbatim copy of the problems the tests use from
../shared/worked_examples.json: it must not drift from the shared file when that is present."""

import json
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
SHARED = TESTS.resolve().parents[1] / "shared" / "worked_examples.json"


@pytest.mark.skipif(not SHARED.exists(), reason=f"{SHARED} is absent")
def test_copied_problems_equal_the_shared_ones():
    copied = json.loads((TESTS / "data" / "worked_examples.json").read_text())
    shared = {e["id"]: e for e in json.loads(SHARED.read_text())}
    ids = [e["id"] for e in copied]
    assert len(ids) == len(set(ids)), "a problem is copied twice"
    for problem in copied:
        assert problem["id"] in shared, f"{problem['id']} is not in {SHARED}"
        assert problem == shared[problem["id"]], f"{problem['id']} differs from {SHARED}"
