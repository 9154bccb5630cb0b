"""reports/README.md: the page a reader opens first, one table of every claim's verdict across studies.

Built from what each study report left (run.json, claims.csv), so it can be rebuilt at any time; shrunk
profiles (smoke) are not results and are left out.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

HEADER = """# studybench results

Every claim of the three articles, tested over several seeds per arm. Verdicts: PASS (supported at the
Holm-corrected 5% level, or the 95% interval inside the stated tolerance), FAIL (the opposite supported, or
the interval wholly outside the tolerance), INCONCLUSIVE (not enough evidence with the seeds run),
DIVERGED (an arm the claim needs diverged in every seed), NOT RUN (an arm it needs was not trained). Each study's folder holds its figures and a summary
with provenance (data source and checksum, device, library versions, wall time).
"""


def study_runs(reports_dir: Path) -> list[tuple[Path, dict]]:
    runs = []
    for path in sorted(reports_dir.rglob("run.json")):
        run = json.loads(path.read_text())
        if run["profile"] == "full":
            runs.append((path.parent, run))
    return runs


def write_index(reports_dir) -> Path:
    reports_dir = Path(reports_dir)
    lines = [HEADER, "| study | variant | claim | the article says | measured | verdict |", "|---|---|---|---|---|---|"]
    sections = []
    for folder, run in study_runs(reports_dir):
        link = folder.relative_to(reports_dir).as_posix()
        for _, claim in pd.read_csv(folder / "claims.csv", keep_default_na=False).iterrows():
            says = claim["says"] + (f" ({claim['article_value']})" if claim["article_value"] else "")
            lines.append(f"| [{run['study']}]({link}/summary.md) | {run['variant']} | {claim['claim']} | {says} "
                         f"| {claim['measured']} | **{claim['verdict']}** |")
        figures = " ".join(f"[{name}]({link}/{name})" for name in run["figures"])
        sections.append(f"- **{run['study']} / {run['variant']}**: {run['context']}; of {run['planned']} planned "
                        f"trials, {run['trials']} finished normally and {run.get('excluded', 0)} diverged or failed "
                        f"(named in the summary); {run['wall_time_s']:.0f} s of training. Figures: {figures}")
    path = reports_dir / "README.md"
    path.write_text("\n".join(lines + ["", "## Studies", ""] + sections) + "\n")
    return path
