"""Measure the GFPGAN restoration stage on CPU: seconds per face for alignment and paste-back, and for the network.

The network is GFPGANv1Clean with the v1.4 configuration (86.4 M parameters). Its weights are random because the
released GFPGANv1.4.pth cannot be downloaded here. They are saved and loaded the way the released file is, and the
forward pass costs the same with any weights. The faces are rendered demo faces at 512 px with a random pose (every second one with clutter and low
resolution) and the public astronaut portrait from the shared data folder when it is present. Per face it reports:

- landmarks: dlib's 68-point fit inside the face box;
- align: the similarity fit and the warp into the 512 x 512 template;
- network: one GFPGAN forward pass, after one untimed warm-up pass;
- paste: the inverse warp and the soft-mask blend;
- the PSNR of an identity-restorer round trip (align and paste only) over the image and over the face box.

Writes benchmarks/results/restore.json.

    python benchmarks/bench_restore.py [--faces 4] [--seed 0]
"""
import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from gestaltm3d.core import atomic_write_json, project_root, setup_logging, shared_data_dir
from gestaltm3d.render import degrade, render_face, sample_identity, sample_pose
from gestaltm3d.restore import (align_face, build_gfpgan, face_landmarks_68, five_points_from_68, paste_face, psnr,
                                restore_stage)


def load_faces(count: int, rng: np.random.Generator) -> list[tuple[str, np.ndarray, tuple]]:
    "Return (label, image, face box) for `count` demo faces and the astronaut portrait when present."
    faces = []
    for index in range(count):
        face = render_face(sample_identity(rng), [], rng, size=512, pose=sample_pose(rng))
        degraded = index % 2 == 1
        if degraded:
            face = degrade(face, rng, grayscale=False, low_resolution=True, blur=False, clutter=True)
        faces.append((f"demo {index}" + (" (clutter, low resolution)" if degraded else ""), face.image, face.box))

    portrait = shared_data_dir() / "faces/nasa_eileen_collins/astronaut.png" if shared_data_dir() else None
    if portrait is not None and portrait.exists():
        import dlib
        from PIL import Image

        image = np.array(Image.open(portrait).convert("RGB"))
        boxes, scores, _ = dlib.get_frontal_face_detector().run(image, 1)
        best = boxes[int(np.argmax(scores))]
        faces.append(("astronaut", image, (best.left(), best.top(), best.right(), best.bottom())))
    else:
        print("astronaut portrait not found in the shared data folder; measuring demo faces only")
    return faces


def measure_face(stage, image: np.ndarray, box) -> dict:
    "Time each step of restoring one face, and the identity round trip's PSNR."
    start = time.perf_counter()
    points = five_points_from_68(face_landmarks_68(image, box))
    landmarks_s = time.perf_counter() - start

    start = time.perf_counter()
    aligned, matrix = align_face(image, points)
    align_s = time.perf_counter() - start

    start = time.perf_counter()
    restored = stage.restorer(aligned)
    network_s = time.perf_counter() - start

    start = time.perf_counter()
    paste_face(image, restored, matrix)
    paste_s = time.perf_counter() - start

    round_trip = paste_face(image, aligned, matrix)
    return dict(height=image.shape[0], width=image.shape[1], box=[float(v) for v in box],
                landmarks_s=landmarks_s, align_s=align_s, network_s=network_s, paste_s=paste_s,
                align_and_paste_s=landmarks_s + align_s + paste_s,
                identity_psnr_image_db=psnr(round_trip, image), identity_psnr_face_db=psnr(round_trip, image, box))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=4, help="number of rendered demo faces (the astronaut is added)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the demo faces and the random weights")
    parser.add_argument("--out", type=Path, default=project_root() / "benchmarks" / "results" / "restore.json",
                        help="JSON file for the results")
    args = parser.parse_args(argv)
    setup_logging("WARNING")

    import torch

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    faces = load_faces(args.faces, rng)

    with tempfile.TemporaryDirectory(prefix="bench-restore-") as folder:
        start = time.perf_counter()
        torch.save({"params_ema": build_gfpgan().state_dict()}, Path(folder) / "GFPGANv1.4.pth")
        build_and_save_s = time.perf_counter() - start
        start = time.perf_counter()
        stage = restore_stage(weights=folder, device="cpu")
        load_s = time.perf_counter() - start  # includes hashing the weights file for the cache key

    start = time.perf_counter()
    stage.restorer(np.zeros((512, 512, 3), np.uint8))  # warm-up, not counted
    warm_up_s = time.perf_counter() - start
    face_landmarks_68(faces[0][1], faces[0][2])  # loads dlib's model outside the timed runs

    rows = []
    for label, image, box in tqdm(faces, desc="restore", unit="face"):
        rows.append(dict(face=label, **measure_face(stage, image, box)))
        print(f"{label}: align+paste {rows[-1]['align_and_paste_s'] * 1000:.0f} ms, network {rows[-1]['network_s']:.2f} s, "
              f"identity PSNR {rows[-1]['identity_psnr_image_db']:.1f} dB image / "
              f"{rows[-1]['identity_psnr_face_db']:.1f} dB face box")

    def mean(key):
        return float(np.mean([row[key] for row in rows]))

    result = dict(
        benchmark="bench_restore.py",
        machine=dict(platform=platform.platform(), python=sys.version.split()[0], cpu_count=os.cpu_count(),
                     torch=torch.__version__, torch_threads=torch.get_num_threads(), opencv=cv2.__version__,
                     opencv_threads=cv2.getNumThreads(), load_average_1min_at_end=os.getloadavg()[0]),
        settings=dict(faces=len(rows), seed=args.seed, weights="random, GFPGANv1Clean v1.4 configuration",
                      device="cpu", dtype="float32"),
        build_and_save_random_weights_s=build_and_save_s, load_weights_s=load_s, network_warm_up_s=warm_up_s,
        mean=dict(landmarks_s=mean("landmarks_s"), align_s=mean("align_s"), paste_s=mean("paste_s"),
                  align_and_paste_s=mean("align_and_paste_s"), network_s=mean("network_s"),
                  min_identity_psnr_image_db=min(row["identity_psnr_image_db"] for row in rows),
                  min_identity_psnr_face_db=min(row["identity_psnr_face_db"] for row in rows)),
        faces=rows,
    )
    atomic_write_json(args.out, result)
    print(f"mean per face: align+paste {result['mean']['align_and_paste_s'] * 1000:.0f} ms "
          f"(landmarks {result['mean']['landmarks_s'] * 1000:.0f} ms), network {result['mean']['network_s']:.2f} s; "
          f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
