"""Measure the synthetic face renderer: speed, face detection, identity and HPO-term visibility.

Draws a small cohort the way the demo cohort does. Patients are spread over the ten syndromes.
Each has one identity and the facial terms of an HPO profile simulated from the syndrome's
annotations, with opposite terms resolved. Each photo has a random pose and random degradations
(grayscale, low resolution, blur and clutter, each with probability 0.3). It reports:

- the time to render and degrade one face on one core (OpenCV limited to one thread; target:
  at most 60 ms at 512 px);
- BlazeFace short-range's detection rate and the share of photos whose best-matching detection
  overlaps the renderer's box with IoU >= 0.7 (targets: 95 % and 90 %), overall and per
  degradation;
- the ROC-AUC of dlib's descriptor distance for same-patient against different-patient photo
  pairs, over all pairs and within each syndrome (target: 0.8);
- per facial term, Cohen's d of its landmark measure between photos with and without the term
  (target: 1), for terms shown in at least 2 photos.

Writes benchmarks/results/render.json.

    python benchmarks/bench_render.py [--patients 60] [--photos 5] [--size 512] [--seed 0]
"""
import argparse
import os
import platform
import sys
import time

import cv2
import numpy as np
from tqdm.auto import tqdm

from gestaltm3d.core import atomic_write_json, project_root, setup_logging, weights_path
from gestaltm3d.face_checks import blazeface_detect, box_iou, cohens_d, dlib_face_descriptor, roc_auc
from gestaltm3d.render import (FACIAL_TERMS, degrade, measure_features, render_face, resolve_conflicts, sample_identity,
                               sample_pose)

DEGRADATIONS = ("grayscale", "low_resolution", "blur", "clutter")


def draw_cohort(patients: int, photos: int, size: int, rng: np.random.Generator) -> list[dict]:
    "Render the photos; each record has the image, the truth and the time spent on rendering and degrading."
    from gestaltm3d.annotations import sample_hpo_profile
    from gestaltm3d.syndromes import SYNDROMES

    records = []
    for patient in tqdm(range(patients), desc="render", unit="patient"):
        syndrome = SYNDROMES[patient % len(SYNDROMES)]
        profile = sample_hpo_profile(syndrome.omim_ids, rng)
        terms = resolve_conflicts([t for t in profile.true_terms if t in FACIAL_TERMS], rng)
        identity = sample_identity(rng, age_years=float(rng.uniform(1, 20)))
        for _ in range(photos):
            flags = {name: bool(rng.random() < 0.3) for name in DEGRADATIONS}
            start = time.perf_counter()
            face = degrade(render_face(identity, terms, rng, size=size, pose=sample_pose(rng)), rng, **flags)
            seconds = time.perf_counter() - start
            records.append(dict(patient=patient, syndrome=syndrome.name, terms=set(terms), flags=flags, face=face,
                                seconds=seconds))
    return records


def detection_metrics(records: list[dict], model_path) -> dict:
    "Run BlazeFace on every photo; return detection rate and IoU >= 0.7 share, overall and per degradation."
    found, good, overlaps = [], [], []
    for record in tqdm(records, desc="BlazeFace", unit="photo"):
        detections = blazeface_detect(record["face"].image, model_path)
        iou = max([box_iou(box, record["face"].box) for box, _ in detections], default=0.0)
        found.append(bool(detections))
        good.append(iou >= 0.7)
        overlaps.append(iou)
    found, good, overlaps = np.array(found), np.array(good), np.array(overlaps)
    per_degradation = {}
    for name in DEGRADATIONS + ("none",):
        if name == "none":
            mask = np.array([not any(r["flags"].values()) for r in records])
        else:
            mask = np.array([r["flags"][name] for r in records])
        if mask.any():
            per_degradation[name] = dict(photos=int(mask.sum()), detection_rate=float(found[mask].mean()),
                                         iou_0_7_share=float(good[mask].mean()))
    return dict(detection_rate=float(found.mean()), iou_0_7_share=float(good.mean()),
                median_iou=float(np.median(overlaps)), min_iou=float(overlaps.min()), per_degradation=per_degradation)


