"""The engine comparison: identical, statistically agreeing and differing arms told apart."""
import json

import numpy as np
import pandas as pd

from studies.engine_agreement import compare, main


def trials_table(shift: dict, noise: dict, seeds: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for arm in shift:
        for seed in range(seeds):
            keras_loss = 0.5 + 0.05 * rng.standard_normal()
            for engine, loss in (("keras", keras_loss),
                                 ("fast", keras_loss + shift[arm] + noise[arm] * rng.standard_normal())):
                rows.append({"trial_id": f"{engine}{arm}{seed}", "variant": "original", "profile": "full",
                             "arm": arm, "seed": seed, "engine": engine, "status": "ok", "stop_epoch": 10,
                             "final_json": json.dumps({"loss": loss})})
    return pd.DataFrame(rows)


def test_identical_agreeing_and_differing_arms():
    table = compare(trials_table(shift={"same": 0.0, "noisy": 0.0, "shifted": 0.1},
                                 noise={"same": 0.0, "noisy": 0.01, "shifted": 0.01}))
    verdicts = table.set_index(["arm", "metric"])["verdict"]
    assert verdicts[("same", "loss")] == "identical" and verdicts[("same", "stop_epoch")] == "identical"
    assert verdicts[("noisy", "loss")] == "agree"
    assert verdicts[("shifted", "loss")] == "DIFFER"
    shifted = table.set_index(["arm", "metric"]).loc[("shifted", "loss")]
    assert 0 < shifted["low"] and abs(shifted["difference"] - 0.1) < 0.03 and shifted["n"] == 8


def test_only_arms_run_by_both_engines_are_compared():
    table = trials_table(shift={"a": 0.0}, noise={"a": 0.0})
    assert compare(table[table["engine"] == "fast"]).empty


def test_missing_store_is_a_one_line_error(tmp_path, capsys):
    assert main(["--results", str(tmp_path / "nowhere")]) == 2
    assert "no trial store at" in capsys.readouterr().err
