import base64
import json

import pandas as pd

from studies.index import write_index

PNG = b"\x89PNG\r\n\x1a\n fake"


def fake_run(folder, profile, verdict):
    folder.mkdir(parents=True)
    (folder / "loss.png").write_bytes(PNG)
    (folder / "run.json").write_text(json.dumps({
        "study": "dropout", "variant": "original", "profile": profile, "context": "Fashion-MNIST · n = 5 seeds",
        "figures": {"loss.png": "Loss with and without dropout"}, "trials": 10, "excluded": 0, "planned": 10,
        "wall_time_s": 12.0,
        "summary": {"header": ["arm", "n", "final loss"], "rows": [["Dropout", "5", "0.31 ± 0.02"]]},
        "provenance": {"commit": "abc1234", "device": "CPU: toy"}}))
    common = {"relation": "<", "point": "final", "metric": "accuracy", "split": "train-test", "article_value": "",
              "work": "article 001", "place": "§5.2.2", "quote": "過学習を抑えられている",
              "translation": "overfitting is kept down", "how_measured": "one run", "why_tolerance": "a point"}
    pd.DataFrame([
        {**common, "claim": "narrower_gap", "says": "Dropout narrows the gap", "measured": "a - b: -0.05",
         "verdict": verdict, "family": "", "source_says": "the article says"},
        {**common, "claim": "lower_test_loss", "says": "Dropout lowers the test loss", "measured": "a - b: -0.4",
         "verdict": verdict, "family": "", "source_says": "our reading (the source does not say it)"},
        {**common, "claim": "member_at_1", "says": "a member", "measured": "m", "verdict": "FAIL",
         "family": "some_family", "source_says": "the book behind it says"},
    ]).to_csv(folder / "claims.csv", index=False)


def test_index_lists_every_full_run_claim_and_leaves_out_smoke(tmp_path):
    fake_run(tmp_path / "dropout", "full", "PASS")
    fake_run(tmp_path / "dropout" / "smoke", "smoke", "FAIL")
    readme, page = write_index(tmp_path)
    text = readme.read_text()
    articles, ours = text.index("## What the articles say"), text.index("## Our own readings")
    row = ("| [dropout](dropout/summary.md) | original | narrower_gap | the article says (article 001, §5.2.2): "
           "「過学習を抑えられている」 overfitting is kept down | Dropout narrows the gap | a - b: -0.05 | **PASS** |")
    assert articles < text.index(row) < ours < text.index("| lower_test_loss |")
    assert "member_at_1" not in text and "What the books" not in text  # a family's members: in its summary only
    assert "FAIL |" not in text and "![Loss with and without dropout](dropout/loss.png)" in text
    assert "| Dropout | 5 | 0.31 ± 0.02 |" in text and "- commit: abc1234" in text
    assert "Student-t" in text and "12 s over 10 trials in 1 study reports" in text


def test_index_html_has_the_same_content_with_images_embedded(tmp_path):
    fake_run(tmp_path / "dropout", "full", "PASS")
    html = write_index(tmp_path)[1].read_text()
    assert '<a href="#dropout">dropout</a>' in html and '<h3 id="dropout">dropout / original</h3>' in html
    assert '<strong class="PASS">PASS</strong>' in html and "<td>0.31 ± 0.02</td>" in html
    assert f'<img src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in html
    assert "<li>commit: abc1234</li>" in html and "src=\"dropout/" not in html


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
