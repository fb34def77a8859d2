"""Measure how much face geometry the tiny backbone's vision tower passes on to the classifier.

On the demo cohort the tiny Qwen2.5-VL classifier scores at chance from the image alone, while the
small CNN baseline does better on the same faces. This benchmark locates where the geometry is lost.
It draws faces with the demo renderer: random identities, random facial HPO terms and a small
random pose, with no syndrome and no HPO text. It crops each face to the renderer's face box at
224 px. The targets are the landmark measures of `measure_features` (eye distance, philtrum
length, face proportions and so on), z-scored. It then reports the held-out R^2 of a ridge regression (alpha
chosen on a validation part) from four feature sets:

- raw pixels: the crop as 56 x 56 grey values, the reference;
- visual tokens, flattened: the tiny vision tower's output tokens (after the merger), in their
  spatial order, with random weights;
- visual tokens, mean-pooled: the same tokens averaged, which is all a position-blind read-out
  of the tower keeps;
- after training: the vision tower trained for `--epochs` epochs to regress the targets from its
  mean-pooled tokens through a linear layer (AdamW, `--lr`), then probed as above.

Writes benchmarks/results/image_pathway.json.

    python benchmarks/bench_image_pathway.py [--faces 2000] [--epochs 4] [--lr 1e-3] [--family qwen2_5_vl]
"""
import argparse
import os
import platform
import sys
import time
import warnings

import numpy as np
import torch
from PIL import Image
from scipy.linalg import LinAlgWarning
from sklearn.linear_model import Ridge
from tqdm.auto import tqdm

from gestaltm3d.core import atomic_write_json, project_root, seed_everything, setup_logging
from gestaltm3d.render import FACIAL_TERMS, measure_features, render_face, resolve_conflicts, sample_identity, sample_pose
from gestaltm3d.vl_backbones import load_backbone, tiny_backbone_path


def draw_faces(n: int, seed: int) -> tuple[list[Image.Image], np.ndarray, list[str]]:
    "Render `n` cropped 224 px faces with random facial terms; return them with their z-scored landmark measures."
    terms = sorted(FACIAL_TERMS)
    faces, rows = [], []
    for index in tqdm(range(n), desc="rendering faces"):
        rng = np.random.default_rng([seed, index])
        facial_terms = resolve_conflicts([t for t in terms if rng.random() < 0.1], rng)
        face = render_face(sample_identity(rng), facial_terms, rng, size=320, pose=sample_pose(rng, 5.0, 0.08))
        x0, y0, x1, y1 = (int(v) for v in face.box)
        faces.append(Image.fromarray(face.image).crop((x0, y0, x1, y1)).resize((224, 224), Image.Resampling.BILINEAR))
        rows.append(measure_features(face.landmarks))
    names = sorted(rows[0])
    values = np.array([[row[name] for name in names] for row in rows], dtype=np.float64)
    keep = values.std(0) > 0
    values = values[:, keep]
    return faces, (values - values.mean(0)) / values.std(0), [n for n, k in zip(names, keep) if k]


def ridge_r2(features: np.ndarray, targets: np.ndarray, n_train: int, n_val: int) -> dict:
    "Held-out R^2 of a ridge regression, alpha picked on the validation part from a log grid."
    scale = features[:n_train].std() or 1.0
    x = features / scale
    fit, val, test = slice(0, n_train), slice(n_train, n_train + n_val), slice(n_train + n_val, None)
    scores = {alpha: Ridge(alpha=alpha).fit(x[fit], targets[fit]).score(x[val], targets[val])
              for alpha in (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)}
    alpha = max(scores, key=scores.get)
    model = Ridge(alpha=alpha).fit(x[: n_train + n_val], targets[: n_train + n_val])
    return {"r2_test": round(float(model.score(x[test], targets[test])), 4), "alpha": alpha}


def visual_tokens(backbone, faces: list[Image.Image], batch: int = 50) -> tuple[np.ndarray, np.ndarray]:
    "Return the vision tower's tokens per face, flattened in spatial order and mean-pooled."
    flat, pooled = [], []
    with torch.no_grad():
        for start in range(0, len(faces), batch):
            tokens, counts = _encode(backbone, faces[start: start + batch])
            per_face = torch.split(tokens, counts)
            flat.append(torch.stack([t.reshape(-1) for t in per_face]).numpy())
            pooled.append(torch.stack([t.mean(0) for t in per_face]).numpy())
    return np.concatenate(flat), np.concatenate(pooled)


