"""Measure whether the tiny demo backbone combines the face and the HPO text, under several training settings.

The method's claim is that the face adds to the HPO text: image + text should beat the better
single modality in macro top-1, with a paired patient-level bootstrap interval above 0. The
benchmark builds the demo cohort with its HPO text calibrated to real case reports
(`max_terms=6, imprecision=0.5, noise_rate=3.0`; see the Settings section of
nbs/03_demo_cohort.ipynb) and a facial gestalt per syndrome (`gestalt_strength=1.0`,
`gestaltm3d.demo.syndrome_gestalt`). These are the demo cohort's defaults. The benchmark names them
so that its results keep their meaning if the defaults change. Then it measures what each modality
and their combination reach under several training settings.

Each photo is cropped to the renderer's face box (a square 1.25 times the box side, 224 px) instead
of running MediaPipe, which keeps each setting to 3 to 5 minutes on 2 cores. For each setting of
the tiny Qwen2.5-VL classifier it trains text only, image only and image + text from
params/demo.yaml, then reports macro top-1 with patient-level intervals and the paired gain of
image + text over the better single modality. As a reference for how much the two modalities
share, it also reports late fusion: the product of the image-only and text-only probabilities,
scored the same way. Late fusion is not the method. It shows how much the two single-modality
models add to each other. Writes benchmarks/results/fusion.json.

    python benchmarks/bench_fusion.py [--settings cls224,mean112,mean112_td,mean112_md] [--out-dir runs/bench_fusion]

Settings: `cls224` pools the [CLS] token and gives the VL 224 px photos (64 visual tokens each), the
main job's earlier setting. `mean112` pools the mean of all tokens and
gives 112 px photos (16 visual tokens). `mean112_td` adds term dropout 0.5, and `mean112_md`
modality dropout instead (image + text only; each case is also trained image-only and text-only),
which is what params/demo.yaml sets. The results file keeps the results of settings not named on
the command line.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from gestaltm3d.ablations import compare_runs, load_predictions
from gestaltm3d.core import atomic_write_json, project_root
from gestaltm3d.demo import DemoSettings, build_demo_cohort
from gestaltm3d.evaluation import macro_top_k, paired_bootstrap_difference

ROOT = project_root()
PARAMS = ROOT / "params" / "demo.yaml"
COHORT = dict(max_terms=6, imprecision=0.5, noise_rate=3.0, gestalt_strength=1.0)
SETTINGS = {  # name -> changes to params/demo.yaml for the three modality runs (see the docstring)
    "cls224": {"pooling": "cls", "image_size": 224, "modality_dropout": False},
    "mean112": {"pooling": "mean", "image_size": 112, "modality_dropout": False},
    "mean112_td": {"pooling": "mean", "image_size": 112, "modality_dropout": False, "term_dropout": 0.5},
    "mean112_md": {"pooling": "mean", "image_size": 112, "modality_dropout": True},
}


def build_cohort(folder: Path, seed: int) -> Path:
    "Build the harder cohort into `folder` and crop its photos to the face box; return the cropped cohort table."
    table = folder / "cropped" / "cohort.csv"
    if table.is_file():
        print(f"using the cohort already built in {folder}")
        return table
    cohort = build_demo_cohort(folder / "raw", DemoSettings(seed=seed, **COHORT), workers=2)
    (folder / "cropped" / "faces").mkdir(parents=True, exist_ok=True)
    paths = []
    for row in cohort.itertuples():
        x0, y0, x1, y1 = json.loads(row.box)
        cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 0.625 * max(x1 - x0, y1 - y0)
        face = Image.open(folder / "raw" / row.image_path).convert("RGB")
        face = face.crop((round(cx - half), round(cy - half), round(cx + half), round(cy + half)))
        path = f"faces/{row.image_id}.png"
        face.resize((224, 224), Image.Resampling.BILINEAR).save(folder / "cropped" / path)
        paths.append(path)
    cohort = cohort.assign(image_path=paths)
    tmp = table.with_name(".cohort.csv.tmp")
    cohort.to_csv(tmp, index=False)
    os.replace(tmp, table)
    return table


def train(run_dir: Path, cohort: Path, changes: dict) -> dict:
    "Train and evaluate one run of the main job in a child process; return its metrics."
    shutil.rmtree(run_dir, ignore_errors=True)  # a run left by an interrupted benchmark would make train_vl stop
    command = [sys.executable, "-m", "gestaltm3d.train_vl", "-p", str(PARAMS), "--set", f"run_dir={run_dir}",
               "--set", f"cohort={cohort}", "--set", "resume=false"]
    for key, value in changes.items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    started = time.perf_counter()
    with open(run_dir.parent / f"{run_dir.name}.log", "w") as log:
        subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, check=True)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    low, high = metrics["ci"]["macro_top1"]
    print(f"  {run_dir.name:12s} macro top-1 {metrics['macro_top1']:.3f} ({low:.3f}-{high:.3f}) "
          f"in {time.perf_counter() - started:.0f} s", flush=True)
    return {"macro_top1": round(metrics["macro_top1"], 4), "ci": [round(low, 4), round(high, 4)],
            "top1": round(metrics["top1"], 4), "n_test": metrics["n_test"],
            "seconds": round(time.perf_counter() - started, 1)}


def late_fusion_gain(image_run: Path, text_run: Path, n_boot: int) -> dict:
    "Macro top-1 of the product of image-only and text-only probabilities, minus text only, with a paired interval."
    ids, text_probs, names = load_predictions(text_run)
    image_ids, image_probs, _ = load_predictions(image_run)
    if list(image_ids["image_id"]) != list(ids["image_id"]):
        raise ValueError(f"{image_run} and {text_run} scored different test images; rerun both on one cohort")
    fused = np.exp(np.log(text_probs + 1e-9) + np.log(image_probs + 1e-9))
    fused /= fused.sum(1, keepdims=True)
    labels = ids["syndrome"].map({name: i for i, name in enumerate(names)}).to_numpy()
    metric = lambda probs, y: macro_top_k(probs, y, 1, len(names))
    result = paired_bootstrap_difference(fused, text_probs, labels, ids["patient_id"].to_numpy(), metric,
                                         n_boot=n_boot, seed=0)
    return {"macro_top1": round(float(metric(fused, labels)), 4), "gain_over_text": round(result["difference"], 4),
            "ci": [round(v, 4) for v in result["ci"]]}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="cls224,mean112,mean112_td,mean112_md", help=f"comma-separated, from {sorted(SETTINGS)}")
    parser.add_argument("--out-dir", default=str(ROOT / "runs" / "bench_fusion"), help="cohort and runs (default runs/bench_fusion)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the cohort (default 0)")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fusion.json"))
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.settings.split(",") if name.strip()]
    unknown = [name for name in names if name not in SETTINGS]
    if unknown:
        parser.error(f"unknown settings {unknown}; choose from {sorted(SETTINGS)}")

    started = time.perf_counter()
    out_dir = Path(args.out_dir)
    cohort = build_cohort(out_dir / "cohort", args.seed)
    report = {"benchmark": "fusion", "cohort_settings": COHORT, "seed": args.seed, "settings": {}}
    previous = json.loads(Path(args.out).read_text()) if Path(args.out).is_file() else {}
    if previous.get("cohort_settings") == COHORT and previous.get("seed") == args.seed:
        report["settings"] = previous.get("settings", {})  # keep the settings not rerun this time
    report["hpo_similarity"] = train(out_dir / "hpo_similarity", cohort,
                                     {"backbone": "hpo_similarity", "modality": "text", "modality_dropout": False})
    for name in names:
        print(f"setting {name}: {SETTINGS[name]}", flush=True)
        runs = {modality: out_dir / name / modality.replace("+", "_") for modality in ("text", "image", "image+text")}
        for run_dir in runs.values():
            run_dir.parent.mkdir(parents=True, exist_ok=True)
        scores = {}
        for modality, run_dir in runs.items():
            changes = dict(SETTINGS[name], modality=modality)
            if modality != "image+text":
                changes["modality_dropout"] = False  # modality dropout applies to image + text runs only
            scores[modality] = train(run_dir, cohort, changes)
        better = max(("image", "text"), key=lambda m: scores[m]["macro_top1"])
        gain = compare_runs(runs["image+text"], runs[better], n_boot=args.n_boot, seed=0)
        report["settings"][name] = {
            "changes": SETTINGS[name], "runs": scores, "better_single_modality": better,
            "gain": round(gain["difference"], 4), "gain_ci": [round(v, 4) for v in gain["ci"]],
            "late_fusion": late_fusion_gain(runs["image"], runs["text"], args.n_boot)}
        row = report["settings"][name]
        print(f"  image + text minus {better}: {row['gain']:+.3f} ({row['gain_ci'][0]:+.3f} to {row['gain_ci'][1]:+.3f}); "
              f"late fusion minus text: {row['late_fusion']['gain_over_text']:+.3f}", flush=True)
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    atomic_write_json(args.out, report)
    print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
