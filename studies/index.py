"""reports/README.md and reports/index.html: the page a reader opens first, one table of every claim's verdict
across studies, then a section per study with its figures, summary table and provenance.

Built from what each study report left (run.json, claims.csv), so it can be rebuilt at any time; shrunk
profiles (smoke) are not results and are left out. One page model, rendered as Markdown and as one
self-contained HTML file (studies/document.py).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from studies.atomic import write_text_atomic
from studies.contract import SAYS, study_module
from studies.document import Heading, Link, Paragraph, Table, Verdict, bullets, html_page, markdown
from studies.provenance import commit
from studies.register import not_judged_rows
from studies.report import sentence, study_blocks
from studies.stats import INTERVALS
from studies.verdicts import VERDICTS

log = logging.getLogger(__name__)
TITLE = "studybench results"
HEADER = ("Every claim of the three articles and of the books behind them, each beside the sentence it judges "
          "(quoted in its language, with an English translation, the place it comes from and how the source "
          "measured it), tested over several seeds per arm; the measured column says in how many seeds it holds. "
          "The articles' own claims come first, then the books', then readings of ours. " + VERDICTS + " "
          + INTERVALS + " Figures mark the article's own single-run value in red where it gave one.")


RUN_KEYS = ("study", "variant", "profile", "context", "figures", "trials", "excluded", "planned", "wall_time_s",
            "summary", "provenance")  # what the index reads of a run.json


def read_run(path: Path) -> dict | None:
    """A study report's run.json; None (and a warning) where it does not parse or lacks a key."""
    try:
        run = json.loads(path.read_text())
    except (OSError, ValueError) as error:  # ValueError: not JSON, or not UTF-8
        run, problem = None, " ".join(str(error).split())
    else:
        missing = [key for key in RUN_KEYS if key not in run] if isinstance(run, dict) else list(RUN_KEYS)
        problem = f"no key {', '.join(missing)}" if missing else ""
    if problem:
        log.warning(f"studybench: index: skipped {path}, not a whole run.json ({problem})")
        return None
    return run


def study_runs(reports_dir: Path) -> list[tuple[Path, dict]]:
    """(folder, run) of every full-profile study report whose run.json is whole."""
    runs = [(path.parent, read_run(path)) for path in sorted(reports_dir.rglob("run.json"))]
    return [(folder, run) for folder, run in runs if run is not None and run["profile"] == "full"]


def _anchor(link: str) -> str:
    return link.replace("/", "-")


WHOSE = {says: heading for says, heading in zip(SAYS.values(), (
    "What the articles say", "What the books behind them say", "Our own readings (the sources do not say them)"))}


def claims_rows(folder: Path, run: dict, link: str) -> list[tuple[str, tuple]]:
    """(whose claim, row) for each claim of a run; a family's members are left to the study's summary, where
    they sit under their family's row."""
    rows = []
    for _, claim in pd.read_csv(folder / "claims.csv", keep_default_na=False, dtype=str).iterrows():
        if claim.get("family"):
            continue
        judged = claim["says"] + (f" ({claim['article_value']})" if claim["article_value"] else "")
        rows.append((claim.get("source_says") or SAYS["ours"],
                     (Link(run["study"], f"{link}/summary.md", _anchor(link)), run["variant"], claim["claim"],
                      sentence(claim), judged, claim["measured"], Verdict(claim["verdict"]))))
    return rows


def claims_tables(runs) -> list:
    """One table per whose claim it is: the articles' own first, then the books', then ours."""
    rows = [row for folder, run, link in runs for row in claims_rows(folder, run, link)]
    blocks = []
    for says, heading in WHOSE.items():
        mine = tuple(row for whose, row in rows if whose == says)
        if mine:
            blocks += [Heading(heading, 2), Table(("study", "variant", "claim", "the source says", "judged as",
                                                   "measured", "verdict"), mine)]
    return blocks


def not_judged_block(runs) -> list:
    """What the sources say that no claim judges, with the reason, from the study modules of the runs."""
    studies = dict.fromkeys(run["study"] for _, run, _ in runs)
    rows = tuple((study, item["work"], item["place"],
                  (f"「{item['quote']}」 " if item["quote"] else "") + item["translation"], item["why"])
                 for study in studies for item in not_judged_rows(study_module(study)))
    if not rows:
        return []
    return [Heading("Not judged", 2), Paragraph(("Statements of the sources that no claim judges, and why.",)),
            Table(("study", "source", "place", "the source says", "why not judged"), rows)]


def index_blocks(reports_dir: Path) -> list:
    runs = [(folder, run, folder.relative_to(reports_dir).as_posix()) for folder, run in study_runs(reports_dir)]
    trials = sum(run["trials"] for _, run, _ in runs)
    wall_time = sum(run["wall_time_s"] for _, run, _ in runs)
    blocks = [Heading(TITLE, 1), Paragraph((HEADER,))] + claims_tables(runs) + not_judged_block(runs) + [
              Paragraph(("Provenance of this page (each study's own is in its section):",)),
              bullets({"commit": commit(), "training wall time": f"{wall_time:.0f} s over {trials} trials "
                                                                 f"in {len(runs)} study reports"}),
              Heading("Studies", 2)]
    for _, run, link in runs:
        blocks += [Heading(f"{run['study']} / {run['variant']}", 3, _anchor(link)),
                   Paragraph(("Summary with claims and excluded trials: ",
                              Link(f"{link}/summary.md", f"{link}/summary.md")))]
        blocks += study_blocks(run, f"{link}/")
    return blocks


def write_index(reports_dir) -> list[Path]:
    """reports/README.md and its self-contained twin reports/index.html, from the same blocks."""
    reports_dir = Path(reports_dir)
    blocks = index_blocks(reports_dir)
    readme, page = reports_dir / "README.md", reports_dir / "index.html"
    write_text_atomic(readme, markdown(blocks))
    write_text_atomic(page, html_page(TITLE, blocks, reports_dir))
    return [readme, page]
