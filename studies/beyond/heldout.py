"""Held-out settings (`beyond=heldout`, issue #29 part 2): each of the study's claims judged again, unchanged, on
settings the article did not use: the other dataset (MNIST for a Fashion-MNIST study and back), the `modern`
variant (Keras 3's defaults) and the `cnn` variant, where the study has them. Each setting runs as the study
does (its seeds setting, n_seeds=auto's rounds included, stored in the same store, so a rerun resumes) and its
claims are judged by their own kind's test (studies/stats/verdicts.py); the page (reports/beyond/<study>/heldout.md)
is a matrix of claims by settings, each cell a verdict with its seeds, and says which claims hold everywhere.
`beyond.leave_out` names settings not to run (one too costly for the machine at hand); the page names them. A
held-out setting trains only the arms its claims compare (the page names the others).
"""
from __future__ import annotations

import logging

import pandas as pd

from studies.beyond.runs import Judged, combined, judged_run, page_folder, study_at_variant, verdict_cell, wall_times
from studies.config.settings import ConfigError, check_keys, require_choice, require_int
from studies.report.document import Heading, Paragraph, Table, markdown
from studies.report.study_report import DATASET_NAMES
from studies.run.harness import RunOutcome
from studies.stats.sequential import claim_arms
from studies.store.atomic import write_text_atomic

OTHER_DATASET = {"fashion_mnist": "mnist", "mnist": "fashion_mnist"}
VARIANTS = ("modern", "cnn")  # the held-out variants, where a study has them
ARTICLE = "article's settings"
log = logging.getLogger(__name__)


def held_out(cfg: dict) -> dict:
    """Setting name -> its config: the held-out variants the study has, then its variant on the other dataset
    (seeds from beyond.dataset_first_seed)."""
    settings = {f"variant={variant}": {**cfg, "variant": variant}
                for variant in VARIANTS if variant in cfg["study"]["variants"] and variant != cfg["variant"]}
    study = study_at_variant(cfg)
    other = OTHER_DATASET.get(study["dataset"]["name"])
    if other:
        settings[f"dataset={other}"] = {**cfg, "study": {**study, "dataset": {**study["dataset"], "name": other}},
                                        "first_seed": cfg["beyond"]["dataset_first_seed"]}
    return settings


def kept(settings: dict, leave_out: list) -> dict:
    """`settings` less those `leave_out` names; a ConfigError for a name that is not one of them, or when none is
    left to run."""
    if not isinstance(leave_out, list):
        raise ConfigError(f"beyond.leave_out={leave_out!r} is not a list of setting names; valid: {', '.join(settings)}"
                          " (quoted on the command line: 'beyond.leave_out=[\"variant=cnn\"]')")
    for name in leave_out:
        require_choice(name, "beyond.leave_out", list(settings))
    remaining = {name: setting for name, setting in settings.items() if name not in leave_out}
    if settings and not remaining:
        raise ConfigError(f"beyond.leave_out={leave_out} leaves no held-out setting to run; leave out fewer "
                          f"of {', '.join(settings)}")
    return remaining


def claimed_arms_only(setting: dict, claims) -> dict:
    """`setting` with the arms no claim compares dropped, as a variant drops an arm: a held-out setting is run for
    its claims alone, and an arm outside them (the optimizers' RMSprop, from article 000's table: a CNN stack of
    ten trials) would train nothing its page shows. A study of a grid keeps all its points."""
    study = study_at_variant(setting)
    if study.get("grid") or not isinstance(study.get("arms"), dict):
        return setting
    compared = claim_arms(claims)
    arms = {arm: patch if arm in compared else "drop" for arm, patch in study["arms"].items()}
    return {**setting, "study": {**study, "arms": arms}}


