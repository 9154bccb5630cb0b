"""reports/index.html as a reader's browser draws it: headless Chromium (Debian's `chromium`), no network.

`python -m studies.report.screenshot [PAGE] [PICTURE]` (`make screenshot`) writes a PNG of the page's top;
`chromium_command` is also how tests/test_index_browser.py renders the page and reads its DOM.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = "chromium"
# Headless, nothing fetched or synced, a throwaway profile; the page's scripts get time to run.
QUIET = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=5000")


def chromium_command(url: str, profile: Path, *actions: str) -> list[str]:
    """The command that loads `url` in headless Chromium with `profile` as its user folder and does `actions`
    (--dump-dom, --screenshot=PATH ...)."""
    found = shutil.which(CHROMIUM)
    if found is None:
        raise FileNotFoundError(f"{CHROMIUM} not found; install it (Debian: apt-get install chromium)")
    return [found, *QUIET, f"--user-data-dir={profile}", *actions, url]


def screenshot(page: Path, picture: Path, width: int = 1280, height: int = 1800) -> Path:
    """A PNG of the top `height` pixels of `page` at `width`, as a reader's window shows it."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(chromium_command(page.resolve().as_uri(), Path(profile), f"--window-size={width},{height}",
                                        f"--screenshot={picture.resolve()}"),
                       check=True, capture_output=True, timeout=120)
    return picture


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", type=Path, default=Path("reports/index.html"))
    parser.add_argument("picture", nargs="?", type=Path, default=Path("reports/index.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1800)
    arguments = parser.parse_args(argv)
    if not arguments.page.is_file():
        print(f"studybench screenshot: no page {arguments.page}; valid: an HTML file (make report writes "
              "reports/index.html)", file=sys.stderr)
        return 2
    try:
        print(screenshot(arguments.page, arguments.picture, arguments.width, arguments.height))
    except FileNotFoundError as error:
        print(f"studybench screenshot: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