def _encode(backbone, faces):
    inputs = backbone.processor.image_processor(images=faces, return_tensors="pt")
    out = backbone.model.visual(inputs["pixel_values"], grid_thw=inputs["image_grid_thw"])
    tokens = out.pooler_output if hasattr(out, "pooler_output") else out  # the merged tokens, which newer transformers versions wrap in an output object
    merge = backbone.family.merge_size ** 2
    return tokens, (inputs["image_grid_thw"].prod(-1) // merge).tolist()


def train_tower(backbone, faces, targets, n_train: int, epochs: int, lr: float, batch: int, seed: int) -> list[float]:
    "Train the vision tower and a linear read-out on mean-pooled tokens to regress the targets; return the MSE per epoch."
    torch.manual_seed(seed)
    vision = backbone.model.visual
    width = _encode(backbone, faces[:1])[0].shape[-1]
    readout = torch.nn.Linear(width, targets.shape[1])
    optimizer = torch.optim.AdamW(list(vision.parameters()) + list(readout.parameters()), lr=lr)
    y = torch.tensor(targets[:n_train], dtype=torch.float32)
    losses = []
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(n_train)
        total, steps = 0.0, 0
        for start in tqdm(range(0, n_train, batch), desc=f"training epoch {epoch + 1}", leave=False):
            index = order[start: start + batch]
            tokens, counts = _encode(backbone, [faces[i] for i in index])
            pooled = torch.stack([t.mean(0) for t in torch.split(tokens, counts)])
            pooled = pooled / (pooled.std() + 1e-6)  # the random-init tower's outputs are small, so rescale them for the read-out
            loss = torch.nn.functional.mse_loss(readout(pooled), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, steps = total + float(loss), steps + 1
        losses.append(round(total / steps, 4))
        print(f"epoch {epoch + 1}: training MSE {losses[-1]}", flush=True)
    return losses


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=2000, help="faces to render (default 2000)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs of vision-tower training (default 4; 0 skips it)")
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate of that training (default 1e-3)")
    parser.add_argument("--family", default="qwen2_5_vl", help="tiny backbone family (default qwen2_5_vl)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="results file (default benchmarks/results/image_pathway.json)")
    args = parser.parse_args(argv)
    if args.faces < 100:
        parser.error(f"--faces {args.faces} is too few for a held-out R^2; use at least 100")
    setup_logging("WARNING")
    warnings.filterwarnings("ignore", category=LinAlgWarning)  # small alphas on 4,096 token features are ill-conditioned, and validation R^2 rejects them
    seed_everything(args.seed)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    start = time.perf_counter()
    faces, targets, names = draw_faces(args.faces, args.seed)
    n_train, n_val = int(0.6 * args.faces), int(0.15 * args.faces)
    pixels = np.stack([np.asarray(f.convert("L").resize((56, 56)), dtype=np.float64).ravel() / 255 for f in faces])
    backbone = load_backbone(tiny_backbone_path(args.family))
    flat, pooled = visual_tokens(backbone, faces)
    results = {
        "raw_pixels_56px": ridge_r2(pixels, targets, n_train, n_val),
        "visual_tokens_flattened_random_init": ridge_r2(flat, targets, n_train, n_val),
        "visual_tokens_mean_pooled_random_init": ridge_r2(pooled, targets, n_train, n_val),
    }
    losses = []
    if args.epochs > 0:
        losses = train_tower(backbone, faces, targets, n_train, args.epochs, args.lr, batch=16, seed=args.seed)
        flat, pooled = visual_tokens(backbone, faces)
        results["visual_tokens_flattened_trained"] = ridge_r2(flat, targets, n_train, n_val)
        results["visual_tokens_mean_pooled_trained"] = ridge_r2(pooled, targets, n_train, n_val)

    report = {
        "benchmark": "image_pathway", "family": args.family, "faces": args.faces, "split": [n_train, n_val,
                                                                                         args.faces - n_train - n_val],
        "targets": names, "epochs": args.epochs, "lr": args.lr, "training_mse_per_epoch": losses,
        "ridge_r2": results, "seconds": round(time.perf_counter() - start, 1),
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version()},
    }
    out = args.out or project_root() / "benchmarks" / "results" / "image_pathway.json"
    atomic_write_json(out, report)
    for name, value in results.items():
        print(f"{name:40s} held-out R^2 {value['r2_test']:.3f} (alpha {value['alpha']})")
    print(f"wrote {out}")
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
