"""reports/README.md and reports/index.html: the page a reader opens first. README.md: the count of each verdict,
one table of every claim's verdict across studies, then a section per study with its figures, summary table and
provenance; index.html: the same as one self-contained page laid out to be read (studies/report/index_html.py).

Built from what each study report left (run.json, claims.csv), so it can be rebuilt at any time. Shrunk profiles
(smoke) are not results: they are left out where a full run's report exists, and shown, said to be a smoke run,
where none does (a smoke run's page).
"""
from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path

import pandas as pd

from studies.config.contract import SAYS, study_module
from studies.report.document import Heading, Link, Paragraph, Table, Verdict, bullets, html_block, markdown
from studies.report.evidence import IMPROVEMENT
from studies.report.index_html import VERDICT_ORDER, claim_cards, counts_bar, page, study_section
from studies.report.register import not_judged_rows
from studies.report.study_report import sentence, study_blocks
from studies.runtime.provenance import commit
from studies.stats.across_seeds import INTERVALS
from studies.stats.verdicts import VERDICTS
from studies.store.atomic import write_text_atomic

log = logging.getLogger(__name__)
TITLE = "studybench results"
HEADER = ("Every claim of the three articles and of the books behind them, each beside the sentence it judges "
          "(quoted in its language, with an English translation, the place it comes from and how the source "
          "measured it), tested over several seeds per arm; the measured column says in how many seeds it holds. "
          "The articles' own claims come first, then the books', then readings of ours. " + VERDICTS + " "
          + INTERVALS + " Figures mark the article's own single-run value in red where it gave one.")
LEAD = ("Claims of three tutorial articles on training neural networks with Keras, and of the books behind them, "
        "each tested over several seeds per arm. Each card quotes the sentence it judges (in its language and in "
        "English) and shows the effect measured, its interval, and the window the claim needs it in (the forest "
        "plot: a dot and its interval; red: the claimed window or boundary). Click a verdict to see only those.")


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


def study_runs(reports_dir: Path) -> tuple[list[tuple[Path, dict]], list[str]]:
    """(folder, run) of every full-profile study report whose run.json is whole, or of every shrunk one where no
    full one exists; and the shrunk profiles those are (none for full runs)."""
    runs = [(path.parent, read_run(path)) for path in sorted(reports_dir.rglob("run.json"))]
    runs = [(folder, run) for folder, run in runs if run is not None]
    full = [(folder, run) for folder, run in runs if run["profile"] == "full"]
    return (full, []) if full or not runs else (runs, sorted({run["profile"] for _, run in runs}))


def shrunk_note(profiles: list[str]) -> str:
    """What a page of shrunk-profile runs is (empty for full runs)."""
    if not profiles:
        return ""
    return (f"This page shows {' and '.join(profiles)} runs only (profile={', '.join(profiles)}: shrunk data and "
            "epochs, a check that everything runs end to end in seconds): their numbers and verdicts are not "
            "results. A full run (`make reproduce`) writes the page of results and replaces this one.")


def _anchor(link: str) -> str:
    return link.replace("/", "-")


WHOSE = {says: heading for says, heading in zip(SAYS.values(), (
    "What the articles say", "What the books behind them say", "Our own readings (the sources do not say them)"))}


def read_claims(folder: Path) -> list[dict]:
    return [dict(row) for _, row in pd.read_csv(folder / "claims.csv", keep_default_na=False, dtype=str).iterrows()]


def top_claims(claims: list[dict]) -> list[tuple[dict, list[dict]]]:
    """(claim, its members) for each claim that is not a family's member; a family's members are its settings."""
    members = {}
    for claim in claims:
        members.setdefault(claim.get("family", ""), []).append(claim)
    return [(claim, members.get(claim["claim"], []) if claim["kind"] == "family" else [])
            for claim in members.get("", [])]


def claims_rows(run: dict, link: str, claims: list[dict]) -> list[tuple[str, tuple]]:
    """(whose claim, row) for each claim of a run; a family's members are left to the study's summary, where
    they sit under their family's row."""
    rows = []
    for claim, _ in top_claims(claims):
        judged = claim["says"] + (f" ({claim['article_value']})" if claim["article_value"] else "")
        rows.append((claim.get("source_says") or SAYS["ours"],
                     (Link(run["study"], f"{link}/summary.md", _anchor(link)), run["variant"], claim["claim"],
                      sentence(claim), judged, claim["measured"], Verdict(claim["verdict"]))))
    return rows


