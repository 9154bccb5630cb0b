"""A study report from synthetic trial tables: figures (PNG and SVG) with the article's values marked,
provenance, the interval statement."""
import json
import os
import subprocess
from pathlib import Path

import pytest

import studies.runtime.provenance
from studies.report import study_report as report
from studies.report.study_report import write_report
from studies.stats.verdicts import judge
from tests.synthetic import CLAIMS, toy_plan, toy_report, toy_tables


@pytest.fixture
def drawn(monkeypatch, tmp_path):
    """The figures of the toy report, kept open: figure name -> matplotlib figure."""
    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)
    trials, epochs = toy_tables()
    toy_report(toy_plan(), trials, epochs, tmp_path)
    return {figure.get_suptitle().split("\n")[0]: figure for figure in figures}


def texts_by_panel(figure) -> dict:
    """Panel title -> the texts drawn on it, its twin axis included (same position)."""
    titles = {axis.get_position().bounds: axis.get_title() for axis in figure.axes if axis.get_title()}
    found = {}
    for axis in figure.axes:
        found.setdefault(titles.get(axis.get_position().bounds), []).extend(t.get_text() for t in axis.texts)
    return found


def test_the_article_value_is_marked_on_its_arm_panel_and_axis(drawn):
    texts = texts_by_panel(drawn["Toy loss"])
    assert "article, stop: 3" in texts["arm B"] and "article: test accuracy 0.84" in texts["arm A"]
    assert all("0.84" not in text for text in texts["arm B"])
    assert not any("stop" in text for text in texts["arm A"])
    twin = [axis for axis in drawn["Toy loss"].axes if axis.get_ylabel() == "accuracy (dashed)"]
    stars = [line.get_ydata() for axis in twin for line in axis.lines if line.get_marker() == "*"]
    assert [list(y) for y in stars] == [[0.84]]  # on the accuracy axis of arm A's panel only


def test_a_single_plot_names_the_arm_and_leaves_out_claims_on_other_metrics(drawn):
    texts = [t.get_text() for axis in drawn["Toy accuracy"].axes for t in axis.texts]
    assert texts == ["article (arm A): test accuracy 0.84"]


def test_unequal_curves_say_over_how_many_seeds_the_band_runs(drawn):
    assert "n = 3 down to 1" in drawn["Toy accuracy"].get_suptitle()


def test_more_lines_than_a_legend_can_tell_apart_are_drawn_unlabelled_and_the_title_says_so(monkeypatch, tmp_path):
    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)
    monkeypatch.setattr(report, "LEGEND_ENTRIES", 1)  # the toy's 2 arms stand for a random search's 100 settings
    trials, epochs = toy_tables()
    toy_report(toy_plan(), trials, epochs, tmp_path)
    single = next(figure for figure in figures if figure.get_suptitle().startswith("Toy accuracy"))
    assert [axis.get_legend() for axis in single.axes] == [None]
    assert "2 arms, a line each, unlabelled" in " ".join(single.get_suptitle().split())  # as wrapped to fit


def test_a_legend_names_each_line_when_there_are_few(drawn):
    assert [text.get_text() for text in drawn["Toy accuracy"].axes[0].get_legend().get_texts()] == ["arm A", "arm B"]
    assert "unlabelled" not in drawn["Toy accuracy"].get_suptitle()


def test_report_writes_png_and_svg_provenance_and_the_interval_used(tmp_path):
    trials, epochs = toy_tables()
    written = {path.name for path in toy_report(toy_plan(), trials, epochs, tmp_path)}
    assert {"loss.png", "loss.svg", "accuracy.png", "accuracy.svg"} <= written
    assert (tmp_path / "loss.svg").read_text().lstrip().startswith("<?xml")
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["figures"] == {"loss.png": "Toy loss", "accuracy.png": "Toy accuracy"}
    provenance = run["provenance"]
    assert provenance["commit"] == studies.runtime.provenance.commit() != ""
    assert (provenance["engine"], provenance["seeds"]) == ("keras", "0, 1, 2")
    assert provenance["training wall time"] == "9.0 s over 6 trials"
    assert provenance["data"] == "synthetic (sha256 abababababababab)"
    assert (provenance["images per trial"], provenance["epochs run"]) == ("train 1,000, test 500",
                                                                          "3 to 5 of at most 5")
    assert run["command"] == "studybench study=toy variant=original engine=keras n_seeds=3"
    summary = (tmp_path / "summary.md").read_text()
    assert ("Reproduce: `studybench study=toy variant=original engine=keras n_seeds=3`" in summary
            and "[claims.csv](claims.csv)" in summary)
    assert "- seeds: 0, 1, 2" in summary and "95% Student-t intervals of a mean over n independent seeds" in summary
    assert "| arm A | 3 | 0.8100 ± " in summary and "![Toy loss](loss.png)" in summary


