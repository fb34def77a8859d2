"""Run the privacy job at demo size on two probe sets with known expected results, through dlib's face matcher.

The preprocessed demo cohort (224 px faces, data/processed/demo/cohort.csv) is split per syndrome into a real set and
outsiders (a third of the patients of each syndrome with at least three). The real set gets a fresh kept/held-out
partition, and two probe runs are written in the StyleGAN3 run layout:

- memorising: one perturbed copy (shift of up to 3 px, brightness within 8 %, pixel noise of 4/255) of every kept
  photo. A generator that copies its training faces looks like this, so the attack must find it: AUC >= 0.95.
- independent: the outsiders' photos, faces of demo patients that are neither kept nor held out. The attack must not
  tell kept from held-out: the AUC's 95 % interval must contain 0.5.

Both runs go through `run_privacy_job` with real face detection, alignment and embedding, and report the attack, the
data-copying test, authenticity, dlib's verification AUC on the real faces and the train-on-synthetic, test-on-real
utility. Writes benchmarks/results/privacy.json; the run folders go to runs/bench_privacy/.

    python benchmarks/bench_privacy.py [--cohort data/processed/demo/cohort.csv] [--n-boot 1000] [--tstr-epochs 8]
"""
import argparse
import os
import platform
import sys
import time

from gestaltm3d.core import atomic_write_json, atomic_write_table, project_root, resolve_path, setup_logging
from gestaltm3d.data import read_cohort
from gestaltm3d.kept_partition import apply_partition, kept_partition
from gestaltm3d.privacy import PrivacySettings, outsider_split, perturb_photo, run_privacy_job, write_probe_run

SUMMARY_KEYS = ("auc", "auc_ci", "tpr_at_1pct_fpr", "share_above_threshold", "calibrated_threshold", "authenticity",
                "tstr_macro_top1", "tstr_macro_top1_ci", "trtr_macro_top1", "counts")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort", default="data/processed/demo/cohort.csv", help="preprocessed demo cohort table")
    parser.add_argument("--out", default="runs/bench_privacy", help="folder for the probe runs and job outputs")
    parser.add_argument("--n-boot", type=int, default=1000, help="patient-level bootstrap resamples")
    parser.add_argument("--tstr-epochs", type=int, default=8, help="epochs of the small CNN in TSTR and TRTR")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    setup_logging("INFO")

    cohort_path, out = resolve_path(arguments.cohort), resolve_path(arguments.out)
    if not cohort_path.is_file():
        print(f"cohort table {cohort_path} not found; build and preprocess the demo cohort first (scripts/demo.sh)",
              file=sys.stderr)
        return 2
    cohort = read_cohort(cohort_path, check_images=False)
    real, outsiders = outsider_split(cohort, seed=arguments.seed)
    partition = kept_partition(real, seed=arguments.seed)
    kept = apply_partition(real, partition).query("partition == 'kept'")
    real_path = atomic_write_table(real, out / "real_cohort.csv")
    runs = {"memorising": write_probe_run(out / "memorising_probes", kept, partition, transform=perturb_photo,
                                          seed=arguments.seed),
            "independent": write_probe_run(out / "independent_probes", outsiders, partition, seed=arguments.seed)}

    results = {"cohort": str(cohort_path), "n_real_faces": len(real), "n_real_patients": int(real["patient_id"].nunique()),
               "n_outsider_faces": len(outsiders), "n_kept_faces": len(kept)}
    for name, gan_run in runs.items():
        settings = PrivacySettings(gan_run=str(gan_run), cohort=str(real_path), run_dir=str(out / name),
                                   n_boot=arguments.n_boot, tstr_epochs=arguments.tstr_epochs, seed=arguments.seed)
        start = time.perf_counter()
        metrics = run_privacy_job(settings)
        results[name] = {key: metrics[key] for key in SUMMARY_KEYS}
        results[name]["data_copying_c_t"] = metrics["data_copying"]["c_t"]
        results[name]["auc_all_classes"] = metrics["all_classes"]["auc"]
        results[name]["seconds"] = round(time.perf_counter() - start, 1)
        results["verification"] = metrics["verification"]
        print(f"{name}: AUC {metrics['auc']:.3f} (95 % CI {metrics['auc_ci'][0]:.3f}-{metrics['auc_ci'][1]:.3f}), "
              f"authenticity {metrics['authenticity']:.3f}, C_T {metrics['data_copying']['c_t']}, "
              f"TSTR {metrics['tstr_macro_top1']:.3f}, TRTR {metrics['trtr_macro_top1']:.3f}, "
              f"{results[name]['seconds']} s")

    memorising, independent = results["memorising"], results["independent"]
    results["checks"] = {"memorising_auc_at_least_0.95": memorising["auc"] >= 0.95,
                         "independent_interval_contains_0.5": independent["auc_ci"][0] <= 0.5 <= independent["auc_ci"][1]}
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    atomic_write_json(project_root() / "benchmarks" / "results" / "privacy.json", results)
    print(results["checks"])
    return 0 if all(results["checks"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
