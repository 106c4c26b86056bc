"""The scripts in examples/ run and print what their docstrings promise."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(name: str) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_chain_rule_example_prints_both_paths():
    out = run("autograd_chain_rule.py")
    assert "c = 3   dc/da = -5   dc/db = 1" in out
    assert "path via a²   contributes -6" in out
    assert "path via a+b  contributes 1" in out
    assert "gradcheck: True" in out


def test_siamese_example_matches_the_course_answer():
    out = run("siamese_cosine.py")
    assert "L = 0.684857682" in out
    assert "-0.169288 -0.424289 -0.502448 -0.246878" in out


def test_optimizer_paths_example_shows_momentum_beating_plain_sgd():
    rows = {line[:16].strip(): line[16:].split() for line in run("optimizer_paths.py")
            .splitlines()[1:]}
    assert float(rows["momentum 0.8"][2]) < 1e-3 < float(rows["SGD lr=0.035"][2])


def test_training_example_reaches_a_useful_accuracy():
    last = run("train_digits.py").splitlines()[-1]
    assert last.startswith("test accuracy")
    assert float(last.split()[2]) > 0.93
