import json

import pandas as pd

from studies.index import write_index


def fake_run(folder, profile, verdict):
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"study": "dropout", "variant": "original", "profile": profile,
                                                 "context": "Fashion-MNIST · n = 5 seeds", "figures": ["loss.png"],
                                                 "trials": 10, "planned": 10, "wall_time_s": 12.0}))
    pd.DataFrame([{"claim": "narrower_gap", "says": "Dropout narrows the gap", "relation": "<", "point": "final",
                   "metric": "accuracy", "split": "train-test", "article_value": "", "measured": "a - b: -0.05",
                   "verdict": verdict}]).to_csv(folder / "claims.csv", index=False)


def test_index_lists_every_full_run_claim_and_leaves_out_smoke(tmp_path):
    fake_run(tmp_path / "dropout", "full", "PASS")
    fake_run(tmp_path / "dropout" / "smoke", "smoke", "FAIL")
    text = write_index(tmp_path).read_text()
    assert "| [dropout](dropout/summary.md) | original | narrower_gap | Dropout narrows the gap | a - b: -0.05 | **PASS** |" in text
    assert "FAIL |" not in text and "[loss.png](dropout/loss.png)" in text
