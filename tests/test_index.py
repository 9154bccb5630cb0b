import base64
import json
import re

import pandas as pd

from studies.report.index import write_index
from studies.report.index_html import FOREST_WIDTH, forest_svg

PNG = b"\x89PNG\r\n\x1a\n fake"


EFFECT = {"label": "dropout - no_dropout", "estimate": -0.05, "low": -0.08, "high": None, "window": [0.0, 0.0],
          "claimed": "below"}


def fake_run(folder, profile, verdict):
    folder.mkdir(parents=True)
    (folder / "loss.png").write_bytes(PNG)
    (folder / "run.json").write_text(json.dumps({
        "study": "dropout", "variant": "original", "profile": profile, "context": "Fashion-MNIST · n = 5 seeds",
        "figures": {"loss.png": "Loss with and without dropout"}, "trials": 10, "excluded": 0, "planned": 10,
        "wall_time_s": 12.0,
        "summary": {"header": ["arm", "n", "final loss"], "rows": [["Dropout", "5", "0.31 ± 0.02"]]},
        "provenance": {"commit": "abc1234", "device": "CPU: toy"},
        "evidence": {"narrower_gap": {"figure": "loss.png", "improvement": "P(dropout > no_dropout) = 0.00",
                                      "effects": [EFFECT], "confidence": 0.9}},
        "command": "studybench study=dropout variant=original engine=fast n_seeds=5"}))
    common = {"kind": "ordering", "relation": "<", "seeds": "5 of 5", "point": "final", "metric": "accuracy",
              "split": "train-test", "article_value": "",
              "work": "article 001", "place": "§5.2.2", "quote": "過学習を抑えられている",
              "translation": "overfitting is kept down", "how_measured": "one run", "why_tolerance": "a point"}
    pd.DataFrame([
        {**common, "claim": "narrower_gap", "says": "Dropout narrows the gap", "measured": "a - b: -0.05",
         "verdict": verdict, "family": "", "source_says": "the article says"},
        {**common, "claim": "lower_test_loss", "says": "Dropout lowers the test loss", "measured": "a - b: -0.4",
         "verdict": verdict, "family": "", "source_says": "our reading (the source does not say it)"},
        {**common, "claim": "member_at_1", "says": "a member", "measured": "m", "verdict": "FAIL",
         "family": "some_family", "source_says": "", "work": ""},
        {**common, "claim": "member_at_2", "says": "another member", "measured": "m", "verdict": "PASS",
         "family": "some_family", "source_says": "", "work": ""},
        {**common, "claim": "some_family", "kind": "family", "says": "in almost every case", "measured": "1 of 2",
         "verdict": "PASS", "family": "", "source_says": "the book behind it says",
         "work": "the book behind article 001"},
    ]).to_csv(folder / "claims.csv", index=False)


def test_index_lists_every_full_run_claim_and_leaves_out_smoke(tmp_path):
    fake_run(tmp_path / "dropout", "full", "PASS")
    fake_run(tmp_path / "dropout" / "smoke", "smoke", "FAIL")
    readme, page = write_index(tmp_path)
    text = readme.read_text()
    assert ("Verdicts of 3 claims (1 of them families of settings, each one claim): **FAIL** 0, **INCONCLUSIVE** 0, "
            "**DIVERGED** 0, **NOT RUN** 0, **PASS** 3.") in text.split("\n\n")[1]  # first, under the title
    articles, books, ours = (text.index(heading) for heading in ("## What the articles say", "## What the books",
                                                                 "## Our own readings"))
    row = ("| [dropout](dropout/summary.md) | original | narrower_gap | the article says (article 001, §5.2.2): "
           "「過学習を抑えられている」 overfitting is kept down | Dropout narrows the gap | a - b: -0.05 | **PASS** |")
    assert articles < text.index(row) < books < text.index("| some_family |") < ours < text.index("| lower_test_loss |")
    assert "member_at_1" not in text  # a family's members: in its summary only
    assert "FAIL |" not in text and "![Loss with and without dropout](dropout/loss.png)" in text
    assert "| Dropout | 5 | 0.31 ± 0.02 |" in text and "- commit: abc1234" in text
    assert "Reproduce: `studybench study=dropout variant=original engine=fast n_seeds=5`" in text
    assert "[claims.csv](dropout/claims.csv)" in text and "smoke" not in text
    assert "Student-t" in text and "12 s over 10 trials in 1 study reports" in text


def cards(html: str) -> list[str]:
    """Each claim card's opening tag."""
    return re.findall(r'<article class="card[^>]*>', html)


