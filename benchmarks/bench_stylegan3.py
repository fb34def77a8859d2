"""StyleGAN3 on CPU: training throughput of the tiny networks, conditioning on toy shapes, and the demo run.

Run from the repository root:
    .venv/bin/python benchmarks/bench_stylegan3.py                # throughput + toy conditioning (about 8 minutes)
    .venv/bin/python benchmarks/bench_stylegan3.py --demo         # also runs params/stylegan3_demo.yaml (about 15 minutes)
    .venv/bin/python benchmarks/bench_stylegan3.py --only demo    # the demo run alone

Writes benchmarks/results/stylegan3.json, keeping the sections that were not rerun.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from gestaltm3d.core import atomic_write_json, setup_logging
from gestaltm3d.sg3_networks import SG3Config
from gestaltm3d.sg3_train import GANTrainConfig, GANTrainer, make_toy_shapes, train_gan
from gestaltm3d.stylegan3 import class_check, generate

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "stylegan3.json"


def throughput(resolution: int, threads: int, batch_size: int = 16, steps: int = 16, warmup: int = 1) -> dict:
    "Time training steps of the tiny network (ADA on) and return images/s and s/kimg."
    torch.set_num_threads(threads)
    images, labels = make_toy_shapes(num_classes=11, per_class=8, resolution=resolution)
    trainer = GANTrainer(SG3Config.tiny(resolution, c_dim=11), GANTrainConfig(batch_size=batch_size), labels)
    for step in range(warmup + steps):
        if step == warmup:
            started = time.perf_counter()
        index = torch.randint(len(images), (batch_size,))
        trainer.step(images[index], labels[index])
    seconds = time.perf_counter() - started
    rate = steps * batch_size / seconds
    # R1 runs on steps 0, 16, 32 and so on, so the 16 timed steps 1-16 include one R1 step, as a long run does on average.
    return {"resolution": resolution, "threads": threads, "batch_size": batch_size, "timed_steps": steps,
            "images_per_second": round(rate, 2), "sec_per_kimg": round(1000 / rate, 1)}


def toy_network(num_classes: int) -> SG3Config:
    "Return a 16 px network, smaller than the tiny configs, that learns toy shapes in minutes on one core."
    return SG3Config(z_dim=16, w_dim=16, c_dim=num_classes, img_resolution=16, channel_base=256, channel_max=16,
                     num_layers=4, num_critical=1, d_channel_base=256, d_channel_max=32)


def toy_conditioning(kimg: float = 10.0, num_classes: int = 4, resolution: int = 16, threads: int = 1,
                     samples_per_class: int = 50, truncation_psi: float = 0.7) -> dict:
    "Train on coloured shapes, then let a CNN trained on real shapes label the samples."
    torch.set_num_threads(threads)
    images, labels = make_toy_shapes(num_classes=num_classes, per_class=64, resolution=resolution, seed=0)
    config = GANTrainConfig(kimg=kimg, batch_size=8, tick_kimg=0.5, augment="none", r1_gamma=0.01, seed=0)
    with tempfile.TemporaryDirectory(prefix="bench_stylegan3_") as run_dir:
        started = time.perf_counter()
        result = train_gan(images, labels, run_dir, toy_network(num_classes), config)
        train_seconds = time.perf_counter() - started
    generator = result["trainer"].G_ema
    seeds = list(range(samples_per_class))
    samples = torch.cat([generate(generator, c, seeds, truncation_psi) for c in range(num_classes)])
    sample_labels = torch.arange(num_classes).repeat_interleave(samples_per_class).numpy()
    real, real_labels = make_toy_shapes(num_classes=num_classes, per_class=48, resolution=resolution, seed=1)
    patients = [f"toy{i}" for i in range(len(real))]
    checked = class_check(real, real_labels.numpy(), patients, samples, sample_labels,
                          [f"class{i}" for i in range(num_classes)], epochs=10, n_boot=1000)
    return {"num_classes": num_classes, "resolution": resolution, "network": toy_network(num_classes).to_dict(),
            "kimg": result["kimg"], "threads": threads,
            "train_seconds": round(train_seconds, 1), "truncation_psi": truncation_psi,
            "samples_per_class": samples_per_class,
            **{key: value for key, value in checked.items() if key.startswith("class_check")},
            "target": "sample accuracy >= 0.9 after <= 300 s of training"}


def demo_run(params: str = "params/stylegan3_demo.yaml", threads: int = 2) -> dict:
    "Run the demo GAN job through its module entry point and return its wall time and metrics."
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    process = subprocess.run([sys.executable, "-m", "gestaltm3d.stylegan3", "-p", params], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"demo run failed:\n{process.stderr[-3000:]}")
    metrics = json.loads((ROOT / "runs" / "stylegan3_demo" / "metrics.json").read_text())
    keep = ("kimg", "fid", "kid", "kid_std", "precision", "recall", "feature_extractor", "class_check_real_acc",
            "class_check_real_ci", "class_check_sample_acc", "class_check_sample_ci", "class_check_n_real",
            "class_check_n_samples", "n_train_images", "sec_per_kimg", "augment_p")
    return {"params": params, "threads": threads, "wall_seconds": round(seconds, 1), **{key: metrics[key] for key in keep},
            "target": "wall time <= 900 s on 2 CPU cores"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="also run the demo GAN job (about 15 minutes)")
    parser.add_argument("--only", choices=("throughput", "toy", "demo"), help="run one section")
    parser.add_argument("--demo-threads", type=int, default=2, help="torch threads of the demo run")
    arguments = parser.parse_args()
    setup_logging("WARNING")
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    results["machine"] = f"{os.cpu_count()} CPU cores, torch {torch.__version__}, no GPU"
    sections = [arguments.only] if arguments.only else ["throughput", "toy"] + (["demo"] if arguments.demo else [])

    if "throughput" in sections:
        results["throughput"] = [throughput(resolution, threads) for resolution in (64, 32) for threads in (1, 2)]
        for entry in results["throughput"]:
            print(f"tiny {entry['resolution']} px, {entry['threads']} threads: {entry['images_per_second']} img/s, "
                  f"{entry['sec_per_kimg']} s/kimg")
    if "toy" in sections:
        results["toy_conditioning"] = toy_conditioning()
        toy = results["toy_conditioning"]
        print(f"toy shapes: {toy['kimg']} kimg in {toy['train_seconds']} s; class check on samples "
              f"{toy['class_check_sample_acc']:.3f} (95 % CI {toy['class_check_sample_ci'][0]:.3f}-"
              f"{toy['class_check_sample_ci'][1]:.3f}), on real shapes {toy['class_check_real_acc']:.3f}")
    if "demo" in sections:
        results["demo"] = demo_run(threads=arguments.demo_threads)
        demo = results["demo"]
        print(f"demo: {demo['kimg']} kimg in {demo['wall_seconds']} s; FID {demo['fid']:.2f}, KID {demo['kid']:.4f}; "
              f"class check real {demo['class_check_real_acc']:.3f}, samples {demo['class_check_sample_acc']:.3f} "
              f"(95 % CI {demo['class_check_sample_ci'][0]:.3f}-{demo['class_check_sample_ci'][1]:.3f})")
    # Other processes on the machine slow every number above, so the load during the run is recorded with them.
    results.setdefault("load_average", {})
    results["load_average"].update({section: round(os.getloadavg()[1], 2) for section in sections})
    atomic_write_json(RESULTS, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
