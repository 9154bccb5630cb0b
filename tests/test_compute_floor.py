"""bench.compute_floor (B4) on a tiny synthetic trial store with hand-counted FLOPs; nothing is trained."""
import numpy as np
import pytest

from bench import compute_floor
from bench.flops import dense_sizes, forward_flops, training_flops
from studies.config.settings import DatasetSpec, ModelSpec, OptimizerSpec, TrainSpec, TrialSpec
from studies.data.datasets import Dataset
from studies.store.trial_result import TrialResult
from studies.store.trial_store import TrialStore

# 784-3-10: forward 2 x (784 x 3 + 3 x 10) = 4764; training 3 x 4764 - 2 x 784 x 3 = 9588 per sample.
FORWARD, TRAINING = 4764, 9588
DATASET = Dataset("toy", "synthetic", "ab" * 32, *(np.zeros((1, 1)), np.zeros(1)) * 2)


def toy_result(seed: int, stop_epoch: int, sizes: dict, steps_per_epoch=None, status="ok", profile="full",
               wall_time_s=2.0, engine="fast", evaluate_train=False) -> TrialResult:
    trial = TrialSpec("toy", "original", "a", "A", seed, engine, profile, DatasetSpec(), ModelSpec(hidden_units=(3,)),
                      OptimizerSpec(), TrainSpec(batch_size=32, epochs=9, steps_per_epoch=steps_per_epoch,
                                                 evaluate_train=evaluate_train))
    curves = {("train", "loss"): [1.0] * stop_epoch}  # as many epochs as it ran: the store checks that
    return TrialResult(trial, curves, {}, stop_epoch, None, wall_time_s, "CPU: toy", status=status, sizes=sizes)


def test_flop_counts_of_the_article001_mlp_and_a_toy_one():
    assert training_flops(dense_sizes([100] * 4, 10)) == 499600  # the "about 500k per sample"
    assert (forward_flops(dense_sizes([3], 10)), training_flops(dense_sizes([3], 10))) == (FORWARD, TRAINING)


@pytest.mark.parametrize("steps_per_epoch, epochs, samples", [(None, 2, 200), (3, 3, 232), (1, 1, 32), (None, 0, 0)])
def test_trained_samples_follow_the_batch_stream(steps_per_epoch, epochs, samples):
    # 100 samples in batches of 32: 4 batches per pass, the last one of 4 samples.
    assert compute_floor.trained_samples(100, 32, steps_per_epoch, epochs) == samples


def test_floor_table_from_a_store(tmp_path):
    store = TrialStore(tmp_path)
    for result in (toy_result(0, 2, {"train": 100, "val": 50, "test": 20}),
                   toy_result(1, 3, {"train": 100, "val": 0, "test": 20}, steps_per_epoch=3, evaluate_train=True),
                   toy_result(2, 5, {"train": 100, "val": 0, "test": 20}, status="failed"),
                   toy_result(3, 5, {"train": 100, "val": 0, "test": 20}, profile="smoke")):
        store.write(result, DATASET)
    table = compute_floor.floor_table(compute_floor.stored_trials(tmp_path, "full"), flops_per_second=1e6)
    training = TRAINING * (200 + 232)
    evaluation = FORWARD * ((50 * 2 + 20) + (100 * 3 + 20))  # seed 1 evaluates its 100 training samples each epoch
    for row in (table.iloc[0], table.iloc[-1]):  # the one group, and the total
        assert (row["trials"], row["training_flops"], row["evaluation_flops"]) == (2, training, evaluation)
        assert row["floor_s"] == pytest.approx((training + evaluation) / 1e6)
        assert row["ratio"] == pytest.approx(4.0 / row["floor_s"])


def test_totals_per_engine_then_in_all_and_the_engine_filter(tmp_path):
    store = TrialStore(tmp_path)
    for engine, wall_time_s in (("fast", 1.0), ("keras", 9.0)):
        store.write(toy_result(0, 1, {"train": 32, "val": 0, "test": 0}, engine=engine, wall_time_s=wall_time_s),
                    DATASET)
    table = compute_floor.floor_table(compute_floor.stored_trials(tmp_path, "full"), flops_per_second=1.0)
    totals = table[table["study"] == "total"]
    assert list(totals["engine"]) == ["fast", "keras", "all"] and list(totals["trial_s"]) == [1.0, 9.0, 10.0]
    only_fast = compute_floor.stored_trials(tmp_path, "full", engine="fast")
    assert list(only_fast["engine"]) == ["fast"]


def test_main_writes_the_markdown_table(tmp_path, capsys):
    TrialStore(tmp_path / "results").write(toy_result(0, 1, {"train": 32, "val": 0, "test": 0}), DATASET)
    output = tmp_path / "floor.md"
    compute_floor.main(["--results", str(tmp_path / "results"), "--matmul-gflops", "1e-6", "--wall-time", "10",
                        "--output", str(output)])
    text = output.read_text()
    assert text == capsys.readouterr().out
    floor = TRAINING * 32 / 1e3  # seconds at 1,000 FLOP/s
    assert "| toy | original | fast | 1 |" in text and f"{floor:.1f}" in text
    assert f"{10 / floor:.2f} x the floor" in text
    assert text.splitlines()[2].startswith("Machine: ") and " cores, flags " in text  # the rate's context


def test_the_floor_uses_the_peak_of_the_rates_measured_in_the_run(tmp_path, monkeypatch):
    TrialStore(tmp_path / "results").write(toy_result(0, 1, {"train": 32, "val": 0, "test": 0}), DATASET)
    output = tmp_path / "floor.md"
    for measured_now, peak in ((200e9, 200e9), (50e9, 100e9)):  # now above the earlier 100 GFLOP/s, then under it
        monkeypatch.setattr(compute_floor, "matmul_flops_per_second", lambda size, rate=measured_now: rate)
        compute_floor.main(["--results", str(tmp_path / "results"), "--earlier-matmul-gflops", "100",
                            "--wall-time", "1", "--output", str(output)])
        text = output.read_text()
        assert f"float32 matmul: {peak / 1e9:.1f} GFLOP/s (4096x4096, measured now: {measured_now / 1e9:.1f}; " \
               "earlier in this run: 100.0; the peak of them)" in text
        assert f"{1 / (TRAINING * 32 / peak):.2f} x the floor" in text


def test_matmul_only_prints_the_rate_measured_now(monkeypatch, capsys):
    monkeypatch.setattr(compute_floor, "matmul_flops_per_second", lambda size: 123.456e9)
    compute_floor.main(["--matmul-only", "--results", "/nonexistent"])
    assert capsys.readouterr().out == "123.46\n"


def test_a_folder_without_a_trial_store_is_a_one_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        compute_floor.main(["--results", str(tmp_path), "--matmul-gflops", "1"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == f"compute_floor: error: no trial store at {tmp_path} (give --results the " \
                                      "folder that holds trials/)\n"
