"""The report of swept settings: sweep.png, sweep.csv and sweep.md where a report holds swept trials, and
best_runs.png where the study declares BEST_RUNS. Which settings a trial sweeps is studies/run/sweeps.py's."""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from studies.config.contract import for_variant
from studies.report.study_report import _cell, _slug, context_line, summary_table
from studies.run.plan import Plan
from studies.run.sweeps import _short, _swept, _value_text, expand, swept_values
from studies.stats.across_seeds import lower_is_better, point_values, t_interval
from studies.store.atomic import save_figure_atomic, write_text_atomic


def _point_rows(plan: Plan, trials: pd.DataFrame, epochs: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Per finished trial of a swept arm and per summary column: the trial's swept values and its number."""
    finished = trials[trials["status"] == "ok"]
    frames = [point_values(epochs, finished, column.metric, column.split, column.point).assign(column=column.label)
              for column in for_variant(plan.contract.SUMMARY, plan.variant)]
    rows = pd.concat(frames).merge(values.drop(columns="arm"), on="trial_id")
    arms = dict(zip(values["trial_id"], values["arm"]))
    # The arm's name, not its article label: a label such as "dropout 0.15" would contradict the x axis.
    return rows.assign(line=rows["trial_id"].map(arms))


def sweep_figure(plan: Plan, trials: pd.DataFrame, epochs: pd.DataFrame, values: pd.DataFrame, path: Path) -> None:
    """Each summary column against each swept setting: one panel per (setting, column), a line per arm,
    mean and 95% t interval across seeds (points alone where every setting ran once, as in random search)."""
    rows = _point_rows(plan, trials, epochs, values)
    keys = list(values.columns[3:])
    varied = [key for key in keys if values[key].nunique() > 1]  # an override shared by every job is no axis
    keys, columns = varied or keys, list(dict.fromkeys(rows["column"]))
    fig, grid = plt.subplots(len(keys), len(columns), figsize=(0.6 + 4.2 * len(columns), 0.6 + 3.6 * len(keys)),
                             squeeze=False)
    for key, axes in zip(keys, grid):
        for column, axis in zip(columns, axes):
            data = rows[(rows["column"] == column) & rows[key].notna()]
            if pd.to_numeric(data[key], errors="coerce").notna().all():
                _numeric_panel(data.astype({key: float}), key, axis)
            else:  # text (an optimizer's or a loader's name): each value a category
                sns.pointplot(data=data, x=key, y="value", hue="line", errorbar=t_interval, linestyle="none",
                              dodge=data["line"].nunique() > 1, ax=axis)  # seaborn divides by lines - 1
            axis.set(xlabel=key, ylabel=column, title=f"{column} vs {_short(key)}")
            if axis.get_legend_handles_labels()[0]:  # a panel with no finite value has no lines
                axis.legend(title=None, fontsize=8)
    context = f"{context_line(plan, trials[trials['status'] == 'ok'])} (mean, 95% CI across seeds)"
    # Wrapped to the figure's width (about 15 characters an inch at this size): one panel is narrower than it.
    fig.suptitle("\n".join([f"{plan.study}: swept settings", *textwrap.wrap(context, int(15 * fig.get_figwidth()))]),
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95 - 0.03 * (len(context) > 15 * fig.get_figwidth())))
    save_figure_atomic(fig, path, dpi=120)
    plt.close(fig)


def _numeric_panel(data: pd.DataFrame, key: str, axis) -> None:
    """Values against a numeric setting: lines with intervals where a setting ran more than once, else points;
    a log axis where the positive values span two decades."""
    if data.groupby(["line", key]).size().max() > 1:
        sns.lineplot(data=data, x=key, y="value", hue="line", marker="o", err_style="bars", errorbar=t_interval,
                     ax=axis)
    else:
        sns.scatterplot(data=data, x=key, y="value", hue="line", ax=axis)
    positive = data[key][data[key] > 0]
    if len(positive) == len(data) and positive.max() >= 100 * positive.min():
        axis.set_xscale("log")


