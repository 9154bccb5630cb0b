"""The benchmarks' helpers that train nothing: the keras worker's protocol, the replica-scaling table, and
the GPU check's records of its steps and of what a Python lacks."""
import pytest

from bench import gpu, replicas
from bench.keras_worker import serve


class CountingStepper:
    def __init__(self):
        self.steps, self.finished = 0, False

    def timed_step(self) -> float:
        self.steps += 1
        return 0.5

    def finish(self) -> None:
        self.finished = True


def test_the_worker_answers_each_step_with_its_seconds_then_finishes():
    stepper, answers = CountingStepper(), []
    serve(stepper, iter(["step\n", "step\n", "finish\n", "step\n"]), answers.append)
    assert answers == ["ready", "0.5", "0.5", "done"]
    assert (stepper.steps, stepper.finished) == (2, True)


def test_the_worker_rejects_an_unknown_request():
    with pytest.raises(ValueError, match="unknown request 'jump'; valid: step, finish"):
        serve(CountingStepper(), iter(["jump\n"]), lambda line: None)


def test_replica_rows_are_medians_per_replica_against_the_smallest_stack():
    rows = replicas.summary({20: [0.2, 0.4, 0.3], 100: [1.2, 1.0, 1.1]})
    assert [row["replicas"] for row in rows] == [20, 100]
    assert rows[0]["replica_epoch_s"] == pytest.approx(0.015) and rows[1]["replica_epoch_s"] == pytest.approx(0.011)
    assert rows[1]["replica_speedup_vs_smallest"] == pytest.approx(0.015 / 0.011)


def test_gpu_steps_keep_status_and_seconds_and_mark_a_step_out_of_time(tmp_path):
    path = tmp_path / "steps.tsv"
    path.write_text("install\t0\t12.5\nstudy\t124\t210.0\n")
    assert gpu.steps(path) == {"install": {"status": 0, "timed_out": False, "seconds": 12.5},
                               "study": {"status": 124, "timed_out": True, "seconds": 210.0}}


def test_gpu_missing_names_the_distributions_that_do_not_import(monkeypatch, capsys):
    monkeypatch.setattr(gpu, "PACKAGES", (("keras", "keras"), ("no-such-distribution", "no_such_module_here")))
    gpu.missing()
    assert capsys.readouterr().out == "no-such-distribution\n"


def test_baselines_time_their_replicas_and_only_model_fit_counts_for_the_goals():
    import json
    import os
    from types import SimpleNamespace

    import keras

    from bench.workloads import BASELINES

    workload, by_name = SimpleNamespace(replicas=8), {b.name: b for b in BASELINES}
    per_core, vmap_loop = by_name["fit_jax_per_core"], by_name["vmap_optax"]
    assert per_core.replicas_per_epoch(workload) == len(os.sched_getaffinity(0)) and per_core.single_model()
    assert by_name["fit_tensorflow_spe10"].replicas_per_epoch(workload) == 1
    assert vmap_loop.replicas_per_epoch(workload) == 8 and not vmap_loop.single_model()
    # only engine=keras on the running backend runs in the benchmark's process, which sets engine=fast's XLA flag
    assert [b.name for b in BASELINES if b.in_this_process()] == [f"keras_{keras.backend.backend()}"]
    assert json.loads(by_name["fit_jax_epoch"].settings(replica=3)) == {
        "runner": "tuned_fit", "steps_per_execution": None, "replica": 3}
    assert [dict(by_name[f"fit_tensorflow_{n}"].options)["steps_per_execution"] for n in ("spe1", "spe10", "epoch")] \
        == [1, 10, None]
