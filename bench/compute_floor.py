"""B4: a reproduction's run time against its float32 compute floor.

The floor is the run's training and evaluation FLOPs (bench/flops.py: Dense matmuls only) divided by the
peak float32 matmul FLOP/s of the run: the highest of the rate measured in this invocation and those given
by --earlier-matmul-gflops (measured by `--matmul-only` before the reproduction, in the same run, so that a
rate measured under load does not lower the floor's peak). Per stored trial:
  training   = training FLOPs per sample x samples trained (the epochs it actually ran, stop_epoch)
  evaluation = forward FLOPs per sample x (validation samples x epochs + test samples
               + training samples x epochs where train.evaluate_train evaluates them after every epoch)
Trials that failed, and trials stored before sizes_json existed, are left out. The table compares each (study,
variant, engine) group's stored trial wall times with its floor; `--wall-time` adds the whole `make reproduce`.

    python -m bench.compute_floor --matmul-only     # prints the running backend's matmul GFLOP/s
    python -m bench.compute_floor --results results [--engine fast --wall-time SECONDS] \
        [--earlier-matmul-gflops GFLOPS ...] [--output FILE.md]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from studies.runtime.backend import import_backend_quietly  # noqa: E402

import_backend_quietly()  # the store's modules import TensorFlow

import pandas as pd  # noqa: E402

from bench.flops import dense_sizes, forward_flops, matmul_flops_per_second, training_flops  # noqa: E402
from bench.machine import load_average, machine_info  # noqa: E402
from studies.config.settings import DatasetSpec, ModelSpec, TrainSpec  # noqa: E402
from studies.report.document import Heading, Paragraph, Table, markdown  # noqa: E402
from studies.store.trial_store import COMPLETE, TrialStore  # noqa: E402

GROUP = ["study", "variant", "engine"]
CLASSES = 10  # every study's dataset has 10 classes unless the trial keeps a subset


def trained_samples(train_size: int, batch_size: int, steps_per_epoch: int | None, epochs: int) -> int:
    """Samples seen in `epochs` epochs: each pass over the data ends in a partial batch, and an epoch is
    `steps_per_epoch` batches of that stream (one pass when None), as both engines run it."""
    per_pass = math.ceil(train_size / batch_size)
    passes, steps_left = divmod(epochs * (steps_per_epoch or per_pass), per_pass)
    return passes * train_size + steps_left * batch_size


def with_defaults(spec, stored: dict) -> dict:
    """A stored spec with the fields it predates (trials stored before a setting existed) at their defaults."""
    return {**dataclasses.asdict(spec()), **stored}


def trial_flops(config: dict, sizes: dict, epochs: int) -> tuple[int, int]:
    """(training, evaluation) FLOPs of one stored trial."""
    model, train, dataset = (with_defaults(spec, config[key])
                             for spec, key in ((ModelSpec, "model"), (TrainSpec, "train"), (DatasetSpec, "dataset")))
    outputs = model["output_units"] or (len(dataset["classes"]) if dataset["classes"] else CLASSES)
    layers = dense_sizes(model["hidden_units"], outputs)
    samples = trained_samples(sizes["train"], train["batch_size"], train["steps_per_epoch"], epochs)
    train_evaluations = sizes["train"] * epochs if train["evaluate_train"] else 0  # the book's train_eval split
    return (training_flops(layers) * samples,
            forward_flops(layers) * (sizes.get("val", 0) * epochs + train_evaluations + sizes["test"]))


def stored_trials(results: Path, profile: str, engine: str | None = None) -> pd.DataFrame:
    """Every completed trial of `profile` (and `engine`, if given) in the store, with its FLOPs."""
    store = TrialStore(results)
    studies = sorted(p.name for p in (results / "trials").iterdir() if p.is_dir())
    trials = pd.concat([store.trials(study) for study in studies], ignore_index=True)
    trials = trials[trials["status"].isin(COMPLETE) & (trials["profile"] == profile)
                    & trials["sizes_json"].notna()  # stores older than sizes_json cannot be counted
                    & (trials["engine"] == engine if engine else True)].copy()
    flops = [trial_flops(json.loads(c), json.loads(s), int(e))
             for c, s, e in zip(trials["config_json"], trials["sizes_json"], trials["stop_epoch"])]
    trials["training_flops"] = [f[0] for f in flops]
    trials["evaluation_flops"] = [f[1] for f in flops]
    return trials


def floor_table(trials: pd.DataFrame, flops_per_second: float) -> pd.DataFrame:
    """Per (study, variant, engine), per engine, and (with several engines) in all: trials, FLOPs, floor seconds,
    trial seconds, their ratio."""
    groups = trials.groupby(GROUP, sort=True).agg(trials=("trial_id", "size"), training_flops=("training_flops", "sum"),
                                                  evaluation_flops=("evaluation_flops", "sum"),
                                                  trial_s=("wall_time_s", "sum")).reset_index()
    totals = groups.drop(columns=["study", "variant"]).groupby("engine").sum().reset_index().assign(study="total",
                                                                                                   variant="")
    if len(totals) > 1:  # the last row is always everything selected: what `--wall-time` is compared with
        totals = pd.concat([totals, totals.drop(columns=GROUP).sum().to_frame().T.assign(study="total", variant="",
                                                                                           engine="all")])
    table = pd.concat([groups, totals], ignore_index=True)
    table["flops"] = table["training_flops"] + table["evaluation_flops"]
    table["floor_s"] = table["flops"] / flops_per_second
    table["ratio"] = table["trial_s"] / table["floor_s"]
    return table


def machine_line() -> str:
    """The CPU, its SIMD flags that matter, cores and the load now (a floor is only as good as its matmul rate)."""
    info = machine_info()
    flags = " ".join(info["cpu_flags"]) or "none listed"
    return (f"Machine: {info['cpu_model']}, {info['cores']} cores, flags {flags}; "
            f"load average now {', '.join(map(str, load_average()))} (1, 5, 15 min); Keras backend "
            f"{info['libraries'].get('keras_backend', '?')}.")


def report(table: pd.DataFrame, flops_per_second: float, rate_source: str, wall_time: float | None) -> str:
    rows = tuple((r.study, r.variant, r.engine, int(r.trials), f"{r.training_flops / 1e12:.3f}",
                  f"{r.evaluation_flops / 1e12:.3f}", f"{r.floor_s:.1f}", f"{r.trial_s:.1f}", f"{r.ratio:.2f}")
                 for r in table.itertuples())
    blocks = [Heading("Compute floor (B4)", 1),
              Paragraph((machine_line(),)),
              Paragraph((f"float32 matmul: {flops_per_second / 1e9:.1f} GFLOP/s ({rate_source}). Floor = FLOPs / "
                         "that rate; ratio = stored trial wall time / floor.",)),
              Table(("study", "variant", "engine", "trials", "train TFLOP", "eval TFLOP", "floor s", "trial time s",
                     "ratio"), rows)]
    if wall_time is not None:
        floor = table["floor_s"].iloc[-1]
        blocks.append(Paragraph((f"End to end (`make reproduce`): {wall_time:.0f} s = {wall_time / floor:.2f} x the "
                                 f"floor of {floor:.0f} s (goal: within 1.5 x).",)))
    return markdown(blocks)


def peak_rate(args) -> tuple[float, str]:
    """(FLOP/s, where it came from): the given rate, else the peak of the one measured now and the earlier ones."""
    if args.matmul_gflops:
        return args.matmul_gflops * 1e9, "given"
    now = matmul_flops_per_second(args.matmul_size)
    earlier = ", ".join(f"{rate:.1f}" for rate in args.earlier_matmul_gflops)
    source = f"{args.matmul_size}x{args.matmul_size}, measured now: {now / 1e9:.1f}" + (
        f"; earlier in this run: {earlier}; the peak of them" if earlier else "")
    return max([now, *(rate * 1e9 for rate in args.earlier_matmul_gflops)]), source


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"), help="the trial store")
    parser.add_argument("--profile", default="full", help="the profile whose trials count")
    parser.add_argument("--engine", help="count only this engine's trials (the one `make reproduce` ran)")
    parser.add_argument("--wall-time", type=float, help="seconds `make reproduce` took end to end")
    parser.add_argument("--output", type=Path, help="also write the Markdown table here")
    parser.add_argument("--matmul-size", type=int, default=4096)
    parser.add_argument("--matmul-gflops", type=float, help="use this rate instead of measuring it")
    parser.add_argument("--earlier-matmul-gflops", type=float, nargs="+", default=[],
                        help="rates measured earlier in the same run (--matmul-only): the floor uses the peak")
    parser.add_argument("--matmul-only", action="store_true", help="print the matmul GFLOP/s measured now, and stop")
    args = parser.parse_args(argv)
    if args.matmul_only:
        print(f"{matmul_flops_per_second(args.matmul_size) / 1e9:.2f}")
        return
    if not (args.results / "trials").is_dir():
        parser.exit(2, f"compute_floor: error: no trial store at {args.results} (give --results the folder that "
                       "holds trials/)\n")
    rate, source = peak_rate(args)
    text = report(floor_table(stored_trials(args.results, args.profile, args.engine), rate), rate, source,
                  args.wall_time)
    print(text, end="")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)


if __name__ == "__main__":
    main()
