"""Build the demo-size cohort and measure what it must deliver.

Measures the build time on this machine, BlazeFace's detection rate and box IoU against the true
boxes, Cohen's d of every mapped facial HPO term, and dlib's same-patient vs different-patient
identity ROC-AUC. Writes benchmarks/results/demo_cohort.json.

    python benchmarks/bench_demo_cohort.py [--scale 1.0] [--workers 2] [--identity-patients 300]
"""
import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from gestaltm3d.core import atomic_write_json, project_root, setup_logging
from gestaltm3d.demo import DemoSettings, build_demo_cohort, detection_check, hpo_effect_sizes, identity_auc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = demo size (GMDB-like class counts)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="rendering processes")
    parser.add_argument("--identity-patients", type=int, default=300,
                        help="patients with 2+ photos sampled for the dlib identity check")
    args = parser.parse_args()
    setup_logging()

    out_dir = Path(tempfile.mkdtemp(prefix="bench-demo-")) / "demo"
    start = time.perf_counter()
    cohort = build_demo_cohort(out_dir, DemoSettings(scale=args.scale, seed=args.seed), workers=args.workers)
    build_seconds = time.perf_counter() - start
    print(f"built {len(cohort)} images of {cohort.patient_id.nunique()} patients in {build_seconds:.1f} s")

    detections = detection_check(cohort, out_dir)
    detected = float(detections.detected.mean())
    iou_share = float((detections.iou >= 0.7).mean())
    print(f"BlazeFace: detected {detected:.2%}, IoU >= 0.7 on {iou_share:.2%}")

    effects = hpo_effect_sizes(cohort)
    print(effects.to_string(index=False))

    counts = cohort.groupby("patient_id").image_id.transform("count")
    multi_patients = cohort.loc[counts >= 2, "patient_id"].unique()
    rng = np.random.default_rng(args.seed)
    chosen = rng.choice(multi_patients, min(args.identity_patients, len(multi_patients)), replace=False)
    identity = identity_auc(cohort[cohort.patient_id.isin(chosen)], out_dir)
    print(f"dlib identity ROC-AUC: {identity['auc']:.3f} ({identity['n_same_pairs']} same-patient pairs)")

    result = {
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
        "scale": args.scale, "seed": args.seed, "workers": args.workers,
        "n_images": len(cohort), "n_patients": int(cohort.patient_id.nunique()),
        "build_seconds": round(build_seconds, 1),
        "blazeface_detected": detected, "blazeface_iou_ge_0_7": iou_share,
        "cohens_d": {row.hpo_id: {"name": row.name, "d": None if np.isnan(row.cohens_d) else row.cohens_d, "n_with": row.n_with}
                     for row in effects.itertuples()},
        "min_cohens_d": float(effects.cohens_d.min()),
        "terms_without_faces": effects.loc[effects.n_with == 0, "hpo_id"].tolist(),
        "identity": identity,
    }
    path = atomic_write_json(project_root() / "benchmarks" / "results" / "demo_cohort.json", result)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
