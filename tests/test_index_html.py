"""reports/index.html, built from a synthetic study report, rendered in headless Chromium: every figure loads."""
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from studies.index import write_index
from studies.report import write_report
from tests.synthetic import CLAIMS, FIGURES, toy_plan, toy_tables

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package `chromium`; "
                                                         ".ci/run installs it when run as root)")
# Once the page has loaded, mark each image: 1 when it decoded to a real picture.
MARK_IMAGES = """<script>window.addEventListener("load", () => { for (const image of document.images)
  image.dataset.loaded = image.complete && image.naturalWidth > 0 ? "1" : "0"; });</script>"""
BROKEN_IMAGE = '<img alt="control" src="data:image/png;base64,AAAA">'  # proves a failed load is seen


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attributes):
        if tag == "img":
            self.found.append(dict(attributes))


def rendered_images(page, tmp_path) -> list[dict]:
    """The <img> attributes of the DOM Chromium built from `page`, after its scripts ran."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=5000", "--dump-dom",
               page.as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    parser = Images()
    parser.feed(dom)
    return parser.found


def test_every_figure_of_index_html_loads_in_chromium(tmp_path):
    reports = tmp_path / "reports"
    trials, epochs = toy_tables()
    write_report(toy_plan(), trials, epochs, reports / "toy")
    index = write_index(reports)[1]
    shutil.rmtree(reports / "toy")  # self-contained: nothing beside the page is needed
    page = tmp_path / "checked.html"
    page.write_text(index.read_text().replace("</body>", BROKEN_IMAGE + MARK_IMAGES + "</body>"))
    images = rendered_images(page, tmp_path)
    evidence = [image["alt"].split(":")[0] for image in images[len(FIGURES):-1]]  # each claim's per-seed figure
    assert [image["alt"] for image in images[:len(FIGURES)]] == [figure.title for figure in FIGURES]
    assert evidence == [claim.id for claim in CLAIMS] and images[-1]["alt"] == "control"
    assert [image.get("data-loaded") for image in images] == ["1"] * (len(images) - 1) + ["0"]
    assert all(image["src"].startswith("data:image/png;base64,") for image in images)
