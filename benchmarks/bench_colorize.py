"""Time DDColor colorization on the CPU with random weights.

For each configuration it builds the network with random weights (no checkpoint is needed, because speed does not
depend on the weight values) and colorizes a few grayscale demo faces with `gestaltm3d.colorize.colorize_image`, after
one warm-up image. It reports the seconds per image for the whole procedure (CIELAB conversion, resize, network, gamut
mapping) and for the network's forward pass alone, the process CPU time per image (all threads), the parameter count
and the process's peak resident memory. Other processes slow the wall-clock times down, so the 1-minute load average
is recorded before and after.
The configurations are DDColor's tiny model (ConvNeXt-T, run at 256 px) and the model of the DDColor paper (Kang et
al., ICCV 2023: ConvNeXt-L, 512 px). `--skip-paper` leaves out the larger one. Writes benchmarks/results/colorize.json.

    python benchmarks/bench_colorize.py [--images 3] [--size 512] [--threads 0] [--skip-paper] [--seed 0]
"""
import argparse
import os
import platform
import resource
import sys
import time

import numpy as np
import torch
from tqdm.auto import tqdm

from gestaltm3d.colorize import _gray_input, colorize_image, rgb_to_lab
from gestaltm3d.core import atomic_write_json, project_root, setup_logging
from gestaltm3d.ddcolor_net import DDColorConfig, DDColorNet


def grayscale_faces(count: int, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    "Render `count` demo faces of size x size pixels and drop their colour."
    import cv2

    from gestaltm3d.face_identity import sample_identity
    from gestaltm3d.render import render_face

    faces = []
    for _ in range(count):
        image = render_face(sample_identity(rng, age_years=float(rng.uniform(1, 20))), [], rng, size=size).image
        faces.append(cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB))
    return faces


def peak_rss_gib() -> float:
    "Peak resident memory of this process so far, in GiB (Linux reports ru_maxrss in KiB)."
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def time_config(name: str, config: DDColorConfig, faces: list[np.ndarray]) -> dict:
    "Colorize one warm-up face and then every face; return seconds per image for the procedure and the forward pass."
    start = time.perf_counter()
    torch.manual_seed(0)
    net = DDColorNet(config).eval()
    build_seconds = time.perf_counter() - start

    colorize_image(net, faces[0])  # warm-up: first-call allocations and kernel selection

    procedure, forward, cpu = [], [], []
    for face in tqdm(faces, desc=name, unit="image"):
        start, start_cpu = time.perf_counter(), time.process_time()
        colorize_image(net, face)
        procedure.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)

        batch = torch.from_numpy(_gray_input(rgb_to_lab(face)[..., 0], config.input_size).transpose(2, 0, 1).copy())[None]
        start = time.perf_counter()
        with torch.inference_mode():
            net(batch)
        forward.append(time.perf_counter() - start)

    return dict(config=config.tag(), input_size=config.input_size, parameters=sum(p.numel() for p in net.parameters()),
                build_seconds=build_seconds, seconds_per_image=float(np.mean(procedure)),
                seconds_per_image_max=float(np.max(procedure)), forward_seconds_per_image=float(np.mean(forward)),
                cpu_seconds_per_image=float(np.mean(cpu)),
                peak_rss_gib_after=peak_rss_gib())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=3, help="timed images per configuration (after one warm-up)")
    parser.add_argument("--size", type=int, default=512, help="side of the grayscale demo faces in pixels")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads; 0 keeps torch's default")
    parser.add_argument("--skip-paper", action="store_true", help="time only the tiny model")
    parser.add_argument("--seed", type=int, default=0, help="seed of the face renderer")
    args = parser.parse_args(argv)
    if args.images < 1:
        parser.error(f"--images {args.images} must be at least 1")
    setup_logging()
    if args.threads:
        torch.set_num_threads(args.threads)

    load_before = os.getloadavg()[0]
    faces = grayscale_faces(args.images, args.size, np.random.default_rng(args.seed))
    configs = {"tiny": DDColorConfig.tiny()}
    if not args.skip_paper:
        configs["paper"] = DDColorConfig.paper()

    results = {name: time_config(name, config, faces) for name, config in configs.items()}
    result = dict(
        images=args.images, image_size=args.size, seed=args.seed, device="cpu", weights="random", results=results,
        machine=dict(python=sys.version.split()[0], platform=platform.platform(), cpus=os.cpu_count(),
                     torch=torch.__version__, torch_threads=torch.get_num_threads(),
                     load_average_1min_before=load_before, load_average_1min_after=os.getloadavg()[0]),
    )
    out = project_root() / "benchmarks" / "results" / "colorize.json"
    atomic_write_json(out, result)
    for name, row in results.items():
        print(f"{name} ({row['config']}, {row['parameters'] / 1e6:.1f} M parameters): "
              f"{row['seconds_per_image']:.2f} s/image at {args.size} px ({row['forward_seconds_per_image']:.2f} s forward, "
              f"{row['cpu_seconds_per_image']:.2f} CPU s), "
              f"peak RSS {row['peak_rss_gib_after']:.2f} GiB")
    print(f"load average {load_before:.1f} before, {result['machine']['load_average_1min_after']:.1f} after; wrote {out}")
    return result


if __name__ == "__main__":
    main()