def test_each_claim_has_its_per_seed_figure_linked_beside_it_with_its_probability_of_improvement(tmp_path):
    """Eight seeds: a sign-flip test at 5% decides nothing below five (p >= 2^-n), and the toy's three claims
    share the 5% by Holm."""
    trials, epochs = toy_tables(seeds=8)
    written = {path.relative_to(tmp_path).as_posix()
               for path in toy_report(toy_plan(seeds=8), trials, epochs, tmp_path)}
    ids = ("b_stops_near_3", "a_accurate", "a_beats_b")
    assert {f"claims/{claim}.{kind}" for claim in ids for kind in ("png", "svg")} <= written
    summary = (tmp_path / "summary.md").read_text()
    assert ("| claim | the source says | judged as | source's value | measured | P(A beats B), seed by seed [CI] | "
            "per seed | verdict |") in summary
    improvement = "P(a beats b) = 1.00 [0.63, 1.00] (8 of 8 seeds; 95% CI)"  # judged here: every seed, at 95%
    assert f"| {improvement} | [figure](claims/a_beats_b.png) | **PASS** |" in summary
    assert "|  | [figure](claims/a_accurate.png) | **PASS** |" in summary  # one arm: no pair
    assert f"![a_beats_b: {improvement}](claims/a_beats_b.png)" in summary
    evidence = json.loads((tmp_path / "run.json").read_text())["evidence"]
    assert list(evidence) == list(ids) and evidence["a_beats_b"]["figure"] == "claims/a_beats_b.png"


def test_each_claim_s_effect_is_its_verdict_s_interval_against_the_claimed_window(tmp_path):
    """Eight seeds, judged here at 5% (each side at 2.5%): a - b in final test accuracy is 0.2, 0.44, 0.32 in
    turn (mean 0.32), a's final accuracy 0.8 + 0.01 seed, b's stop epochs 5, 3, 4 in turn (mean 4)."""
    trials, epochs = toy_tables(seeds=8)
    toy_report(toy_plan(seeds=8), trials, epochs, tmp_path)
    evidence = json.loads((tmp_path / "run.json").read_text())["evidence"]
    (difference,), (accurate,), (stops,) = (evidence[claim]["effects"] for claim in ("a_beats_b", "a_accurate",
                                                                                      "b_stops_near_3"))
    assert (difference["label"], difference["window"], difference["claimed"]) == ("a - b", [0.0, 0.0], "above")
    assert difference["estimate"] == pytest.approx(0.32) and 0 < difference["low"] < 0.32 < difference["high"] < 0.45
    assert (accurate["estimate"], accurate["window"], accurate["claimed"]) == (pytest.approx(0.835),
                                                                               pytest.approx([0.7, 0.9]), "inside")
    assert stops["estimate"] == 4 and stops["window"] == [2, 4] and stops["high"] > 4  # the mean on the window's edge
    assert evidence["a_beats_b"]["confidence"] == 0.95


def test_a_claim_s_evidence_covers_the_seeds_of_the_look_that_decided_it_at_its_level(tmp_path):
    trials, epochs = toy_tables()
    verdicts = judge(CLAIMS, epochs, trials).assign(look_seeds=2, alpha=0.01)  # as judge_looks gives them
    write_report(toy_plan(), trials, epochs, tmp_path, verdicts)
    evidence = json.loads((tmp_path / "run.json").read_text())["evidence"]
    assert evidence["a_beats_b"]["improvement"] == "P(a beats b) = 1.00 [0.10, 1.00] (2 of 2 seeds; 98% CI)"


def fake_git(head, changes):
    def run(*arguments):
        if isinstance(head, Exception):
            raise head
        return head if arguments[0] == "rev-parse" else changes
    return run


@pytest.mark.parametrize("head, changes, expected", [
    ("abc1234", "", "abc1234"),
    ("abc1234", " M studies/report/study_report.py", "abc1234+dirty"),
    (FileNotFoundError("git"), "", "unknown"),
    (subprocess.CalledProcessError(128, "git"), "", "unknown"),
])
def test_commit_is_short_hash_dirty_or_unknown(monkeypatch, head, changes, expected):
    monkeypatch.setattr(studies.runtime.provenance, "_git", fake_git(head, changes))
    assert studies.runtime.provenance.commit() == expected


def test_every_report_file_is_renamed_into_place_whole_run_json_last(monkeypatch, tmp_path):
    renamed, real_replace = [], os.replace

    def replace(source, target):
        renamed.append(Path(target))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    trials, epochs = toy_tables()
    written = toy_report(toy_plan(), trials, epochs, tmp_path)
    assert renamed == written and written[-1].name == "run.json"  # the index reads a folder once run.json is there
    assert not list(tmp_path.glob(".*"))  # no temporary file left
