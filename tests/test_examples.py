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


def table(out: str, first: str) -> dict[str, list[str]]:
    """The rows of the table whose header line starts with ``first``, by their name."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(first)) + 1
    rows = {}
    for line in lines[start:]:
        if not line.strip() or line.startswith("frozen"):
            break
        name, values = line[:13].strip(), line[13:].split()
        rows[name] = values
    return rows


def test_transfer_learning_example_freezes_the_body_and_trains_a_new_head():
    out = run("transfer_learning.py")
    assert "new task: 100 training and 796 test images of 5-9" in out
    assert "frozen body bit-identical after fine-tuning: True" in out
    rows = table(out, "  ")
    assert list(rows) == ["fine-tune", "random body", "scratch"]
    # the new head alone: Linear(32·2·2, 5); scratch trains the whole CNN
    assert rows["fine-tune"][0] == rows["random body"][0] == "645"
    assert rows["scratch"][0] == "5445"
    for name, (_, acc) in rows.items():
        assert 0.9 < float(acc) <= 1.0, name


def test_class_imbalance_example_lifts_the_recall_of_the_rare_classes():
    out = run("class_imbalance.py")
    assert "training images per class: [133, 136, 133, 137, 136, 13, 13, 13, 13, 13]" in out
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]]
            for line in out.splitlines()[-3:]}
    assert list(rows) == ["plain", "weighted", "sampler"]
    plain = rows["plain"]
    assert plain[11] < 0.6 < plain[10]  # mean recall of 5–9 < 0.6 < that of 0–4
    for name in ("weighted", "sampler"):
        remedy = rows[name]
        assert remedy[11] > plain[11] + 0.25, name     # rare classes: mean recall
        assert min(remedy[5:10]) > min(plain[5:10]) + 0.4, name  # the worst rare class
        assert remedy[12] > plain[12] + 0.1, name      # macro-F1