def identity_metrics(records: list[dict]) -> dict:
    "Compute dlib descriptors inside the true boxes; return ROC-AUCs of same- against different-patient pairs."
    descriptors = np.array([dlib_face_descriptor(r["face"].image, r["face"].box)
                            for r in tqdm(records, desc="dlib", unit="photo")])
    patients = np.array([r["patient"] for r in records])
    syndromes = np.array([r["syndrome"] for r in records])
    distance = np.linalg.norm(descriptors[:, None] - descriptors[None], axis=-1)
    upper = np.triu_indices(len(records), 1)
    same = (patients[:, None] == patients[None])[upper]
    same_syndrome = (syndromes[:, None] == syndromes[None])[upper]
    score = -distance[upper]
    return dict(identity_auc=roc_auc(score[same], score[~same]),
                identity_auc_same_syndrome=roc_auc(score[same], score[~same & same_syndrome]),
                same_patient_pairs=int(same.sum()), different_patient_pairs=int((~same).sum()))


def term_metrics(records: list[dict]) -> dict:
    "Return Cohen's d per facial term (signed so that positive means the stated direction) and the smallest one."
    measures = [measure_features(r["face"].landmarks) for r in records]
    effects = {}
    for hpo_id, term in FACIAL_TERMS.items():
        with_term = [m[term.measure] for r, m in zip(records, measures) if hpo_id in r["terms"]]
        without_term = [m[term.measure] for r, m in zip(records, measures) if hpo_id not in r["terms"]]
        if len(with_term) >= 2 and len(without_term) >= 2:
            effects[hpo_id] = dict(name=term.name, measure=term.measure, photos_with=len(with_term),
                                   cohens_d=term.direction * cohens_d(with_term, without_term))
    weakest = min(effects, key=lambda k: effects[k]["cohens_d"])
    return dict(cohens_d=effects, min_cohens_d=effects[weakest]["cohens_d"], min_cohens_d_term=weakest,
                terms_not_shown=sorted(set(FACIAL_TERMS) - set(effects)))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=60, help="number of patients (spread over the ten syndromes)")
    parser.add_argument("--photos", type=int, default=5, help="photos per patient")
    parser.add_argument("--size", type=int, default=512, help="image side in pixels")
    parser.add_argument("--seed", type=int, default=0, help="seed of the only random generator")
    args = parser.parse_args(argv)
    if args.patients < 2 or args.photos < 2:
        parser.error(f"--patients {args.patients} and --photos {args.photos} must both be at least 2 for identity pairs")
    setup_logging()
    cv2.setNumThreads(1)  # measure one core, the share of one demo worker process

    records = draw_cohort(args.patients, args.photos, args.size, np.random.default_rng(args.seed))
    result = dict(
        patients=args.patients, photos_per_patient=args.photos, faces=len(records), size=args.size, seed=args.seed,
        ms_per_face=1000 * float(np.mean([r["seconds"] for r in records])),
        ms_per_face_p95=1000 * float(np.percentile([r["seconds"] for r in records], 95)),
        **detection_metrics(records, weights_path("blazeface_short_range")),
        **identity_metrics(records),
        **term_metrics(records),
        machine=dict(python=sys.version.split()[0], platform=platform.platform(), cpus=os.cpu_count(),
                     opencv=cv2.__version__, opencv_threads=cv2.getNumThreads()),
    )
    out = project_root() / "benchmarks" / "results" / "render.json"
    atomic_write_json(out, result)
    print(f"{result['faces']} faces at {args.size} px: {result['ms_per_face']:.1f} ms/face, "
          f"detected {result['detection_rate']:.3f}, IoU >= 0.7 {result['iou_0_7_share']:.3f}, "
          f"identity AUC {result['identity_auc']:.3f} (same syndrome {result['identity_auc_same_syndrome']:.3f}), "
          f"min Cohen's d {result['min_cohens_d']:.2f} ({FACIAL_TERMS[result['min_cohens_d_term']].name}); wrote {out}")
    return result


if __name__ == "__main__":
    main()
