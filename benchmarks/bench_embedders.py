"""Measure face-embedding throughput (images per second) of each face embedder on the CPU.

Renders synthetic demo faces (512 px, random identities, poses and degradations) and embeds them with:

- dlib's ResNet, with the weights that face-recognition-models ships;
- ArcFace through insightface's model_zoo, with the real w600k_r50.onnx when weights_path('arcface_r50') finds it.
  Otherwise a stand-in ONNX model with random weights and ArcFace R50's layer layout takes its place. That layout
  (IResNet-50) is a stride-1 3x3 stem, residual stages of 3, 4, 14 and 3 blocks with 64 to 512 channels, and a
  512-d linear head. The stand-in has the same shapes and about the same arithmetic, so its speed is an estimate of
  the real model's. Its embeddings are meaningless.

For each embedder it reports the end-to-end rate of `embed` (BlazeFace detection, dlib's 68 landmarks, alignment and
the network, in batches of 32) and the rate of the network alone on aligned faces. Writes
benchmarks/results/embedders.json.

    python benchmarks/bench_embedders.py [--faces 64] [--size 512] [--seed 0]
"""
import argparse
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from gestaltm3d.core import MissingWeightsError, atomic_write_json, project_root, setup_logging, weights_path
from gestaltm3d.face_embedders import ArcFaceEmbedder, DlibEmbedder
from gestaltm3d.render import degrade, render_face, sample_identity, sample_pose


def render_faces(count: int, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    "Render `count` photos of random identities, each degradation applied with probability 0.3."
    photos = []
    for _ in range(count):
        flags = {name: bool(rng.random() < 0.3) for name in ("grayscale", "low_resolution", "blur", "clutter")}
        face = render_face(sample_identity(rng), [], rng, size=size, pose=sample_pose(rng))
        photos.append(degrade(face, rng, **flags).image)
    return photos


def iresnet50_onnx(path: Path, seed: int) -> Path:
    "Export a random-weight network with ArcFace R50's layer layout to ONNX: input [N, 3, 112, 112], output [N, 512]."
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, inputs: int, channels: int, stride: int):
            super().__init__()
            self.body = nn.Sequential(
                nn.BatchNorm2d(inputs), nn.Conv2d(inputs, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels),
                nn.PReLU(channels), nn.Conv2d(channels, channels, 3, stride, 1, bias=False), nn.BatchNorm2d(channels))
            self.shortcut = nn.Identity() if stride == 1 and inputs == channels else nn.Sequential(
                nn.Conv2d(inputs, channels, 1, stride, bias=False), nn.BatchNorm2d(channels))

        def forward(self, x):
            return self.body(x) + self.shortcut(x)

    torch.manual_seed(seed)
    layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64)]
    inputs = 64
    for blocks, channels in zip((3, 4, 14, 3), (64, 128, 256, 512)):
        for index in range(blocks):
            layers.append(Block(inputs, channels, 2 if index == 0 else 1))
            inputs = channels
    layers += [nn.BatchNorm2d(512), nn.Flatten(), nn.Linear(512 * 7 * 7, 512), nn.BatchNorm1d(512)]
    network = nn.Sequential(*layers).eval()

    example = torch.zeros(1, 3, 112, 112)
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated, but the newer one needs onnxscript, which the project does not install.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(network, (example,), str(path), input_names=["input.1"], output_names=["embedding"],
                          dynamic_axes={"input.1": {0: "batch"}, "embedding": {0: "batch"}}, opset_version=17, dynamo=False)
    return path


def measure(embedder, photos: list[np.ndarray], repeats: int = 3) -> dict:
    "Time `embed` on the photos and the network alone on their aligned faces; return rates in images per second."
    embedder.embed(photos[:4], progress=False)  # warm-up: builds the detector and loads the models
    start = time.perf_counter()
    result = embedder.embed(photos, progress=False)
    end_to_end = time.perf_counter() - start

    aligned = [embedder.align_photo(photos[i]) for i in result.index]
    network_seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for i in range(0, len(aligned), embedder.batch_size):
            embedder.embed_aligned(aligned[i:i + embedder.batch_size])
        network_seconds.append(time.perf_counter() - start)
    network = min(network_seconds)
    return {"photos": len(photos), "embedded": len(result), "skipped": len(result.skipped),
            "end_to_end_images_per_s": round(len(photos) / end_to_end, 2),
            "network_images_per_s": round(len(aligned) / network, 2),
            "ms_per_image_end_to_end": round(1000 * end_to_end / len(photos), 1),
            "ms_per_image_network": round(1000 * network / len(aligned), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=64, help="rendered photos to embed")
    parser.add_argument("--size", type=int, default=512, help="photo side in pixels")
    parser.add_argument("--seed", type=int, default=0, help="seed of the renderer and of the stand-in weights")
    args = parser.parse_args()
    setup_logging("WARNING")

    photos = render_faces(args.faces, args.size, np.random.default_rng(args.seed))
    results = {}
    results["dlib"] = measure(DlibEmbedder(), photos)
    print("dlib", results["dlib"])

    with tempfile.TemporaryDirectory(prefix="bench-embedders-") as tmp:
        try:
            arcface_path, weights = weights_path("arcface_r50"), "w600k_r50.onnx"
        except MissingWeightsError:
            arcface_path, weights = iresnet50_onnx(Path(tmp) / "iresnet50_random.onnx", args.seed), "stand-in: IResNet-50 layout, random weights"
        arcface = ArcFaceEmbedder(arcface_path, providers=["CPUExecutionProvider"])
        results["arcface"] = {"weights": weights, **measure(arcface, photos)}
        print("arcface", results["arcface"])

    record = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                          "processor": platform.processor()},
              "settings": vars(args), "results": results}
    path = atomic_write_json(project_root() / "benchmarks" / "results" / "embedders.json", record)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
