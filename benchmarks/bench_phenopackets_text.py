"""Score the text pathway of a demo-trained classifier on real published cases, beside the HPO baseline.

Trains the main job on the synthetic demo cohort only, text modality (`params/demo.yaml` with
`modality: text`), unless the run folder already contains a finished run. Then it scores the real
phenopacket-store cases of the ten syndromes in `../shared/data` through the run's saved model
(`gestaltm3d.train_vl.evaluate_phenopackets`): top-1 and top-3 per case, macro top-1 over the
syndromes with at least 5 cases, and the number of cases per syndrome. Beside it stands the
HPO-similarity baseline on the same cases (`gestaltm3d.baselines`). The demo's HPO terms are
sampled from the HPO annotations, never from these cases, so nothing of the test set leaks into
training. Writes benchmarks/results/phenopackets_text.json.

    python benchmarks/bench_phenopackets_text.py [--run-dir runs/bench_main_job/text] [--image-text]
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from gestaltm3d.baselines import hpo_similarity_scores
from gestaltm3d.core import atomic_write_json, project_root, setup_logging, shared_data_dir
from gestaltm3d.phenopackets import read_phenopackets
from gestaltm3d.predict import phenopacket_cases
from gestaltm3d.syndromes import syndrome_names
from gestaltm3d.train_vl import evaluate_phenopackets

ROOT = project_root()


def hpo_baseline(store: Path, min_cases: int) -> dict:
    "Top-1 per case, macro top-1 over syndromes with at least min_cases cases, for the HPO-similarity ranking."
    cases, _ = phenopacket_cases(read_phenopackets(store, on_error="skip", unknown_terms="drop", errors=[]))
    class_names = syndrome_names()
    scores = np.nan_to_num(hpo_similarity_scores(cases, class_names), nan=-np.inf)
    labels = cases["syndrome"].map({name: i for i, name in enumerate(class_names)}).to_numpy()
    # The true class counts as found when no other class scores strictly higher (ties share the best rank).
    hits = scores[np.arange(len(labels)), labels] >= scores.max(axis=1)
    counts = cases["syndrome"].value_counts()
    frequent = [class_names.index(name) for name in counts[counts >= min_cases].index]
    return {"n_cases": len(cases), "top1": float(hits.mean()),
            "macro_top1_min_cases": float(np.mean([hits[labels == i].mean() for i in frequent])),
            "per_syndrome": {name: {"n": int(counts.get(name, 0)),
                                    "top1": float(hits[labels == i].mean()) if counts.get(name, 0) else None}
                             for i, name in enumerate(class_names)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default=str(ROOT / "runs" / "bench_main_job" / "text"))
    parser.add_argument("--image-text", action="store_true",
                        help="train the image+text setting with modality dropout instead of text only")
    parser.add_argument("--min-cases", type=int, default=5)
    arguments = parser.parse_args()
    setup_logging("INFO")

    store = shared_data_dir() / "phenopacket-store" / "phenopackets-dev.zip"
    if not store.is_file():
        raise SystemExit(f"{store} not found; this benchmark needs ../shared/data (see its README)")
    run_dir = Path(arguments.run_dir)
    if not (run_dir / "metrics.json").is_file():
        changes = (["modality=image+text", "modality_dropout=true"] if arguments.image_text else ["modality=text", "modality_dropout=false"])
        command = [sys.executable, "-m", "gestaltm3d.train_vl", "-p", str(ROOT / "params" / "demo.yaml"),
                   "--set", f"run_dir={run_dir}"] + [item for change in changes for item in ("--set", change)]
        subprocess.run(command, cwd=ROOT, check=True)

    model = evaluate_phenopackets(run_dir, store, min_cases=arguments.min_cases)
    baseline = hpo_baseline(store, arguments.min_cases)
    print(f"{'syndrome':<22} {'n':>4} {'model top-1':>12} {'HPO top-1':>10}")
    for name in syndrome_names():
        entry, other = model["per_syndrome"][name], baseline["per_syndrome"][name]
        if entry["n"]:
            print(f"{name:<22} {entry['n']:>4} {entry['top1']:>12.3f} {other['top1']:>10.3f}")
    print(f"per case: model top-1 {model['top1']:.3f} (95 % CI {model['ci_top1'][0]:.3f}-{model['ci_top1'][1]:.3f}), "
          f"HPO baseline {baseline['top1']:.3f}; macro top-1 over syndromes with >= {arguments.min_cases} cases: "
          f"model {model['macro_top1_min_cases']:.3f}, HPO baseline {baseline['macro_top1_min_cases']:.3f}")
    run_settings = json.loads((run_dir / "job.json").read_text())
    atomic_write_json(ROOT / "benchmarks" / "results" / "phenopackets_text.json",
                      {"run_dir": str(run_dir), "modality": run_settings["modality"],
                       "modality_dropout": run_settings.get("modality_dropout", False),
                       "store": str(store.name), "model": model, "hpo_baseline": baseline})


if __name__ == "__main__":
    main()