def verdict_counts(runs) -> dict:
    """Verdict -> how many claims have it (a family counts once), every verdict named, problems first."""
    found = [claim["verdict"] for _, _, claims in runs for claim, _ in top_claims(claims)]
    return {verdict: found.count(verdict) for verdict in VERDICT_ORDER}


def families(runs) -> int:
    return sum(claim["kind"] == "family" for _, _, claims in runs for claim in claims)


def counts_line(runs) -> Paragraph:
    counts, grouped = verdict_counts(runs), families(runs)
    of_them = f" ({grouped} of them families of settings, each one claim)" if grouped else ""
    parts = [f"Verdicts of {sum(counts.values())} claims{of_them}: "]
    for number, (verdict, count) in enumerate(counts.items()):
        parts += [", " * (number > 0), Verdict(verdict), f" {count}"]
    return Paragraph(tuple(parts) + (".",))


def claims_tables(runs) -> list:
    """One table per whose claim it is: the articles' own first, then the books', then ours."""
    rows = [row for run, link, claims in runs for row in claims_rows(run, link, claims)]
    blocks = []
    for says, heading in WHOSE.items():
        mine = tuple(row for whose, row in rows if whose == says)
        if mine:
            blocks += [Heading(heading, 2), Table(("study", "variant", "claim", "the source says", "judged as",
                                                   "measured", "verdict"), mine)]
    return blocks


def not_judged_block(runs) -> list:
    """What the sources say that no claim judges, with the reason, from the study modules of the runs."""
    studies = dict.fromkeys(run["study"] for run, _, _ in runs)
    rows = tuple((study, item["work"], item["place"],
                  (f"「{item['quote']}」 " if item["quote"] else "") + item["translation"],
                  item["why"])
                 for study in studies for item in not_judged_rows(study_module(study)))
    if not rows:
        return []
    return [Heading("Not judged", 2, "not-judged"),
            Paragraph(("Statements of the sources that no claim judges, and why.",)),
            Table(("study", "source", "place", "the source says", "why not judged"), rows)]


def beyond_block(reports_dir: Path) -> list:
    """Links to the beyond parts' pages (reports/beyond/<study>/.../<part>.md, studies/beyond/), where any exist."""
    pages = sorted(reports_dir.glob("beyond/**/*.md"))
    if not pages:
        return []
    links = tuple(Link(path.relative_to(reports_dir).as_posix(), path.relative_to(reports_dir).as_posix())
                  for path in pages)
    return [Heading("Beyond the articles", 2, "beyond"),
            Paragraph(("Each claim asked again: with an equal tuning budget, on held-out settings, by the randomness "
                       "behind it, and as epochs to a target (`studybench study=X beyond=PART`, README's Beyond "
                       "reproduction):",)),
            Table(("page",), tuple((link,) for link in links))]


def provenance_blocks(runs) -> list:
    trials = sum(run["trials"] for run, _, _ in runs)
    wall_time = sum(run["wall_time_s"] for run, _, _ in runs)
    return [Paragraph(("Provenance of this page (each study's own is in its section):",)),
            bullets({"commit": commit(), "training wall time": f"{wall_time:.0f} s over {trials} trials "
                                                               f"in {len(runs)} study reports"})]


def readme_blocks(runs, shrunk: list[str], reports_dir: Path) -> list:
    note = [Paragraph((shrunk_note(shrunk),))] if shrunk else []
    blocks = ([Heading(TITLE, 1)] + note + [counts_line(runs), Paragraph((HEADER,))] + claims_tables(runs)
              + not_judged_block(runs) + beyond_block(reports_dir) + provenance_blocks(runs)
              + [Heading("Studies", 2)])
    for run, link, _ in runs:
        blocks += [Heading(f"{run['study']} / {run['variant']}", 3, _anchor(link)),
                   Paragraph(("Summary with claims and excluded trials: ",
                              Link(f"{link}/summary.md", f"{link}/summary.md")))]
        blocks += study_blocks(run, f"{link}/")
    return blocks


def article_of(claim: dict) -> str:
    """"article 001" of "article 001" or "the book behind article 001"; "" where the claim names no article."""
    found = re.search(r"article \d+", claim.get("work", ""))
    return found.group() if found else ""


WHOSE_RANK = {says: rank for rank, says in enumerate(WHOSE)}  # the articles' own claims first


def _whose_rank(claim: dict) -> int:
    return WHOSE_RANK.get(claim.get("source_says") or SAYS["ours"], len(WHOSE_RANK))


