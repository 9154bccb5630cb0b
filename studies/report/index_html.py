"""reports/index.html: the results as a page a reader opens, one self-contained file (images inlined, style and
script inline, nothing fetched).

At the top the count of each verdict (each a filter) and the contents; then the claims grouped by article and
study, the articles' own claims first, each as a card: the source's sentence in its language and in English,
the verdict, the seeds, the effect with its interval and a small forest plot of it against the claimed window,
how it was measured and its per-seed figure. A family of settings (the 16 batch-norm scales) is one card that
opens to its members. Then per study: what ran, the command that reruns it, its tables and figures. A few lines
of script sort and filter the cards by verdict from the address's hash (`#verdict=FAIL`, `#sort=verdict`), so a
filtered view can be linked to. The same content as reports/README.md (studies/report/index.py), laid out to be read.
"""
from __future__ import annotations

import html
import math
import re

from studies.report.document import STYLE, Image, Verdict, html_block, html_cell
from studies.report.study_report import study_blocks

VERDICT_ORDER = ("FAIL", "INCONCLUSIVE", "DIVERGED", "NOT RUN", "PASS")  # sorted by verdict: problems first
FOREST_WIDTH, FOREST_ROW, FOREST_LABEL = 300, 20, 14  # px: the plot's width, a row's height, the axis labels' band
WINDOW_LABELS_APART = 40  # px: a window narrower than this gets one label, in its middle
CARD_STYLE = """
.counts { display: flex; flex-wrap: wrap; gap: 0.5em; margin: 0.5em 0 }
.counts a { border: 1px solid #ccc; border-radius: 0.3em; padding: 0.2em 0.7em; text-decoration: none; color: inherit }
.counts a.on { background: #e8eefc; border-color: #557 }
.counts b { font-size: 130% }
.smoke { background: #fff4d6; border: 1px solid #d9b44a; padding: 0.5em 1em }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(26em, 1fr)); gap: 0.8em }
.card { border: 1px solid #ccc; border-left: 0.4em solid #999; border-radius: 0.3em; padding: 0.5em 0.8em }
.card.verdict-PASS { border-left-color: #2e8b3a } .card.verdict-FAIL { border-left-color: #b00020 }
.card.verdict-INCONCLUSIVE { border-left-color: #c99a00 }
#contents li { margin: 0.15em 0 } #contents .studies a { margin-right: 0.6em }
.card header { display: flex; justify-content: space-between; gap: 0.5em; font-size: 90% }
.card blockquote { margin: 0.4em 0; font-size: 110% } .card .english { margin: 0 0 0.4em; font-style: italic }
.card .whose { color: #555; font-size: 85% } .card p { margin: 0.3em 0 }
.forest { display: block; margin: 0.3em 0 } .forest text { font-size: 10px; fill: #444 }
.effect { font-size: 85%; color: #333 }
details > summary { cursor: pointer; color: #345 }
.card .card, .members td { font-size: 90% }
code { background: #f3f3f3; padding: 0.1em 0.3em }
"""
# Sort and filter the cards from the address's hash: "#verdict=FAIL", "#sort=verdict", or both joined by "&".
SCRIPT = ("""<script>
function applyHash() {
  const wanted = new URLSearchParams(location.hash.slice(1));
  const verdict = wanted.get("verdict"), byVerdict = wanted.get("sort") === "verdict";
  const cards = [...document.querySelectorAll(".cards > .card")];
  for (const card of cards) card.hidden = verdict !== null && !card.dataset.verdicts.split(" ").includes(verdict);
  for (const group of document.querySelectorAll(".cards")) {
    const order = card => byVerdict ? card.dataset.rank * 1000 + +card.dataset.order : +card.dataset.order;
    group.append(...[...group.children].sort((a, b) => order(a) - order(b)));
  }
  for (const section of document.querySelectorAll(".claims-of-study, .claims-of-article"))
    section.hidden = !section.querySelector(".cards > .card:not([hidden])");
  for (const link of document.querySelectorAll(".counts a"))
    link.classList.toggle("on", link.dataset.verdict === (verdict ?? "") || """
          """link.dataset.sort === "verdict" && byVerdict);
  const shown = cards.filter(card => !card.hidden).length;
  document.getElementById("shown").textContent = `${shown} of ${cards.length} cards shown` """
          """+ (verdict ? ` (${verdict})` : "");
}
addEventListener("hashchange", applyHash);
applyHash();
</script>""")


def _escape(text) -> str:
    return html.escape(str(text))


def _language(quote: str) -> str:
    """The quote's language for the browser's fonts: Korean when it has Hangul, else Japanese (the sources')."""
    return "ko" if re.search("[\uac00-\ud7a3]", quote) else "ja"


def _number(value: float) -> str:
    return f"{value:.3g}"


