"""Measure the match analysis at paper size: 2,000 real and 100,000 synthetic 512-d embeddings.

Random unit vectors stand in for face embeddings, with 10 classes. It times, and reports the peak memory of:

- `nearest_probes` with k=5, over all classes and within each real face's own class (target: at most 10 s on
  2 cores, with memory bounded by the block size rather than by 2,000 x 100,000);
- `match_attack_metrics` with 1,000 patient-level bootstrap resamples (1,000 kept and 1,000 held-out faces of
  1,000 patients);
- `data_copying_test` with 5 k-means cells and `authenticity` (kept faces against the 100,000 probes).

Peak memory is measured twice: Python's tracemalloc peak (NumPy arrays included) during each step, and the process's
peak resident set size after each step (which includes the inputs and everything imported). Writes
benchmarks/results/match.json.

    python benchmarks/bench_match.py [--real 2000] [--probes 100000] [--dim 512] [--seed 0]
"""
import argparse
import os
import platform
import resource
import time
import tracemalloc

import numpy as np

from gestaltm3d.core import atomic_write_json, project_root, setup_logging
from gestaltm3d.face_embedders import l2_normalize
from gestaltm3d.match_analysis import authenticity, data_copying_test, match_attack_metrics, nearest_probes


def peak_rss_mib() -> float:
    "Peak resident set size of this process so far, in MiB (ru_maxrss is in KiB on Linux)."
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(name: str, function, *args, **kwargs):
    "Run function(*args, **kwargs); return its result and a record of seconds and memory."
    tracemalloc.start()
    start = time.perf_counter()
    result = function(*args, **kwargs)
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    record = {"seconds": round(seconds, 3), "tracemalloc_peak_mib": round(traced_peak / 2**20, 1),
              "process_peak_rss_mib": round(peak_rss_mib(), 1)}
    print(f"{name}: {record}")
    return result, record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=int, default=2000, help="real faces (half kept, half held out)")
    parser.add_argument("--probes", type=int, default=100_000, help="synthetic probe faces")
    parser.add_argument("--dim", type=int, default=512, help="embedding length")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    args = parser.parse_args()
    setup_logging("WARNING")

    rng = np.random.default_rng(args.seed)
    real = l2_normalize(rng.normal(size=(args.real, args.dim)))
    probe = np.empty((args.probes, args.dim), np.float32)
    for start in range(0, args.probes, 10_000):  # in parts, so float64 temporaries stay small
        probe[start:start + 10_000] = l2_normalize(rng.normal(size=(len(probe[start:start + 10_000]), args.dim)))
    real_classes, probe_classes = rng.integers(0, 10, args.real), rng.integers(0, 10, args.probes)
    kept = np.arange(args.real) % 2 == 0
    patients = np.arange(args.real) // 4 * 2 + (~kept)  # two faces per patient: 4i and 4i + 2 are 2i (kept), the odd ones 2i + 1
    data_mib = (real.nbytes + probe.nbytes) / 2**20
    print(f"inputs: {args.real:,} real and {args.probes:,} probe embeddings of {args.dim} floats ({data_mib:.0f} MiB); "
          f"process peak RSS so far {peak_rss_mib():.0f} MiB")

    rss_inputs = peak_rss_mib()
    records = {}
    matches, records["nearest_probes"] = timed("nearest_probes (k=5, all and own class)", nearest_probes, real, probe,
                                               real_classes, probe_classes, k=5)
    _, records["match_attack_metrics"] = timed("match_attack_metrics (1,000 resamples)", match_attack_metrics,
                                               matches.max_own_class_similarity, kept, patients, real_classes,
                                               threshold=0.45, n_boot=1000)
    _, records["data_copying_test"] = timed("data_copying_test (5 cells)", data_copying_test, real[kept], real[~kept], probe)
    _, records["authenticity"] = timed("authenticity", authenticity, real[kept], probe, patients[kept])

    record = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                          "numpy": np.__version__},
              "settings": vars(args), "input_mib": round(data_mib, 1), "peak_rss_before_mib": round(rss_inputs, 1),
              "results": records,
              "target": "nearest_probes <= 10 s on 2 cores"}
    path = atomic_write_json(project_root() / "benchmarks" / "results" / "match.json", record)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