def claims_by_article(runs) -> dict:
    """Article -> [(run, link, its top-level claims of that article, the article's own first)], the studies with
    the article's own claims first."""
    grouped = {}
    for run, link, claims in runs:
        for article in sorted({article_of(claim) for claim, _ in top_claims(claims)}):
            mine = sorted((item for item in top_claims(claims) if article_of(item[0]) == article),
                          key=lambda item: _whose_rank(item[0]))
            grouped.setdefault(article, []).append((run, link, mine))
    return {article: sorted(studies, key=lambda study: _whose_rank(study[2][0][0]))
            for article, studies in sorted(grouped.items(), key=lambda item: item[0] or "~")}


def _article_anchor(article: str) -> str:
    return article.replace(" ", "-") if article else "other-claims"


def contents(grouped: dict, runs, reports_dir: Path) -> str:
    """The contents list: each article with its studies' claims, then the studies' own sections."""
    items = []
    for article, studies in grouped.items():
        links = " ".join(f'<a href="#claims-{_anchor(link)}">{html.escape(run["study"])} / '
                         f'{html.escape(run["variant"])}</a> ({len(mine)})' for run, link, mine in studies)
        items.append(f'<li><a href="#{_article_anchor(article)}">{html.escape(article or "other claims")}</a>: '
                     f'<span class="studies">{links}</span></li>')
    studies = " ".join(f'<a href="#{_anchor(link)}">{html.escape(run["study"])} / {html.escape(run["variant"])}</a>'
                       for run, link, _ in runs)
    judged = '<li><a href="#not-judged">Not judged</a></li>' if not_judged_block(runs) else ""
    return (f'<nav id="contents"><h2>Contents</h2><ul>{"".join(items)}{judged}<li><a href="#studies">Studies: '
            f'what ran, figures, tables, the command that reruns each</a>: <span class="studies">{studies}</span>'
            '</li><li><a href="#how-to-read">How the verdicts are reached</a></li></ul></nav>')


def claims_sections(grouped: dict, reports_dir: Path) -> list[str]:
    """Per article a section, per study in it the claims' cards."""
    sections, order = [], 0
    for article, studies in grouped.items():
        parts = [f'<section class="claims-of-article" id="{_article_anchor(article)}">'
                 f'<h2>{html.escape(article or "Other claims")}</h2>']
        for run, link, mine in studies:
            cards = claim_cards(mine, run, f"{link}/", reports_dir, order)
            order += len(cards)
            parts.append(f'<section class="claims-of-study" id="claims-{_anchor(link)}"><h3>'
                         f'{html.escape(run["study"])} / {html.escape(run["variant"])} '
                         f'<small><a href="#{_anchor(link)}">what ran, figures, tables</a></small></h3>'
                         f'<div class="cards">{"".join(cards)}</div></section>')
        sections.append("".join(parts) + "</section>")
    return sections


def html_index(runs, shrunk: list[str], reports_dir: Path) -> str:
    grouped = claims_by_article(runs)
    counts = verdict_counts(runs)
    note = f'<p class="smoke">{html.escape(shrunk_note(shrunk))}</p>' if shrunk else ""
    top = [f"<h1>{html.escape(TITLE)}</h1>", note, counts_bar(counts, families(runs)),
           html_block(Paragraph((LEAD,)), reports_dir), contents(grouped, runs, reports_dir)]
    studies = ['<section id="studies"><h2>Studies</h2>'] + [
        study_section(run, f"{link}/", reports_dir, _anchor(link)) for run, link, _ in runs] + ["</section>"]
    closing = [html_block(block, reports_dir)
               for block in not_judged_block(runs) + beyond_block(reports_dir) + provenance_blocks(runs)]
    reading = [f'<section id="how-to-read"><h2>How the verdicts are reached</h2><p>{html.escape(HEADER)}</p>'
               f"<p>{html.escape(IMPROVEMENT)}</p></section>"]
    return page(TITLE, top, claims_sections(grouped, reports_dir) + closing + studies + reading)


def write_index(reports_dir) -> list[Path]:
    """reports/README.md and its self-contained twin reports/index.html, from the same study reports."""
    reports_dir = Path(reports_dir)
    found, shrunk = study_runs(reports_dir)
    runs = [(run, folder.relative_to(reports_dir).as_posix(), read_claims(folder)) for folder, run in found]
    readme, index = reports_dir / "README.md", reports_dir / "index.html"
    write_text_atomic(readme, markdown(readme_blocks(runs, shrunk, reports_dir)))
    write_text_atomic(index, html_index(runs, shrunk, reports_dir))
    return [readme, index]
