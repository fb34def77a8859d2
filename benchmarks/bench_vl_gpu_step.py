"""Measure one training step of a 7B-sized Qwen2.5-VL classifier: step time and peak GPU memory.

The prepared GPU check of the main job. It builds a Qwen2.5-VL base model with the published 7B
layer sizes and random weights (nothing is downloaded) and wraps it in `VLClassifier` as the main
job does ([CLS] pooling, a linear head over the ten syndromes). Training follows
`params/qwen2_5_vl_7b_ten_disease.yaml` with LoRA and gradient checkpointing added: the language
model is frozen with LoRA adapters on it, the vision tower and merger train, and float32 weights
run under bfloat16 autocast (the job's default on GPUs that support it). Each batch contains
`--batch` rendered synthetic faces at 224 px and prompts of `--terms` HPO term names. After
`--warmup` steps it times `--steps` steps and reports the median step time, samples per second
and the peak memory that PyTorch allocated.

`--size tiny` runs the same code path with the tiny offline backbone's sizes on CPU (under a minute
on 2 cores), so the script is tested where no GPU is available.

Writes benchmarks/results/vl_gpu_step.json (or `--out`).

    python benchmarks/bench_vl_gpu_step.py                        # 7B-sized, needs a GPU (an estimated 80 GB)
    python benchmarks/bench_vl_gpu_step.py --size tiny --device cpu
    python benchmarks/bench_vl_gpu_step.py --count-only           # parameter count only, no memory used
"""
import argparse
import contextlib
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

from gestaltm3d.core import atomic_write_json, project_root, seed_everything, setup_logging
from gestaltm3d.hpo import get_term
from gestaltm3d.render import render_face, sample_identity, sample_pose
from gestaltm3d.syndromes import syndrome_names
from gestaltm3d.vl_backbones import Backbone, load_backbone, tiny_backbone_path
from gestaltm3d.vl_classifier import VLClassifier, VLClassifierConfig

# Layer sizes of Qwen2.5-VL-7B-Instruct, written from its published config.json.
# NOTE: not compared with a downloaded copy; check them against the checkpoint before citing a figure.
SIZES_7B = {
    "text": dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
                 num_key_value_heads=4, vocab_size=152064,
                 rope_parameters=dict(rope_type="default", rope_theta=1e6, mrope_section=[16, 24, 24])),
    "vision": dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=3584,
                   window_size=112, fullatt_block_indexes=[7, 15, 23, 31]),
}

# HPO terms of a typical Cornelia de Lange syndrome prompt. Only the prompt length matters here.
PROMPT_TERMS = ("HP:0000664", "HP:0000574", "HP:0000527", "HP:0000343", "HP:0000219", "HP:0002714", "HP:0000347",
                "HP:0000431", "HP:0000463", "HP:0001249", "HP:0004322", "HP:0000252", "HP:0001680", "HP:0002650",
                "HP:0000486", "HP:0000369", "HP:0001156", "HP:0000194", "HP:0000316", "HP:0002019")


def build_classifier(size: str, device: torch.device, dtype: torch.dtype) -> VLClassifier:
    "Build a random-weight classifier of the requested size on `device`, reusing the tiny backbone's processor."
    tiny = load_backbone(tiny_backbone_path("qwen2_5_vl"), dtype=torch.float32)
    config = tiny.model.config
    if size == "7b":
        for name, value in SIZES_7B["text"].items():
            setattr(config.text_config, name, value)
        for name, value in SIZES_7B["vision"].items():
            setattr(config.vision_config, name, value)
        if getattr(config.text_config, "layer_types", None):  # one entry per layer, set when the tiny config was made
            config.text_config.layer_types = [config.text_config.layer_types[0]] * config.text_config.num_hidden_layers
        if hasattr(config.text_config, "head_dim"):
            config.text_config.head_dim = config.text_config.hidden_size // config.text_config.num_attention_heads
        previous = torch.get_default_dtype()
        torch.set_default_dtype(dtype)
        try:
            with torch.device(device):
                model = type(tiny.model)(config)
        finally:
            torch.set_default_dtype(previous)
    else:
        model = tiny.model.to(device=device, dtype=dtype)
    backbone = Backbone(model=model, processor=tiny.processor, family=tiny.family, source=f"random {size} Qwen2.5-VL")
    names = syndrome_names()
    classifier = VLClassifier(VLClassifierConfig(backbone=backbone.source, num_labels=len(names), labels=names),
                              backbone=backbone)
    return classifier.to(device)


