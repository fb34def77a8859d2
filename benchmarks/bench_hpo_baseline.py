"""Measure the HPO-similarity baseline on real published cases of the ten demo syndromes.

Reads the shared phenopacket-store extract and keeps the cases whose OMIM diagnosis belongs to
one of the ten demo syndromes (`gestaltm3d.predict.phenopacket_cases`). For each case it ranks
all ten syndromes from the observed HPO terms with `gestaltm3d.annotations.rank_diseases`. It reports
the number of cases per syndrome, top-1 and top-3 accuracy over cases, and the macro top-1
accuracy over syndromes with at least 5 cases. Ties share the best rank, so a tie at the top counts as a
hit. Writes benchmarks/results/hpo_baseline.json.

Unless --no-compare is given, it also reports the overall numbers of a few other hpo3 similarity
settings for comparison.

    python benchmarks/bench_hpo_baseline.py [--method resnik] [--combine funSimAvg] [--min-cases 5] [--no-compare]
"""
import argparse
import os
import platform
import sys
import time

import pandas as pd

COMPARED_SETTINGS = [("resnik", "BMA"), ("lin", "funSimAvg"), ("jc", "funSimAvg"), ("rel", "funSimAvg"),
                     ("ic", "funSimAvg"), ("graphic", "funSimAvg"), ("graphic", "BMA")]
from tqdm.auto import tqdm

from gestaltm3d.core import atomic_write_json, project_root, setup_logging, shared_data_dir
from gestaltm3d.annotations import rank_diseases
from gestaltm3d.hpo import hpo_release
from gestaltm3d.phenopackets import read_phenopackets
from gestaltm3d.predict import phenopacket_cases
from gestaltm3d.syndromes import syndrome_omim_map


def evaluate(cases: pd.DataFrame, candidates: dict, method: str, combine: str) -> pd.DataFrame:
    "Rank the candidates for every case of a `phenopacket_cases` table; one row per case with the true syndrome's rank."
    rows = []
    for case in tqdm(cases.itertuples(), total=len(cases), desc=f"{method}/{combine}"):
        hpo_ids = case.hpo_present.split(";")
        ranking = rank_diseases(hpo_ids, candidates, method=method, combine=combine)
        true_row = ranking[ranking["syndrome"] == case.syndrome].iloc[0]
        rows.append({"case_id": case.image_id, "syndrome": case.syndrome, "n_terms": len(hpo_ids),
                     "rank": int(true_row["rank"]), "predicted": ranking.loc[0, "syndrome"]})
    return pd.DataFrame(rows)


def summarise(results: pd.DataFrame, min_cases: int) -> dict:
    "Compute per-syndrome and overall top-k accuracies."
    results = results.assign(top1=results["rank"] <= 1, top3=results["rank"] <= 3)
    per_syndrome = (results.groupby("syndrome")
                    .agg(n=("case_id", "size"), top1=("top1", "mean"), top3=("top3", "mean"))
                    .sort_values("n", ascending=False))
    eligible = per_syndrome[per_syndrome["n"] >= min_cases]
    return {
        "n_cases": len(results),
        "top1": float(results["top1"].mean()),
        "top3": float(results["top3"].mean()),
        "macro_top1": float(eligible["top1"].mean()) if len(eligible) else None,
        "macro_top1_syndromes": list(eligible.index),
        "per_syndrome": {name: {"n": int(row.n), "top1": float(row.top1), "top3": float(row.top3)}
                         for name, row in per_syndrome.iterrows()},
        "most_predicted": results["predicted"].value_counts().to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="resnik", help="hpo3 term similarity (resnik, lin, jc, rel, ic, graphic, dist)")
    parser.add_argument("--combine", default="funSimAvg", help="hpo3 set combination (funSimAvg, funSimMax, BMA)")
    parser.add_argument("--min-cases", type=int, default=5, help="syndromes with fewer cases stay out of the macro mean")
    parser.add_argument("--no-compare", action="store_true", help="skip the other similarity settings")
    args = parser.parse_args()
    setup_logging("WARNING")

    store = (shared_data_dir() or project_root() / "missing") / "phenopacket-store" / "phenopackets-dev.zip"
    if not store.is_file():
        sys.exit(f"phenopacket-store extract not found at {store}; set GESTALTM3D_SHARED_DATA to its folder")

    # Terms newer than hpo3's HPO release are dropped instead of losing the whole case.
    errors = []
    packets = read_phenopackets(store, on_error="skip", unknown_terms="drop", errors=errors)
    cases, left_out = phenopacket_cases(packets)
    candidates = syndrome_omim_map()
    print(f"{len(cases)} cases of the ten syndromes among {len(packets)} phenopackets "
          f"({len(errors)} unreadable); left out: {left_out}")

    start = time.perf_counter()
    results = evaluate(cases, candidates, args.method, args.combine)
    seconds = time.perf_counter() - start
    summary = summarise(results, args.min_cases)

    print(f"\nHPO-similarity baseline ({args.method}, {args.combine}), HPO release {hpo_release()}:")
    for name, row in summary["per_syndrome"].items():
        print(f"  {name:22s} n={row['n']:4d}  top-1 {row['top1']:.3f}  top-3 {row['top3']:.3f}")
    print(f"  all cases: top-1 {summary['top1']:.3f}, top-3 {summary['top3']:.3f} (n={summary['n_cases']})")
    print(f"  macro top-1 over {len(summary['macro_top1_syndromes'])} syndromes with >= {args.min_cases} cases: "
          f"{summary['macro_top1']:.3f}")
    print(f"  ranking took {seconds:.1f} s ({1000 * seconds / max(len(cases), 1):.1f} ms per case)")

    comparison = {}
    if not args.no_compare:
        print("\nother settings (top-1, top-3, macro top-1):")
        for method, combine in COMPARED_SETTINGS:
            if (method, combine) == (args.method, args.combine):
                continue
            other = summarise(evaluate(cases, candidates, method, combine), args.min_cases)
            comparison[f"{method}/{combine}"] = {key: other[key] for key in ("top1", "top3", "macro_top1")}
            print(f"  {method + '/' + combine:18s} {other['top1']:.3f}  {other['top3']:.3f}  {other['macro_top1']:.3f}")

    result = {
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": sys.version.split()[0]},
        "data": str(store), "hpo_release": hpo_release(), "method": args.method, "combine": args.combine,
        "candidates": candidates, "min_cases": args.min_cases, "n_phenopackets": len(packets),
        "n_unreadable": len(errors), "left_out": left_out, "ranking_seconds": round(seconds, 2),
        **summary,
        "comparison": comparison,
    }
    out = atomic_write_json(project_root() / "benchmarks" / "results" / "hpo_baseline.json", result)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
