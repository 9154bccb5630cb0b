"""reports/index.html, built from a synthetic study report, rendered in headless Chromium: every figure loads, the
verdict counts show, and the verdict filter in the address's hash hides the other cards."""
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from studies.report.index import write_index
from studies.report.screenshot import CHROMIUM, chromium_command, screenshot
from tests.synthetic import CLAIMS, FIGURES, toy_plan, toy_report, toy_tables

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason="chromium not installed (Debian package `chromium`; .ci/run installs it when "
                                       "run as root)")
# Once the page has loaded, mark each image: 1 when it decoded to a real picture.
MARK_IMAGES = """<script>window.addEventListener("load", () => { for (const image of document.images)
  image.dataset.loaded = image.complete && image.naturalWidth > 0 ? "1" : "0"; });</script>"""
BROKEN_IMAGE = '<img alt="control" src="data:image/png;base64,AAAA">'  # proves a failed load is seen
SEEDS = 8  # enough for a sign-flip test at 5% to decide: the toy's claims then get more than one verdict


class Elements(HTMLParser):
    """The attributes of every <img> and claim card of a DOM, in order, and the text of #shown."""

    def __init__(self):
        super().__init__()
        self.images, self.cards, self.shown, self._in_shown = [], [], "", False

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if tag == "img":
            self.images.append(attributes)
        if tag == "article" and "card" in attributes.get("class", "").split():
            self.cards.append(attributes)
        self._in_shown = attributes.get("id") == "shown"

    def handle_endtag(self, tag):
        self._in_shown = False

    def handle_data(self, data):
        if self._in_shown:
            self.shown += data


def rendered(url, tmp_path) -> Elements:
    """The elements of the DOM Chromium built from `url`, after its scripts ran."""
    command = chromium_command(url, tmp_path / "chromium-profile", "--dump-dom")
    parser = Elements()
    parser.feed(subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout)
    return parser


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    trials, epochs = toy_tables(SEEDS)
    toy_report(toy_plan(SEEDS), trials, epochs, reports / "toy")
    page = write_index(reports)[1]
    shutil.rmtree(reports / "toy")  # self-contained: nothing beside the page is needed
    return page


def test_every_figure_of_index_html_loads_in_chromium(index, tmp_path):
    page = tmp_path / "checked.html"
    page.write_text(index.read_text().replace("</body>", BROKEN_IMAGE + MARK_IMAGES + "</body>"))
    images = rendered(page.as_uri(), tmp_path).images
    evidence = [image["alt"].split(":")[0] for image in images[:len(CLAIMS)]]  # each card's per-seed figure
    assert evidence == [claim.id for claim in CLAIMS] and images[-1]["alt"] == "control"
    assert [image["alt"] for image in images[len(CLAIMS):-1]] == [figure.title for figure in FIGURES]
    assert [image.get("data-loaded") for image in images] == ["1"] * (len(images) - 1) + ["0"]
    assert all(image["src"].startswith("data:image/png;base64,") for image in images)


def verdicts(cards) -> list[str]:
    return [card["data-verdicts"] for card in cards]


def test_the_verdict_counts_show_and_the_verdict_in_the_address_filters_the_cards(index, tmp_path):
    shown = rendered(index.as_uri(), tmp_path)
    found = verdicts(shown.cards)
    assert len(found) == len(CLAIMS) and len(set(found)) > 1 and not any("hidden" in card for card in shown.cards)
    assert shown.shown == f"{len(CLAIMS)} of {len(CLAIMS)} cards shown"
    counts = {verdict: found.count(verdict) for verdict in set(found)}
    html = index.read_text()
    assert all(f"{verdict} <b>{count}</b>" in html for verdict, count in counts.items())
    for verdict, count in counts.items():
        filtered = rendered(f"{index.as_uri()}#verdict={verdict}", tmp_path)
        assert [card["data-verdicts"] for card in filtered.cards if "hidden" not in card] == [verdict] * count
        assert filtered.shown == f"{count} of {len(CLAIMS)} cards shown ({verdict})"



def test_sorting_by_verdict_puts_problems_first_and_source_order_comes_back(index, tmp_path):
    """The toy's first card in source order is its one problem: moved last, sorting must bring it back first."""
    problem_last = tmp_path / "reordered.html"
    problem_last.write_text(index.read_text().replace('data-order="0"', 'data-order="99"', 1))

    def ranks(hash_part):
        return [int(card["data-rank"]) for card in rendered(problem_last.as_uri() + hash_part, tmp_path).cards]

    assert ranks("") == [4, 4, 1] and ranks("#sort=verdict") == [1, 4, 4]


def test_screenshot_draws_the_page(index, tmp_path):
    picture = screenshot(index, tmp_path / "index.png", width=800, height=600)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert re.search(rb"IHDR\x00\x00\x03\x20\x00\x00\x02\x58", picture.read_bytes()[:32])  # 800 x 600
