"""A PNG of an explorer page in headless Chromium, for the README's picture.

    python tools/explorer_screenshot.py PAGE.html '#layer=crossings&index=4,1,0' OUT.png

Uses the tests' DevTools driver (tests/browser.py) and Debian's `chromium`; the width and
height of the window are options (``--width 1280 --height 820``).
"""

import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))
from browser import Browser, find_chromium  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page")
    parser.add_argument("fragment", help="the cell to select, e.g. '#layer=conv2d&index=0,0,0'")
    parser.add_argument("out")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=820)
    args = parser.parse_args()
    executable, why = find_chromium()
    if executable is None:
        sys.exit(why)
    browser = Browser(executable, args.width, args.height)
    try:
        browser.open(pathlib.Path(args.page).resolve().as_uri() + args.fragment)
        pathlib.Path(args.out).write_bytes(browser.screenshot())
    finally:
        browser.close()
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
