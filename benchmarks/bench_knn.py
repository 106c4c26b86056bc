"""k-nearest neighbours: chainrule against scikit-learn's brute force, time and peak memory.

Both classify the same queries against the same 60,000 training points of 784
features (MNIST-sized) with ``KNeighborsClassifier(k, metric, weights)``;
scikit-learn with ``algorithm='brute'``. Each framework runs in a process of
its own, so that its memory is its own: the peak resident memory *added* by
``predict`` (sampled every 2 ms from /proc/self/statm, and the growth of
``ru_maxrss``) and the process's whole peak are reported, with the seconds of
``fit`` and ``predict``, the ratios and how many predictions agree.

    python benchmarks/bench_knn.py                    # 10,000 queries, random data
    python benchmarks/bench_knn.py --full             # 100,000 queries (claim: < 1 GB)
    python benchmarks/bench_knn.py --data mnist       # real MNIST, test images as queries
    python benchmarks/bench_knn.py --unset-openblas-env

Random data are uniform float32 in [0, 1) (like pixels / 255) with random labels;
``--data mnist`` reads /work/shared/data/mnist (or ``--mnist-root``), queries are
its 10,000 test images, repeated to reach ``--queries``. ``--unset-openblas-env``
re-runs without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (see harness.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from harness import blas_environment, rerun_without_openblas

TRAIN, FEATURES, CLASSES = 60_000, 784, 10
MNIST_ROOT = "/work/shared/data/mnist"


def make_data(args: argparse.Namespace):
    """(X_train, y_train, X_test) as float32 / int64, the same in every process."""
    if args.data == "mnist":
        from chainrule.data.datasets.mnist import load_mnist

        (X_train, y_train), (X_test, _) = load_mnist(args.mnist_root)
        X_train = X_train.reshape(len(X_train), -1)[: args.train]
        X_test = X_test.reshape(len(X_test), -1)
        reps = -(-args.queries // len(X_test))
        X_test = np.tile(X_test, (reps, 1))[: args.queries] if reps > 1 else X_test[: args.queries]
        return X_train, y_train[: args.train], np.ascontiguousarray(X_test)
    rng = np.random.default_rng(0)
    X_train = rng.random((args.train, FEATURES), dtype=np.float32)
    y_train = rng.integers(0, CLASSES, args.train)
    X_test = rng.random((args.queries, FEATURES), dtype=np.float32)
    return X_train, y_train, X_test


def rss() -> int:
    """Resident bytes of this process now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakSampler(threading.Thread):
    """Highest resident memory seen, sampled every 2 ms until stop()."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = rss()
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, rss())

    def stop(self) -> int:
        self._done.set()
        self.join()
        return max(self.peak, rss())


def worker(args: argparse.Namespace) -> None:
    """Fit and predict with one framework; write its numbers and predictions."""
    X_train, y_train, X_test = make_data(args)
    if args.worker == "chainrule":
        from chainrule.neighbors import KNeighborsClassifier

        model = KNeighborsClassifier(args.k, metric=args.metric, weights=args.weights)
    else:
        from sklearn.neighbors import KNeighborsClassifier

        model = KNeighborsClassifier(
            args.k, algorithm="brute", metric=args.metric, weights=args.weights
        )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start

    before, maxrss_before = rss(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    sampler = PeakSampler()
    sampler.start()
    start = time.perf_counter()
    predictions = model.predict(X_test)
    seconds = time.perf_counter() - start
    peak = sampler.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    np.save(args.out + ".npy", predictions)
    Path(args.out + ".json").write_text(json.dumps({
        "fit": fit_seconds, "predict": seconds, "added": peak - before,
        "maxrss_growth": maxrss - maxrss_before, "process_peak": maxrss,
        "inputs": X_train.nbytes + X_test.nbytes,
    }))


def run(framework: str, args: argparse.Namespace, out: str) -> dict:
    command = [sys.executable, __file__, "--worker", framework, "--out", out,
               "--queries", str(args.queries), "--train", str(args.train), "--k", str(args.k),
               "--metric", args.metric, "--weights", args.weights, "--data", args.data,
               "--mnist-root", args.mnist_root]
    subprocess.run(command, check=True)
    result = json.loads(Path(out + ".json").read_text())
    result["predictions"] = np.load(out + ".npy")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=10_000, help="points to classify")
    parser.add_argument("--full", action="store_true", help="100,000 queries")
    parser.add_argument("--train", type=int, default=TRAIN, help="training points")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--metric", default="euclidean",
                        choices=["euclidean", "manhattan", "cosine"])
    parser.add_argument("--weights", default="uniform", choices=["uniform", "distance"])
    parser.add_argument("--data", default="random", choices=["random", "mnist"])
    parser.add_argument("--mnist-root", default=MNIST_ROOT)
    parser.add_argument("--skip-sklearn", action="store_true", help="time chainrule only")
    parser.add_argument("--unset-openblas-env", action="store_true",
                        help="re-run without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    rerun_without_openblas()
    if args.full:
        args.queries = 100_000

    frameworks = ["chainrule"] + ([] if args.skip_sklearn else ["sklearn"])
    with tempfile.TemporaryDirectory() as tmp:
        results = {name: run(name, args, os.path.join(tmp, name)) for name in frameworks}

    mib = 2**20
    print(f"KNN predict: {args.queries:,} queries x {args.train:,} training points x "
          f"{FEATURES} features, float32 {args.data} data, k={args.k}, {args.metric}, "
          f"{args.weights}")
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs, {blas_environment()}")
    inputs = results["chainrule"]["inputs"] / mib
    print(f"inputs (training + query arrays): {inputs:,.0f} MiB")
    print(f"{'':<10} {'fit s':>7} {'predict s':>10} {'queries/s':>10} "
          f"{'added by predict':>17} {'maxrss growth':>14} {'process peak':>13}")
    for name, r in results.items():
        print(f"{name:<10} {r['fit']:>7.2f} {r['predict']:>10.2f} "
              f"{args.queries / r['predict']:>10,.0f} {r['added'] / mib:>13,.0f} MiB "
              f"{r['maxrss_growth'] / mib:>10,.0f} MiB {r['process_peak'] / mib:>9,.0f} MiB")
    if "sklearn" in results:
        ours, theirs = results["chainrule"], results["sklearn"]
        agree = np.mean(ours["predictions"] == theirs["predictions"])
        print(f"ratio chainrule/sklearn: predict time {ours['predict'] / theirs['predict']:.2f}x, "
              f"memory added {ours['added'] / max(theirs['added'], 1):.2f}x; "
              f"predictions agree on {agree:.4%}")


if __name__ == "__main__":
    main()
