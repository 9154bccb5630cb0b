"""Every verdict a claim can get is shown by each presentation of verdicts: the console's colours, the index's
sort order, and the pages' styles (a verdict added to studies/stats/verdicts.py must be added to each)."""
from studies.report.document import STYLE
from studies.report.index_html import VERDICT_ORDER
from studies.run.logs import VERDICT_COLOURS
from studies.stats.verdicts import VERDICT_NAMES


def test_every_verdict_has_a_colour_a_place_and_a_style():
    assert set(VERDICT_COLOURS) == set(VERDICT_NAMES)
    assert sorted(VERDICT_ORDER) == sorted(VERDICT_NAMES)
    for name in VERDICT_NAMES:
        assert f".{name.replace(' ', '_')} " in STYLE or f".{name.replace(' ', '_')}," in STYLE, name
