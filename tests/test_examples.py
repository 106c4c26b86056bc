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


def test_derivation_example_names_both_slips_and_accepts_the_fix():
    out = run("derivation_check.py")
    assert ("∂L/∂W1: wrong — looks like a missing path: your gradient is the sum over 1 of the "
            "2 paths to the output at all 5 points") in out
    assert "∂L/∂W2: wrong — looks like a transpose slip" in out
    assert "W1 → MatMul → ReLU → MatMul[1] → CosineSimilarity[1] → Neg → L" in out
    assert out.endswith("all gradients correct\nok: True\n")


def test_adam_escape_example_answers_the_worked_problem():
    out = run("adam_escape.py")
    assert "largest bump width Adam escapes: h_max = 0.002434062" in out
    assert "closed form lr * sum_k=1..6 (2 beta1^k - 1) = 0.002434062" in out
    assert "h = 0.002410: escapes at step 1013" in out
    assert "h = 0.002458: trapped near x = 0.9998" in out


def test_kfold_example_chooses_the_weight_decay_on_the_folds_then_tests_once():
    out = run("kfold_l2.py")
    rows = {line.split()[2]: float(line.split()[5]) for line in out.splitlines()
            if line.startswith("weight decay")}  # "weight decay λ  validation accuracy A ± S"
    assert list(rows) == ["0", "0.0001", "0.001", "0.01"] and out.count("over 5 folds") == 4
    chosen = next(line for line in out.splitlines() if line.startswith("chosen:")).split()[-1]
    assert rows[chosen] == max(rows.values())
    last = out.splitlines()[-1]
    assert out.count("test accuracy") == 1 and last.startswith("test accuracy")
    assert float(last.split()[2]) > 0.93 and f"(weight decay {chosen}, scored once)" in last


def test_search_example_prints_the_ranked_table_and_one_test_score(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "chainrule", "search", "--config", str(EXAMPLES / "search.toml"),
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "rank  trial  accuracy (mean ± std)  loss (mean ± std)" in done.stdout
    assert [line.split()[0] for line in lines[3:7]] == ["1", "2", "3", "4"]
    tested = [line for line in lines if line.startswith("test accuracy")]
    assert len(tested) == 1 and float(tested[0].split()[2]) > 0.9
    assert (tmp_path / "search.csv").exists() and (tmp_path / "search.json").exists()


def test_ensemble_example_compares_the_ensemble_with_its_members():
    out = run("ensemble_seeds.py")
    rows = {line[:18].strip(): line[18:].split() for line in out.splitlines()[1:]}
    members = [rows[f"member seed {seed}"] for seed in range(5)]
    ensemble, best = rows["ensemble of 5"], rows["best on validation"]
    assert all(0.93 < float(m[1]) <= 1 for m in members)  # test accuracy
    assert 0.93 < float(ensemble[0]) <= 1
    # the log-loss of the averaged probabilities is below every member's
    assert float(ensemble[1]) < min(float(m[2]) for m in members)
    assert float(ensemble[1]) < float(best[1])


def test_initialisation_example_shows_the_four_cases():
    out = run("initialisation.py")
    text = " ".join(out.split())  # the findings are wrapped
    assert text.count("max difference between hidden units' weights after training = 0,") == 2
    assert ("zero_init_tanh_no_learning, sigmoid: dL/dW1 = 0 everywhere, "
            "dL/dW2 = [-0.25 -0.25 -0.25]") in text
    assert "GradientFlow: the 32 units of layer '0' (Linear) have identical weights" in text
    tiny, large, he = (text.split("2. tiny")[1].split("3. large")[0],
                       text.split("3. large")[1].split("4. ReLU")[0], text.split("4. ReLU")[1])
    assert "GradientFlow: gradients vanish: the gradient reaching layer '1' (Tanh)" in tiny
    assert float(tiny.split("the loss is ")[1].split()[0]) > 0.69
    assert large.count("are saturated") == 2
    assert he.endswith("GradientFlow: no problem found")
    assert float(he.split("accuracy ")[1].split()[0]) > 0.95


def test_siamese_digits_example_reports_unseen_class_verification():
    lines = run("siamese_digits.py").splitlines()
    assert lines[0].startswith("seen digits 0-6, validation pairs: ROC AUC")
    assert float(lines[0].split()[-1]) > 0.99
    siamese_auc, pixel_auc, distortion_auc = (float(line.split("ROC AUC")[1].split()[0])
                                              for line in lines[1:4])
    assert 0.65 < siamese_auc < pixel_auc < distortion_auc   # measured 0.7295 < 0.8262 < 0.9177
    assert distortion_auc > 0.9