class Scale:
    """Values to pixels across the forest plot, over every finite number it draws, with a margin."""

    def __init__(self, effects: list[dict]):
        numbers = [n for effect in effects
                   for n in (effect["estimate"], effect["low"], effect["high"], *effect["window"])
                   if n is not None and math.isfinite(n)]
        low, high = min(numbers), max(numbers)
        margin = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
        self.low, self.high = low - margin, high + margin

    def __call__(self, value: float | None, missing: float) -> float:
        """Pixels of `value`; `missing` (0 or 1: an edge) where a side of an interval is unbounded."""
        share = missing if value is None else (value - self.low) / (self.high - self.low)
        return round(4 + share * (FOREST_WIDTH - 8), 1)


def _window_labels(window: list[float], left: float, right: float) -> list[tuple[float, str]]:
    """Where to write the window's bounds under the plot: each under its edge, or once in the middle
    ("0 ± 0.01") where the edges are too close for two labels."""
    if right - left >= WINDOW_LABELS_APART:
        return [(left, _number(window[0])), (right, _number(window[1]))]
    middle, half = (window[0] + window[1]) / 2, (window[1] - window[0]) / 2
    return [((left + right) / 2, _number(middle) + (f" ± {_number(half)}" if half else ""))]


def forest_svg(effects: list[dict]) -> str:
    """A row per effect: its interval as a line (reaching the edge where unbounded), its estimate as a dot, and
    the window it is claimed against: a band, or a dashed line where that window is a single value."""
    scale = Scale(effects)
    height = FOREST_LABEL + FOREST_ROW * len(effects)
    axis = height - FOREST_LABEL
    parts = [f'<line x1="4" x2="{FOREST_WIDTH - 4}" y1="{axis}" y2="{axis}" stroke="#bbb"/>']
    for effect in {tuple(effect["window"]): effect for effect in effects}.values():
        left, right = (scale(bound, 0) for bound in effect["window"])
        if right - left < 1:
            parts.append(f'<line x1="{left}" x2="{left}" y1="0" y2="{axis}" stroke="#b00020" '
                         'stroke-dasharray="3 2"/>')
        else:
            parts.append(f'<rect x="{left}" y="0" width="{right - left}" height="{axis}" '
                         'fill="#b00020" fill-opacity="0.12"/>')
        parts += [f'<text x="{x}" y="{height - 3}" text-anchor="middle">{_escape(label)}</text>'
                  for x, label in _window_labels(effect["window"], left, right)]
    for row, effect in enumerate(effects):
        middle = FOREST_ROW * row + FOREST_ROW / 2
        low, high, estimate = scale(effect["low"], 0), scale(effect["high"], 1), scale(effect["estimate"], 0)
        parts += [f'<line x1="{low}" x2="{high}" y1="{middle}" y2="{middle}" stroke="#223" stroke-width="2"/>',
                  f'<circle cx="{estimate}" cy="{middle}" r="4" fill="#223"><title>{_escape(effect["label"])}: '
                  f'{_number(effect["estimate"])}</title></circle>']
    return (f'<svg class="forest" role="img" width="{FOREST_WIDTH}" height="{height}" viewBox="0 0 {FOREST_WIDTH} '
            f'{height}" xmlns="http://www.w3.org/2000/svg">' + "".join(parts) + "</svg>")


def _bound(value: float | None, side: str) -> str:
    return f"{side}∞" if value is None else _number(value)


def effect_lines(evidence: dict) -> list[str]:
    """Each forest row in words: "a - b: 0.031 [0.012, 0.05], claimed above 0 (98.9% interval)"."""
    confidence = f"{100 * evidence.get('confidence', 0.95):.3g}%"
    lines = []
    for effect in evidence.get("effects", ()):
        window = effect["window"]
        claimed = _number(window[0]) if window[0] == window[1] else f"[{_number(window[0])}, {_number(window[1])}]"
        lines.append(f"{effect['label']}: {_number(effect['estimate'])} [{_bound(effect['low'], '-')}, "
                     f"{_bound(effect['high'], '+')}] ({confidence} interval), claimed {effect['claimed']} {claimed}")
    return lines


def _figure(evidence: dict, prefix: str, folder, claim: str) -> str:
    if "figure" not in evidence:
        return ""
    image = html_block(Image(prefix + evidence["figure"], f"{claim}: {evidence['improvement'] or 'per-seed values'}"),
                       folder)
    return f"<details><summary>per-seed figure</summary>{image}</details>"


def _measured(claim) -> str:
    facts = [("measured", claim["measured"]), ("test", claim.get("test", "")),
             ("how the source measured it", claim.get("how_measured", "")),
             ("why this tolerance", claim.get("why_tolerance", ""))]
    items = "".join(f"<li><b>{name}:</b> {_escape(text)}</li>" for name, text in facts if text)
    return f"<details><summary>how it was judged</summary><ul>{items}</ul></details>"


def _source(claim) -> str:
    """The source's sentence: quoted in its language where we have its text, and in English, with where from."""
    if not claim.get("work"):
        return f'<p class="english">{_escape(claim["says"])}</p>'
    quote = claim["quote"]
    quoted = (f'<blockquote lang="{_language(quote)}">「{_escape(quote)}」</blockquote>'
              if quote and not quote.startswith("(") else "")
    return (quoted + f'<p class="english">{_escape(claim["translation"])}</p>'
            f'<p class="whose">{_escape(claim["source_says"])}, {_escape(claim["work"])}, '
            f'{_escape(claim["place"])}</p>')