def test_index_html_shows_counts_contents_and_a_card_per_claim_the_article_s_own_first(tmp_path):
    fake_run(tmp_path / "dropout", "full", "PASS")
    html = write_index(tmp_path)[1].read_text()
    assert '<a href="#verdict=PASS" data-verdict="PASS" class="PASS">PASS <b>3</b></a>' in html
    assert '<a href="#verdict=FAIL" data-verdict="FAIL" class="FAIL">FAIL <b>0</b></a>' in html
    assert '<a href="#article-001">article 001</a>: <span class="studies"><a href="#claims-dropout">' in html
    assert [re.search(r'id="claim-(\w+)"', card).group(1) for card in cards(html)] == [
        "narrower_gap", "some_family", "lower_test_loss"]  # the article's, the book's, ours
    family = cards(html)[1]
    assert 'data-verdicts="FAIL PASS"' in family  # a member's FAIL shows under the FAIL filter too
    assert html.count('id="claim-') == 3 and "<summary>its 2 settings (1 PASS)</summary>" in html
    assert '<blockquote lang="ja">「過学習を抑えられている」</blockquote>' in html
    assert "dropout - no_dropout: -0.05 [-0.08, +∞] (90% interval), claimed below 0" in html
    assert html.count("<svg class=\"forest\"") == 1 and "<circle" in html
    assert "<code>studybench study=dropout variant=original engine=fast n_seeds=5</code>" in html
    assert '<a href="dropout/claims.csv">claims.csv</a>' in html and "<td>0.31 ± 0.02</td>" in html
    assert f'<img src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in html
    assert "<li>commit: abc1234</li>" in html and "src=\"dropout/" not in html and 'class="smoke"' not in html


def test_a_smoke_run_s_page_says_so_and_shows_its_results(tmp_path):
    fake_run(tmp_path / "dropout" / "smoke", "smoke", "FAIL")
    readme, page = write_index(tmp_path)
    html, text = page.read_text(), readme.read_text()
    said = "This page shows smoke runs only (profile=smoke: shrunk data and epochs"
    assert said in text and said in html and '<p class="smoke">' in html
    assert "| narrower_gap |" in text and len(cards(html)) == 3 and "FAIL <b>2</b>" in html
    assert "12 s over 10 trials in 1 study reports" in text


def test_forest_plot_marks_a_window_and_runs_an_unbounded_interval_to_the_edge():
    svg = forest_svg([EFFECT, {**EFFECT, "label": "other", "estimate": 0.5, "low": 0.25, "high": 0.75,
                               "window": [0.2, 0.8], "claimed": "inside"}])
    lines = re.findall(r'<line x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)" y2="[\d.]+" stroke="#223"', svg)
    assert float(lines[0][1]) == FOREST_WIDTH - 4  # no upper bound: to the right edge
    assert float(lines[0][0]) < float(lines[1][0]) < float(lines[1][1]) < FOREST_WIDTH - 4
    assert 'stroke-dasharray="3 2"' in svg and '<rect x=' in svg  # a single value, a window
    assert ">0<" in svg and ">0.2<" in svg and ">0.8<" in svg


def test_a_run_json_that_is_not_whole_is_skipped_with_one_line(tmp_path, caplog):
    fake_run(tmp_path / "dropout", "full", "PASS")
    for name, text in (("garbage", '{"study": "drop'), ("partial", '{"study": "x", "profile": "full"}')):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(text)
    readme, page = write_index(tmp_path)
    assert "| [dropout](dropout/summary.md) | original | narrower_gap |" in readme.read_text() and page.is_file()
    said = caplog.messages
    assert said[0].startswith(f"studybench: index: skipped {tmp_path / 'garbage' / 'run.json'}, not a whole run.json (")
    assert said[1].endswith("(no key variant, context, figures, trials, excluded, planned, wall_time_s, summary, "
                            "provenance)") and len(said) == 2


def test_the_beyond_pages_are_linked_from_both_index_pages_where_they_exist(tmp_path):
    fake_run(tmp_path / "dropout", "full", "PASS")
    readme, page = write_index(tmp_path)
    assert "Beyond the articles" not in readme.read_text()  # no beyond page yet: no section
    (tmp_path / "beyond" / "dropout").mkdir(parents=True)
    (tmp_path / "beyond" / "dropout" / "time_to_target.md").write_text("# dropout: time to a target\n")
    readme, page = write_index(tmp_path)
    assert "| [beyond/dropout/time_to_target.md](beyond/dropout/time_to_target.md) |" in readme.read_text()
    assert 'href="beyond/dropout/time_to_target.md"' in page.read_text()
