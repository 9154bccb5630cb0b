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
from studies.document import Heading, Link, Paragraph, Table, Verdict, bullets, html_page, markdown
from studies.environment import commit
from studies.report import study_blocks
from studies.stats import INTERVALS

log = logging.getLogger(__name__)
TITLE = "studybench results"
HEADER = ("Every claim of the three articles, tested over several seeds per arm, each kind of claim by its own "
          "test at the 5% level; the measured column says in how many seeds the claim holds. PASS: an ordering "
          "supported by one-sided paired t-tests (Holm-corrected across a study's claims), a mean whose 90% interval "
          "lies within the stated value ± tolerance, curves identical in every seed, or a per-run property holding in "
          "at least the claimed share of seeds. FAIL: the opposite order supported, or no difference larger than "
          "the claim's tolerance (TOST); the interval wholly outside; the first seed and epoch where curves differ; "
          "the share's 95% Clopper-Pearson interval below the claimed share. INCONCLUSIVE: not enough evidence "
          "with the seeds run (the reason is given). DIVERGED: an arm the claim needs diverged in every seed (a "
          "diverged seed otherwise counts as its arm's outcome and is named). NOT RUN: an arm it needs was not "
          "trained. " + INTERVALS + " Figures mark the article's own single-run value in red where it gave one.")


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


def claims_rows(folder: Path, run: dict, link: str) -> list[tuple]:
    rows = []
    for _, claim in pd.read_csv(folder / "claims.csv", keep_default_na=False).iterrows():
        says = claim["says"] + (f" ({claim['article_value']})" if claim["article_value"] else "")
        rows.append((Link(run["study"], f"{link}/summary.md", _anchor(link)), run["variant"], claim["claim"], says,
                     claim["measured"], Verdict(claim["verdict"])))
    return rows


def index_blocks(reports_dir: Path) -> list:
    runs = [(folder, run, folder.relative_to(reports_dir).as_posix()) for folder, run in study_runs(reports_dir)]
    claims = Table(("study", "variant", "claim", "the article says", "measured", "verdict"),
                   tuple(row for folder, run, link in runs for row in claims_rows(folder, run, link)))
    trials = sum(run["trials"] for _, run, _ in runs)
    wall_time = sum(run["wall_time_s"] for _, run, _ in runs)
    blocks = [Heading(TITLE, 1), Paragraph((HEADER,)), claims,
              Paragraph(("Provenance of this page (each study's own is in its section):",)),
              bullets({"commit": commit(), "training wall time": f"{wall_time:.0f} s over {trials} trials "
                                                                 f"in {len(runs)} study reports"}),
              Heading("Studies", 2)]
    for _, run, link in runs:
        blocks += [Heading(f"{run['study']} / {run['variant']}", 3, _anchor(link)),
                   Paragraph(("Summary with claims and excluded trials: ", Link(f"{link}/summary.md", f"{link}/summary.md")))]
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
