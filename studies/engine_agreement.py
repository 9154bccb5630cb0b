"""Do engine=fast and engine=keras give the same study results? From the trial store alone.

Trials of the two engines are paired by (variant, profile, arm, seed): same initial weights, same batch
order. For each final metric (evaluate() on the test set) and the stop epoch: the per-seed differences
fast - keras, their mean with a 95% t interval, and a two-sided paired t-test, Holm-corrected across a
study's comparisons. Verdict: `identical` where every difference is below 1e-4 relative (the float32
tolerance of the equivalence tests), `agree` where the corrected p-value is >= 0.05, `DIFFER` otherwise.

    python -m studies.engine_agreement --results results [--out reports/bench/engine_agreement.md]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from studies.atomic import write_text_atomic
from studies.stats import mean_ci
from studies.store import TrialStore
from studies.verdicts import ALPHA, holm, paired_test

ENGINES = ("keras", "fast")
KEYS = ["variant", "profile", "arm", "seed"]
IDENTICAL = 1e-4


def final_values(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per completed trial and metric: the evaluate() values and the stop epoch."""
    rows = []
    for trial in trials[trials["status"] == "ok"].itertuples():
        values = {**json.loads(trial.final_json), "stop_epoch": trial.stop_epoch}
        rows += [{**{k: getattr(trial, k) for k in KEYS + ["engine"]}, "metric": m, "value": float(v)}
                 for m, v in values.items()]
    return pd.DataFrame(rows, columns=KEYS + ["engine", "metric", "value"])


def compare(trials: pd.DataFrame) -> pd.DataFrame:
    """Per (variant, profile, arm, metric) where both engines ran the same seeds: the paired comparison."""
    values = final_values(trials).pivot_table(index=KEYS + ["metric"], columns="engine", values="value")
    if not set(ENGINES) <= set(values.columns):
        return pd.DataFrame()
    values = values.dropna(subset=list(ENGINES)).reset_index()
    rows = []
    for (variant, profile, arm, metric), group in values.groupby(["variant", "profile", "arm", "metric"]):
        difference = (group["fast"] - group["keras"]).to_numpy()
        scale = np.maximum(np.abs(group["keras"].to_numpy()), 1e-12)
        interval = mean_ci(difference)
        rows.append({"variant": variant, "profile": profile, "arm": arm, "metric": metric, "n": len(group),
                     "keras": group["keras"].mean(), "fast": group["fast"].mean(), "difference": interval["mean"],
                     "low": interval["low"], "high": interval["high"], "p": paired_test(difference),
                     "max_relative": float(np.max(np.abs(difference) / scale))})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_holm"] = holm(table["p"])
    table["verdict"] = np.where(table["max_relative"] < IDENTICAL, "identical",
                                np.where(table["p_holm"].fillna(1.0) >= ALPHA, "agree", "DIFFER"))
    return table


def markdown(tables: dict) -> str:
    lines = ["# engine=fast vs engine=keras", "", __doc__.split("\n\n")[1].replace("\n", " "), ""]
    for study, table in tables.items():
        lines += [f"## {study}", "", "| variant | arm | metric | n | keras | fast | fast - keras [95% CI] | p (Holm) | "
                  "max rel. diff | verdict |", "|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r.variant} | {r.arm} | {r.metric} | {r.n} | {r.keras:.4g} | {r.fast:.4g} | {r.difference:.3g} "
                  f"[{r.low:.3g}, {r.high:.3g}] | {r.p_holm:.3g} | {r.max_relative:.2g} | {r.verdict} |"
                  for r in table.itertuples()]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default="results", help="the trial store")
    parser.add_argument("--out", help="also write the Markdown here")
    arguments = parser.parse_args(argv)
    folder = Path(arguments.results) / "trials"
    if not folder.is_dir():
        print(f"engine_agreement: error: no trial store at {arguments.results}", file=sys.stderr)
        return 2
    store = TrialStore(arguments.results)
    tables = {study.name: compare(store.trials(study.name)) for study in sorted(folder.iterdir())}
    text = markdown({study: table for study, table in tables.items() if not table.empty})
    print(text)
    if arguments.out:
        write_text_atomic(arguments.out, text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