def sweep_table(plan: Plan, trials: pd.DataFrame, epochs: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """The summary table's rows of swept arms (one per swept value), with a column per swept setting."""
    plan, trials, epochs = expand(plan, trials, epochs)
    finished = trials[trials["status"] == "ok"]
    table = summary_table(plan, epochs[epochs["trial_id"].isin(finished["trial_id"])], finished)
    settings = values.assign(arm=values["trial_id"].map(dict(zip(trials["trial_id"], trials["arm"]))))
    settings = settings.drop(columns=["trial_id", "swept"]).drop_duplicates("arm")
    return table.merge(settings, on="arm")[list(settings.columns) + list(table.columns.drop("arm"))]


def sweep_markdown(plan: Plan, table: pd.DataFrame, keys: list) -> str:
    columns = for_variant(plan.contract.SUMMARY, plan.variant)
    header = ["arm"] + keys + ["n"] + [column.label for column in columns]
    lines = [f"# {plan.study}: swept settings", "", "Each cell: mean ± half-width of the 95% Student-t "
             "confidence interval across seeds. Diverged and failed trials are left out (see summary.md).", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [row["arm"].split("[")[0]] + [f"{row[key]:.4g}" if isinstance(row[key], float) else str(row[key])
                                                 for key in keys]
        lines.append("| " + " | ".join(cells + [str(row["n"])] + [_cell(row, _slug(c.label)) for c in columns]) + " |")
    return "\n".join(lines) + "\n"


def best_runs_figure(plan: Plan, trials: pd.DataFrame, epochs: pd.DataFrame, path: Path) -> None:
    """The book's "best 20": the finished trials ranked by the study's OBJECTIVE, each in its own panel with
    its OBJECTIVE curve (solid) and the training one (dashed), titled Best-i and its swept values."""
    objective, count = plan.contract.OBJECTIVE, plan.contract.BEST_RUNS
    finished = trials[trials["status"] == "ok"]
    scores = point_values(epochs, finished, objective.metric, objective.split, objective.point)
    best = scores.sort_values("value", ascending=lower_is_better(objective.metric)).head(count)
    swept = dict(zip(finished["trial_id"], _swept(finished)))
    columns = 5
    fig, grid = plt.subplots(-(-len(best) // columns), columns, figsize=(14, 2.6 * -(-len(best) // columns)),
                             sharex=True, sharey=True, squeeze=False)
    for unused in grid.flat[len(best):]:
        unused.set_visible(False)
    for rank, ((_, trial), axis) in enumerate(zip(best.iterrows(), grid.flat), start=1):
        curves = epochs[(epochs["trial_id"] == trial["trial_id"]) & (epochs["metric"] == objective.metric)]
        for split, style in ((objective.split, "-"), ("train", "--")):
            curve = curves[curves["split"] == split].sort_values("epoch")
            axis.plot(curve["epoch"], curve["value"], style, label=split)
        axis.set_title(f"Best-{rank} ({objective.split} {trial['value']:.3f})\n{_value_text(swept[trial['trial_id']])}",
                       fontsize=7)
    grid.flat[0].legend(fontsize=7)
    fig.suptitle(f"{plan.study}: the {len(best)} best of {len(finished)} runs by {objective.label}\n"
                 f"{context_line(plan, finished)}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    save_figure_atomic(fig, path, dpi=120)
    plt.close(fig)


def write_sweep_report(plan: Plan, trials: pd.DataFrame, epochs: pd.DataFrame, folder: Path) -> list[Path]:
    """sweep.png, sweep.csv and sweep.md where the report holds swept trials, and best_runs.png where the
    study declares BEST_RUNS (the trials as stored: not yet expanded)."""
    values = swept_values(trials) if "sweep_json" in trials else pd.DataFrame()
    if values.empty:
        return []
    keys = list(values.columns[3:])
    table = sweep_table(plan, trials, epochs, values)
    write_text_atomic(folder / "sweep.csv", table.to_csv(index=False))
    write_text_atomic(folder / "sweep.md", sweep_markdown(plan, table, keys))
    sweep_figure(plan, trials, epochs, values, folder / "sweep.png")
    written = [folder / name for name in ("sweep.png", "sweep.csv", "sweep.md")]
    if getattr(plan.contract, "BEST_RUNS", None):
        best_runs_figure(plan, trials, epochs, folder / "best_runs.png")
        written.append(folder / "best_runs.png")
    return written
