"""The report page as a person sees it: rendered in headless Chromium at a phone's and a wide
screen's width, screenshotted, and checked.

    python -m imgclf.evaluation.screenshots [reports/index.html] [reports/screenshots]

(``make screenshots`` runs it and tracks the folder with ``dvc add``: screenshots differ from
machine to machine with fonts and Chromium, so they are no stage's output, and ``dvc repro``
never needs a browser.) At each width: no element runs off the right edge, every image loaded, and every link of the
navigation bar lands on its section, below the sticky bar. Writes ``index_<width>px.png``
(full page) and stops, naming the problems, if a check fails. Needs Chromium (Debian's
``chromium`` package, or ``$CHROMIUM``) and playwright.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

from imgclf.errors import PipelineError, run_stage
from imgclf.layout import PAGE, REPORTS
from imgclf.outputs import atomic_dir

SCREENSHOTS = REPORTS / "screenshots"  # `make screenshots`: tracked by reports/screenshots.dvc, not git
WIDTHS = {390: 844, 1440: 900}  # viewport width: height (a phone, a wide screen)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]

OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth, found = [];
  if (document.documentElement.scrollWidth > width) found.push(`the page is ${document.documentElement.scrollWidth}px wide`);
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1)
      found.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} ends at ${Math.round(box.right)}px`);
  }
  return found.slice(0, 10);
}"""
BROKEN_IMAGES = "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt)"
NAV_TARGETS = "() => Array.from(document.querySelectorAll('nav a')).map(a => a.getAttribute('href'))"
LANDED = """(id) => {
  const target = document.getElementById(id), nav = document.querySelector('nav');
  if (!target) return `no element with id ${id}`;
  const top = target.getBoundingClientRect().top, below = nav.getBoundingClientRect().bottom;
  if (location.hash !== '#' + id) return `the address says ${location.hash}`;
  if (top < below - 1) return `its top (${Math.round(top)}px) is hidden under the navigation bar (${Math.round(below)}px)`;
  if (top >= innerHeight) return `its top (${Math.round(top)}px) is below the screen`;
  return '';
}"""


def chromium() -> str | None:
    """Debian's Chromium (the binary behind its /usr/bin/chromium wrapper), or $CHROMIUM."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/lib/chromium/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def check_at_width(browser, url: str, width: int, screenshot: Path) -> list[str]:
    """Render ``url`` at ``width`` px, save a full-page screenshot; what a reader would see wrong."""
    page = browser.new_page(viewport={"width": width, "height": WIDTHS.get(width, 900)})
    page.goto(url, wait_until="load")
    problems = [f"runs off the right edge: {found}" for found in page.evaluate(OVERFLOWING)]
    problems += [f"image not loaded: {alt!r}" for alt in page.evaluate(BROKEN_IMAGES)]
    page.screenshot(path=str(screenshot), full_page=True)
    for i, href in enumerate(page.evaluate(NAV_TARGETS)):
        if not (href or "").startswith("#"):
            problems.append(f"navigation link {href!r} leaves the page")
            continue
        page.locator("nav a").nth(i).click()
        page.wait_for_timeout(50)
        if wrong := page.evaluate(LANDED, href[1:]):
            problems.append(f"navigation link {href}: {wrong}")
    page.close()
    return [f"at {width}px, {p}" for p in problems]


def check_page(html_path: Path, out_dir: Path, widths: tuple[int, ...] = tuple(WIDTHS)) -> list[str]:
    """Check ``html_path`` at each width and write ``out_dir/index_<width>px.png``; the problems."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise PipelineError("screenshots: the playwright package is missing (make install installs it)") from error
    executable = chromium()
    if executable is None:
        raise PipelineError("screenshots: Chromium is not installed (apt install chromium, or set $CHROMIUM)")
    url = Path(html_path).resolve().as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            return [p for width in widths for p in check_at_width(browser, url, width, Path(out_dir) / f"index_{width}px.png")]
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Screenshot and check the report page in headless Chromium.")
    parser.add_argument("page", nargs="?", type=Path, default=PAGE, help=f"the page (default: {PAGE})")
    parser.add_argument("out", nargs="?", type=Path, default=SCREENSHOTS, help=f"screenshots' folder (default: {SCREENSHOTS})")
    args = parser.parse_args()
    if not args.page.is_file():
        raise PipelineError(f"screenshots: no page {args.page} (run dvc repro evaluate first)")
    with atomic_dir(args.out) as out:
        problems = check_page(args.page, out)
    if problems:
        raise PipelineError(f"screenshots: {args.page} as a reader sees it:\n  " + "\n  ".join(problems))
    print(f"screenshots: {args.page} passes at {', '.join(f'{w}px' for w in WIDTHS)}; "
          f"{', '.join(str(args.out / f'index_{w}px.png') for w in WIDTHS)}")


if __name__ == "__main__":
    run_stage(main)