def matrix(runs: dict[str, Judged]) -> pd.DataFrame:
    """Claims x settings: a row per claim of the first run (the article's settings), a cell per setting with its
    verdict and seeds, and whether it holds (PASS) in every setting."""
    columns = {name: run.verdicts.set_index("claim") for name, run in runs.items()}
    first = next(iter(columns.values()))
    rows = []
    for claim, row in first.iterrows():
        cells = {name: verdicts.loc[claim] for name, verdicts in columns.items()}
        rows.append({"claim": claim, "says": row["says"], "kind": row["kind"],
                     **{name: verdict_cell(cell) for name, cell in cells.items()},
                     **{f"{name} test": cell["test"] for name, cell in cells.items()},
                     "holds everywhere": all(cell["verdict"] == "PASS" for cell in cells.values())})
    return pd.DataFrame(rows)


def page(table: pd.DataFrame, runs: dict[str, Judged], described: dict, left_out: list, unclaimed: list) -> str:
    plan = runs[ARTICLE].plan
    names = list(runs)
    everywhere = table.loc[table["holds everywhere"], "claim"].tolist()
    times = wall_times({name: (run.outcome.trained, run.seconds) for name, run in runs.items()})
    if left_out:
        times += f" Not run here (beyond.leave_out): {', '.join(left_out)}."
    if unclaimed:
        times += f" Arms no claim compares, not trained in the held-out settings: {', '.join(unclaimed)}."
    blocks = [Heading(f"{plan.study} ({plan.variant}, {plan.profile}): held-out settings", 1),
              Paragraph(("Each claim as the article states it, judged again on settings the article did not use, "
                         "by its own kind's test and the study's seeds setting: "
                         + "; ".join(f"{name}: {text}" for name, text in described.items()) + ".",)),
              Paragraph((f"Holds (PASS) in every setting: {', '.join(everywhere) or 'none'}. {times}",)),
              Table(("claim", "says", *names, "holds everywhere"),
                    tuple((row["claim"], row["says"], *(row[name] for name in names),
                           "yes" if row["holds everywhere"] else "no") for _, row in table.iterrows()))]
    return markdown(blocks)


def describe(cfg: dict) -> str:
    study = study_at_variant(cfg)
    dataset = DATASET_NAMES.get(study["dataset"]["name"], study["dataset"]["name"])
    return f"variant {cfg['variant']} on {dataset}, seeds from {cfg['first_seed']}"


def run_heldout(cfg: dict) -> RunOutcome | None:
    """`studybench study=X beyond=heldout`: None (with a line) for a study with no claims or no held-out setting."""
    check_keys(cfg["beyond"], ("name", "dataset_first_seed", "leave_out"), "beyond=heldout")
    require_int(cfg["beyond"]["dataset_first_seed"], "beyond.dataset_first_seed", 0)
    leave_out = cfg["beyond"]["leave_out"]
    settings = {ARTICLE: cfg, **kept(held_out(cfg), leave_out)}
    if len(settings) == 1:
        log.info(f"{cfg['study']['name']}: beyond=heldout skipped: no other variant or dataset to hold out")
        return None
    article = judged_run(cfg)
    if not article.plan.claims:
        log.info(f"{article.plan.study}: beyond=heldout skipped: variant {cfg['variant']} makes no claims to judge")
        return None
    claims = article.plan.claims
    runs = {ARTICLE: article, **{name: judged_run(claimed_arms_only(setting, claims), claims=claims)
                                 for name, setting in list(settings.items())[1:]}}
    table = matrix(runs)
    folder = page_folder(cfg, article.plan)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "heldout.csv", table.to_csv(index=False))
    described = {name: describe(setting) for name, setting in settings.items()}
    compared = claim_arms(claims)
    unclaimed = [arm for arm in article.plan.arms if arm not in compared]
    write_text_atomic(folder / "heldout.md", page(table, runs, described, leave_out, unclaimed))
    log.info(f"beyond=heldout: {folder / 'heldout.md'}")
    return combined(article.plan, [run.outcome for run in runs.values()])