def make_batch(classifier: VLClassifier, batch: int, terms: int, device: torch.device, seed: int) -> dict:
    "Return model inputs for `batch` rendered faces with `terms` HPO term names each, and labels."
    rng = np.random.default_rng(seed)
    faces = []
    for _ in range(batch):
        face = render_face(sample_identity(rng), [], rng, size=320, pose=sample_pose(rng))
        x0, y0, x1, y1 = (int(v) for v in face.box)
        faces.append(Image.fromarray(face.image).crop((x0, y0, x1, y1)).resize((224, 224), Image.Resampling.BILINEAR))
    names = [get_term(PROMPT_TERMS[i % len(PROMPT_TERMS)]).name for i in range(terms)]
    prompt = "; ".join(names)
    inputs = dict(classifier.prepare_inputs(faces, [prompt] * batch))
    inputs = {key: value.to(device) if torch.is_tensor(value) else value for key, value in inputs.items()}
    inputs["labels"] = torch.as_tensor(rng.integers(0, classifier.config.num_labels, batch), device=device)
    return inputs


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("7b", "tiny"), default="7b", help="layer sizes (default 7b)")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--batch", type=int, default=4, help="faces per step (default 4)")
    parser.add_argument("--terms", type=int, default=15, help="HPO term names per prompt (default 15)")
    parser.add_argument("--lora-rank", type=int, default=16, help="LoRA rank on the language model (default 16)")
    parser.add_argument("--weights-dtype", choices=("float32", "bfloat16"), default="float32",
                        help="dtype of the weights; float32 with bfloat16 autocast is the job's default (default float32)")
    parser.add_argument("--no-autocast", action="store_true", help="run without bfloat16 autocast")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="results file (default benchmarks/results/vl_gpu_step.json)")
    parser.add_argument("--count-only", action="store_true",
                        help="build the model on PyTorch's meta device (no memory), print its parameter count and stop")
    args = parser.parse_args(argv)
    if args.count_only:
        setup_logging("WARNING")
        classifier = build_classifier(args.size, torch.device("meta"), torch.float32)
        total = sum(p.numel() for p in classifier.backbone.parameters())
        print(f"{args.size}: {total / 1e9:.3f} B backbone parameters (vision {sum(p.numel() for p in classifier.hf_model.visual.parameters()) / 1e9:.3f} B)")
        return {"size": args.size, "backbone_parameters": total}
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if args.size == "7b" and device.type != "cuda":
        parser.error("the 7B-sized check needs a GPU (about 80 GB); use --size tiny --device cpu to test the script")
    setup_logging("WARNING")
    seed_everything(args.seed)

    start = time.perf_counter()
    classifier = build_classifier(args.size, device, getattr(torch, args.weights_dtype))
    classifier.freeze(language_model=True, vision_tower=False, merger=False)
    classifier.apply_lora(rank=args.lora_rank, alpha=2 * args.lora_rank)
    classifier.set_gradient_checkpointing(True)
    classifier.train()
    build_seconds = time.perf_counter() - start
    counts = classifier.trainable_parameter_counts()
    optimizer = torch.optim.AdamW([p for p in classifier.parameters() if p.requires_grad], lr=3e-5)
    inputs = make_batch(classifier, args.batch, args.terms, device, args.seed)
    use_autocast = not args.no_autocast and (device.type == "cpu" or torch.cuda.is_bf16_supported())

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, losses = [], []
    for step in range(args.warmup + args.steps):
        sync()
        began = time.perf_counter()
        autocast = torch.autocast(device.type, dtype=torch.bfloat16) if use_autocast else contextlib.nullcontext()
        with autocast:
            loss = classifier(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"invalid loss {float(loss.detach())} at step {step + 1}; lower the learning rate or check the inputs")
        losses.append(round(float(loss.detach()), 4))
        if step >= args.warmup:
            times.append(time.perf_counter() - began)
        print(f"step {step + 1}/{args.warmup + args.steps}: {time.perf_counter() - began:.3f} s, loss {losses[-1]}", flush=True)

    median = statistics.median(times)
    report = {
        "benchmark": "vl_gpu_step", "size": args.size, "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "batch": args.batch, "prompt_terms": args.terms, "sequence_length": int(inputs["input_ids"].shape[1]),
        "visual_tokens_per_image": int(inputs["image_grid_thw"][0].prod()) // 4,
        "lora_rank": args.lora_rank, "weights_dtype": args.weights_dtype, "bf16_autocast": use_autocast,
        "gradient_checkpointing": True, "trainable_parameters": counts,
        "total_parameters": sum(p.numel() for p in classifier.parameters()),
        "build_seconds": round(build_seconds, 1), "step_seconds_median": round(median, 4),
        "step_seconds": [round(t, 4) for t in times], "samples_per_second": round(args.batch / median, 2),
        "peak_memory_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None,
        "losses": losses,
        "versions": {"torch": torch.__version__, "python": platform.python_version()},
    }
    out = args.out or project_root() / "benchmarks" / "results" / "vl_gpu_step.json"
    atomic_write_json(out, report)
    memory = f", peak memory {report['peak_memory_gib']} GiB" if report["peak_memory_gib"] is not None else ""
    print(f"{args.size} on {report['device_name']}: median step {median:.3f} s ({report['samples_per_second']} samples/s)"
          f"{memory}; {report['total_parameters'] / 1e6:,.1f} M parameters; wrote {out}")
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