def claim_body(claim, evidence: dict, prefix: str, folder) -> str:
    """What a card shows under its header: the sentence, what it was judged as, the effect, how it was judged."""
    judged = claim["says"] + (f" (the source's value: {claim['article_value']})" if claim["article_value"] else "")
    effects = evidence.get("effects", [])
    forest = forest_svg(effects) if effects else ""
    words = "".join(f'<p class="effect">{_escape(line)}</p>' for line in effect_lines(evidence))
    improvement = f'<p class="effect">{_escape(evidence["improvement"])}</p>' if evidence.get("improvement") else ""
    return (_source(claim) + f"<p><b>judged as:</b> {_escape(judged)}</p>" + forest + words + improvement
            + _measured(claim) + _figure(evidence, prefix, folder, claim["claim"]))


def _header(claim, study: str) -> str:
    seeds = f" · seeds: {_escape(claim['seeds'])}" if claim["seeds"] else ""
    return (f"<header><span><code>{_escape(claim['claim'])}</code> · {_escape(study)}{seeds}</span>"
            f"{html_cell(Verdict(claim['verdict']))}</header>")


def _card(claim, verdicts: set, order: int, body: str, study: str) -> str:
    rank = VERDICT_ORDER.index(claim["verdict"]) if claim["verdict"] in VERDICT_ORDER else 0
    return (f'<article class="card verdict-{claim["verdict"].replace(" ", "_")}" id="claim-{_escape(claim["claim"])}" '
            f'data-verdicts="{_escape(" ".join(sorted(verdicts)))}" data-rank="{rank}" data-order="{order}">'
            + _header(claim, study) + body + "</article>")


def members_table(members, evidence: dict, prefix: str, folder) -> str:
    """A family's members, a row each: the setting, seeds, its forest plot and verdict, and its evidence."""
    rows = []
    for claim in members:
        item = evidence.get(claim["claim"], {})
        forest = forest_svg(item["effects"]) if item.get("effects") else ""
        rows.append(f"<tr><td><code>{_escape(claim['claim'])}</code><br>{_escape(claim['says'])}</td>"
                    f"<td>{_escape(claim['seeds'])}</td><td>{forest}{_measured(claim)}"
                    f"{_figure(item, prefix, folder, claim['claim'])}</td>"
                    f"<td>{html_cell(Verdict(claim['verdict']))}</td></tr>")
    return ('<table class="members"><thead><tr><th>setting</th><th>seeds</th><th>effect</th><th>verdict</th></tr>'
            "</thead><tbody>" + "".join(rows) + "</tbody></table>")


def claim_cards(claims, run: dict, prefix: str, folder, start: int) -> list[str]:
    """A card per claim of a study (claims: its claims.csv rows, top-level ones in order, each family with its
    members), numbered from `start` for the script's source order."""
    evidence, study = run.get("evidence", {}), f"{run['study']} / {run['variant']}"
    cards = []
    for order, (claim, members) in enumerate(claims, start):
        body = claim_body(claim, evidence.get(claim["claim"], {}), prefix, folder)
        verdicts = {claim["verdict"]} | {member["verdict"] for member in members}
        if members:
            passed = sum(member["verdict"] == "PASS" for member in members)
            body += (f"<details><summary>its {len(members)} settings ({passed} PASS)</summary>"
                     + members_table(members, evidence, prefix, folder) + "</details>")
        cards.append(_card(claim, verdicts, order, body, study))
    return cards


def counts_bar(counts: dict, families: int) -> str:
    """The count of each verdict (a family of settings counts once), each a link that filters the cards to it;
    and one that sorts them."""
    of_them = f" ({families} of them families of settings)" if families else ""
    links = [f'<a href="#" data-verdict="">all <b>{sum(counts.values())}</b> claims{of_them}</a>'] + [
        f'<a href="#verdict={_escape(verdict)}" data-verdict="{_escape(verdict)}" class="{verdict.replace(" ", "_")}">'
        f'{_escape(verdict)} <b>{count}</b></a>' for verdict, count in counts.items()]
    links.append('<a href="#sort=verdict" data-sort="verdict">sort: problems first</a>')
    return f'<nav class="counts">{"".join(links)}</nav><p id="shown"></p>'


def page(title: str, top: list[str], sections: list[str]) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{_escape(title)}</title>\n'
            f"<style>\n{STYLE}\n{CARD_STYLE}</style>\n</head>\n<body>\n" + "\n".join(top + sections)
            + f"\n{SCRIPT}\n</body>\n</html>\n")


def study_section(run: dict, prefix: str, folder, anchor: str) -> str:
    """A study's figures, what ran, the command that reruns it and its tables."""
    blocks = study_blocks(run, prefix, evidence=False)
    return (f'<section id="{_escape(anchor)}"><h3>{_escape(run["study"])} / {_escape(run["variant"])}</h3>'
            + "".join(html_block(block, folder) for block in blocks) + "</section>")

