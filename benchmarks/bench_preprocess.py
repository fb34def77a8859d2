"""Measure the face preprocessing pipeline: throughput, detection rate, crop accuracy and the detection retries.

Builds a demo cohort of about 300 synthetic faces at 512 px and reports:

- throughput (images/s) of loading, detection, crop, selfie-segmentation background removal, resize
  and writing the cache, with 1 worker (in this process) and with a pool of 2 workers (target:
  40 images/s on 2 cores). The workers' start-up is excluded from the rate and reported apart;
- the detection rate on the demo cohort and the share of images whose detector box (before the
  margin) overlaps the renderer's true box with IoU >= 0.7 (target: 90 %);
- on the shared public faces (`faces/obama`, `faces/biden`, `faces/nasa_eileen_collins`,
  `faces/multi`): every single-face photo detected, and 2 faces found in each `multi/` photo;
- the detection retries: demo faces cut tighter than their face box, detected with and without the
  padded retry, and which public photos needed a retry.

Writes benchmarks/results/preprocess.json.

    python benchmarks/bench_preprocess.py [--images 300] [--size 512] [--workers 1 2] [--demo-dir DIR]
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from gestaltm3d.core import atomic_write_json, project_root, setup_logging, shared_data_dir
from gestaltm3d.demo import DemoSettings, build_demo_cohort, plan_patients
from gestaltm3d.face_checks import box_iou
from gestaltm3d.face_crop import BlazeFaceDetector
from gestaltm3d.preprocess import PreprocessSettings, preprocess_cohort, preprocess_folder


def demo_cohort(n_images: int, size: int, demo_dir: Path | None, workdir: Path):
    "Build (or reuse) a demo cohort of about `n_images` faces at `size` px; return its table and folder."
    per_unit_scale = sum(len(p.image_ids) for p in plan_patients(DemoSettings(scale=1.0)))
    settings = DemoSettings(scale=n_images / per_unit_scale, image_size=size)
    folder = demo_dir or workdir / "demo"
    if demo_dir is not None and (demo_dir / "cohort.csv").is_file():
        import pandas as pd
        return pd.read_csv(demo_dir / "cohort.csv", dtype=str, keep_default_na=False), folder
    return build_demo_cohort(folder, settings, workers=2), folder


def throughput(cohort, folder: Path, workers: int, workdir: Path) -> tuple[dict, object]:
    "Preprocess the cohort into a fresh folder with `workers`; return the timing summary and the QC table."
    settings = PreprocessSettings()
    start = time.perf_counter()
    qc = preprocess_cohort(cohort, folder, workdir / f"out_{workers}", settings, workers=workers)
    wall = time.perf_counter() - start
    summary = qc.attrs["summary"]
    return {"workers": summary["workers"], "images": summary["processed"], "startup_seconds": summary["startup_seconds"],
            "processing_seconds": summary["processing_seconds"], "images_per_second": summary["images_per_second"],
            "wall_seconds_including_startup": round(wall, 2)}, qc


def demo_detection(cohort, qc) -> dict:
    "Detection rate and IoU of the detector box with the renderer's true box."
    ious = np.array([box_iou(json.loads(b), json.loads(t)) if isinstance(b, str) and b else 0.0
                     for b, t in zip(qc["box"], cohort["box"])])
    passes = qc["detection_pass"].value_counts().to_dict()
    return {"images": int(len(qc)), "detection_rate": float(qc["detected"].astype(bool).mean()),
            "iou_0_7_share": float(np.mean(ious >= 0.7)), "median_iou": float(np.median(ious)),
            "min_iou": float(ious.min()), "detection_pass": {str(k): int(v) for k, v in passes.items()},
            "qc_reasons": qc.attrs["summary"]["qc_reasons"]}


def public_detection(workdir: Path) -> dict:
    "Run the pipeline on the shared public faces; check single-face photos and the two-person photos."
    shared = shared_data_dir()
    if shared is None or not (shared / "faces").is_dir():
        return {"skipped": "shared public faces not found; set GESTALTM3D_SHARED_DATA"}
    qc = preprocess_folder(shared / "faces", workdir / "public", workers=1).set_index("image_id")
    per_image = {i: {"qc_reason": r.qc_reason if isinstance(r.qc_reason, str) else "ok", "n_faces": int(r.n_faces),
                     "det_score": r.det_score, "detection_pass": r.detection_pass}
                 for i, r in qc.iterrows()}
    singles = [i for i in qc.index if not i.startswith("multi/")]
    multi = [i for i in qc.index if i.startswith("multi/")]
    detector = BlazeFaceDetector(retry_pad=0, retry_full_range=False)
    without_retry = {}
    for image_id in qc.index:
        image = np.asarray(Image.open(shared / "faces" / image_id).convert("RGB"))
        without_retry[image_id] = len(detector.detect(image)[0])
    return {"single_face_photos": len(singles),
            "single_face_detected": int(qc.loc[singles, "qc_reason"].isna().sum()),
            "multi_photos": len(multi), "multi_with_2_faces": int((qc.loc[multi, "n_faces"] == 2).sum()),
            "faces_without_retries": without_retry, "per_image": per_image}


def retry_rescue(cohort, folder: Path, n: int = 60) -> dict:
    "Cut demo faces tighter than their true box and detect them directly and with the padded retry."
    direct = BlazeFaceDetector(retry_pad=0, retry_full_range=False)
    padded = BlazeFaceDetector(retry_pad=0.25, retry_full_range=False)
    out = {}
    for fraction in (1.0, 0.8, 0.6):
        found_direct, found_padded = [], []
        for row in cohort.head(n).itertuples():
            image = np.asarray(Image.open(folder / row.image_path).convert("RGB"))
            x0, y0, x1, y1 = json.loads(row.box)
            cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * fraction / 2
            cut = np.ascontiguousarray(image[max(0, int(cy - half)):int(cy + half), max(0, int(cx - half)):int(cx + half)])
            found_direct.append(bool(direct.detect(cut)[0]))
            found_padded.append(bool(padded.detect(cut)[0]))
        out[f"cut_{fraction}_of_box"] = {"images": len(found_direct), "direct": float(np.mean(found_direct)),
                                         "with_padded_retry": float(np.mean(found_padded))}
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300, help="demo images for the throughput run")
    parser.add_argument("--size", type=int, default=512, help="demo image side, pixels")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time")
    parser.add_argument("--demo-dir", type=Path, default=None, help="reuse or keep the demo cohort in this folder")
    parser.add_argument("--out", type=Path, default=project_root() / "benchmarks" / "results" / "preprocess.json")
    args = parser.parse_args(argv)
    setup_logging("WARNING")

    with tempfile.TemporaryDirectory(prefix="bench-preprocess-") as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        cohort, folder = demo_cohort(args.images, args.size, args.demo_dir, workdir)
        build_seconds = time.perf_counter() - start
        print(f"demo cohort: {len(cohort)} images at {args.size} px ({build_seconds:.1f} s)")

        runs, qc = [], None
        for workers in args.workers:
            timing, qc = throughput(cohort, folder, workers, workdir)
            runs.append(timing)
            print(f"{workers} worker(s): {timing['images_per_second']} images/s, start-up {timing['startup_seconds']} s")
        demo = demo_detection(cohort, qc)
        print(f"demo: detection {demo['detection_rate']:.1%}, IoU >= 0.7 on {demo['iou_0_7_share']:.1%}")
        public = public_detection(workdir)
        print("public faces:", {k: v for k, v in public.items() if k not in ("per_image", "faces_without_retries")})
        rescue = retry_rescue(cohort, folder)
        print("tight crops:", rescue)

    best = max((r["images_per_second"] or 0) for r in runs)
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
                    "processor": platform.processor() or platform.machine()},
        "settings": {"images": int(len(cohort)), "size": args.size, "pipeline": "load, BlazeFace short-range, crop with "
                     "margin 0.25, selfie segmentation, 224 px, PNG cache"},
        "throughput": runs,
        "throughput_target_images_per_second": 40, "throughput_target_met": bool(best >= 40),
        "demo_detection": demo, "demo_iou_target_met": bool(demo["iou_0_7_share"] >= 0.9),
        "public_faces": public, "tight_crops": rescue,
    }
    atomic_write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
