"""Time the HPO module: ontology load, id normalisation and reading phenopacket-store.

Measures three times on this machine. The first is importing hpo3 and loading its ontology. The
second is normalising 10,000 HPO ids drawn from the disease annotations of phenotype.hpoa, mixed
with obsolete and alternative ids and other spellings (target: load plus normalisation within
5 s). The third is reading every phenopacket of the shared phenopacket-store extract (target:
within 30 s), with the numbers read and skipped. Writes benchmarks/results/hpo.json.

    python benchmarks/bench_hpo.py [--ids 10000] [--seed 0]
"""
import argparse
import os
import platform
import sys
import time

import numpy as np

from gestaltm3d.core import atomic_write_json, project_root, setup_logging, shared_data_dir


def time_ontology_load() -> float:
    "Import hpo3 and build its ontology, the way the first call in a fresh process does."
    start = time.perf_counter()
    from gestaltm3d.hpo import ontology
    ontology()
    return time.perf_counter() - start


def id_mix(count: int, rng: np.random.Generator) -> tuple[list, dict]:
    "Draw `count` ids: 85 % from annotations, 5 % obsolete, 5 % alternative, 5 % written as 'HP_' or int."
    from gestaltm3d.annotations import load_hpoa
    from gestaltm3d.hpo import load_alt_ids, ontology

    annotated = load_hpoa()["hpo_id"].to_numpy()
    obsolete = sorted(term.id for term in ontology() if term.is_obsolete and term.replaced_by)
    alternative = [f"HP:{number:07d}" for number in sorted(load_alt_ids())]
    counts = {"obsolete": count // 20, "alternative": count // 20, "other_spelling": count // 20}
    counts["annotation"] = count - sum(counts.values())

    ids = list(rng.choice(annotated, counts["annotation"]))
    ids += list(rng.choice(obsolete, counts["obsolete"]))
    ids += list(rng.choice(alternative, counts["alternative"]))
    for hpo_id in rng.choice(annotated, counts["other_spelling"]):
        ids.append(hpo_id.replace(":", "_") if rng.random() < 0.5 else int(hpo_id[3:]))
    ids = [hpo_id if isinstance(hpo_id, int) else str(hpo_id) for hpo_id in ids]
    order = rng.permutation(len(ids))
    return [ids[index] for index in order], counts


def time_normalisation(ids: list) -> tuple[float, int]:
    "Normalise `ids` one by one with cold caches; return seconds and the number that failed."
    from gestaltm3d import hpo

    hpo._resolve_number.cache_clear()
    hpo.load_alt_ids.cache_clear()
    failed = 0
    start = time.perf_counter()
    for hpo_id in ids:
        try:
            hpo.normalize_hpo_id(hpo_id)
        except hpo.UnknownHPOTermError:
            failed += 1
    return time.perf_counter() - start, failed


def time_phenopackets(path, unknown_terms: str) -> dict:
    "Read every phenopacket in `path`, skipping bad ones; return time and counts."
    from gestaltm3d.phenopackets import read_phenopackets

    errors = []
    start = time.perf_counter()
    packets = read_phenopackets(path, on_error="skip", unknown_terms=unknown_terms, errors=errors)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "read": len(packets), "skipped": len(errors),
            "skip_reasons": [message for _, message in errors[:20]],
            "n_present_terms": sum(len(packet.hpo_present) for packet in packets),
            "n_excluded_terms": sum(len(packet.hpo_absent) for packet in packets)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=10_000, help="HPO ids to normalise")
    parser.add_argument("--seed", type=int, default=0, help="seed of the id mix")
    args = parser.parse_args()
    setup_logging("WARNING")

    load_seconds = time_ontology_load()
    from gestaltm3d.hpo import hpo_release
    print(f"hpo3 import and ontology load: {load_seconds:.2f} s")

    ids, mix = id_mix(args.ids, np.random.default_rng(args.seed))
    normalise_seconds, failed = time_normalisation(ids)
    total = load_seconds + normalise_seconds
    print(f"normalised {len(ids)} ids ({mix}) in {normalise_seconds:.2f} s, {failed} unknown; "
          f"with load {total:.2f} s (target <= 5 s)")

    result = {
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": sys.version.split()[0]},
        "hpo_release": hpo_release(),
        "ontology_load_seconds": round(load_seconds, 3),
        "normalise": {"n_ids": len(ids), "mix": mix, "seconds": round(normalise_seconds, 3), "unknown": failed,
                      "seconds_with_load": round(total, 3), "target_seconds": 5.0, "within_target": total <= 5.0},
    }

    store = (shared_data_dir() or project_root() / "missing") / "phenopacket-store" / "phenopackets-dev.zip"
    if store.is_file():
        strict = time_phenopackets(store, unknown_terms="error")
        print(f"read {strict['read']} phenopackets, skipped {strict['skipped']}, in {strict['seconds']:.1f} s "
              f"(target <= 30 s) from {store}")
        lenient = time_phenopackets(store, unknown_terms="drop")
        print(f"with unknown terms dropped instead: read {lenient['read']}, skipped {lenient['skipped']}, "
              f"in {lenient['seconds']:.1f} s")
        result["phenopackets"] = {"path": str(store), "target_seconds": 30.0,
                                  "within_target": strict["seconds"] <= 30.0,
                                  "unknown_terms_error": strict, "unknown_terms_drop": lenient}
    else:
        print(f"skipped the phenopacket timing: {store} not found (set GESTALTM3D_SHARED_DATA)")
        result["phenopackets"] = None

    out = atomic_write_json(project_root() / "benchmarks" / "results" / "hpo.json", result)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
