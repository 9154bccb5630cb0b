"""A toy study report from synthetic trial tables: no config, no training, known numbers."""
import json
from types import SimpleNamespace

import pandas as pd

from studies.config.contract import Claim, Column, Figure
from studies.report.study_report import write_report
from studies.run.plan import Plan
from studies.stats.verdicts import diverged_runs, judge

FIGURES = (Figure("loss", metric="loss", splits=("train", "test"), ylabel="loss", title="Toy loss",
                  panel_per_arm=True, twin_metric="accuracy"),
           Figure("accuracy", metric="accuracy", splits=("test",), ylabel="accuracy", title="Toy accuracy"))
CLAIMS = (Claim("b_stops_near_3", "B stops near epoch 3", metric="loss", split="test", point="stop",
                relation="approx", arms=("b",), value=3, tolerance=1, article_value="3", article_marks=(("b", 3),)),
          Claim("a_accurate", "A ends near 0.8 accuracy", metric="accuracy", split="test", point="final",
                relation="approx", arms=("a",), value=0.8, tolerance=0.1, article_value="0.84",
                article_marks=(("a", 0.84),)),
          Claim("a_beats_b", "A ends with a higher test accuracy than B", metric="accuracy", split="test",
                point="final", relation=">", arms=("a",), versus=("b",)))
CONTRACT = SimpleNamespace(FIGURES=FIGURES, CLAIMS=CLAIMS,
                           SUMMARY=(Column("final test accuracy", metric="accuracy", split="test", point="final"),))


def stop_epochs(seeds: int = 3) -> dict:
    """(arm, seed) -> stop epoch: a runs 5 epochs, b stops early at 5, 3, 4, 5, 3, 4, ... (so a - b in final test
    accuracy is 0.2, 0.44, 0.32 in turn: a ahead in every seed)."""
    return {(arm, seed): 5 if arm == "a" else (5, 3, 4)[seed % 3] for arm in ("a", "b") for seed in range(seeds)}


def toy_plan(seeds: int = 3) -> Plan:
    trials = tuple(SimpleNamespace(arm=arm, train=SimpleNamespace(early_stopping=None))
                   for arm, _ in stop_epochs(seeds))
    return Plan(study="toy", variant="original", default_variant="original", profile="full", engine="keras",
                arms={"a": "arm A", "b": "arm B"}, trials=trials, contract=CONTRACT, looks=(seeds,))


def toy_tables(seeds: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(trials, epochs) of `seeds` seeds per arm (stop_epochs); accuracy rises towards 0.8 (A) or 0.6 (B)."""
    trials, epochs = [], []
    for (arm, seed), stop in stop_epochs(seeds).items():
        trial_id, top = f"{arm}{seed}", 0.8 if arm == "a" else 0.6
        trials.append({"trial_id": trial_id, "arm": arm, "seed": seed, "status": "ok", "message": "",
                       "stop_epoch": stop, "wall_time_s": 1.5, "engine": "keras", "dataset": "fashion_mnist",
                       "data_source": "synthetic", "data_checksum": "ab" * 32, "device": "CPU: toy",
                       "versions_json": json.dumps({"keras": "3.0"}), "final_json": "{}",
                       "sizes_json": json.dumps({"train": 1000, "test": 500}),
                       "config_json": json.dumps({"train": {"epochs": max(stop_epochs(seeds).values())}})})
        for epoch in range(1, stop + 1):
            accuracy = top * epoch / 5 + 0.01 * seed
            epochs += [{"trial_id": trial_id, "arm": arm, "seed": seed, "epoch": epoch, "split": split,
                        "metric": metric, "value": value}
                       for split in ("train", "test")
                       for metric, value in (("accuracy", accuracy), ("loss", 1 - accuracy))]
    return pd.DataFrame(trials), pd.DataFrame(epochs)


def toy_report(plan: Plan, trials: pd.DataFrame, epochs: pd.DataFrame, folder) -> list:
    """write_report with the verdicts judged on every finished trial (as the harness's one look of a fixed n_seeds)."""
    finished = trials[trials["status"] == "ok"]
    ok_epochs = epochs[epochs["trial_id"].isin(finished["trial_id"])]
    verdicts = judge(plan.claims, ok_epochs, finished, diverged_runs(trials))
    return write_report(plan, trials, epochs, folder, verdicts)
