"""Open every chapter page of a built book in headless Chromium and check what a reader sees.

    python tools/check_pages.py _build/quick/_build/html --out _build/screenshots book/01_dct_baseline.md ...

For each chapter it saves a screenshot (``--out``/NN_name.png) and fails,
naming the page and the problem, when the page
  - is missing, or Chromium cannot render it (blank screenshot),
  - has no rendered figure (an image in a cell output that decodes, at least 100x100 pixels),
  - shows an error: a traceback or an error output of a cell,
  - lacks its "Open in Colab" link to the chapter's committed .ipynb,
  - has an output line wider than its column (measured by Chromium at the screenshot's width: the
    reader would have to scroll sideways to read it),
  - shows an absolute path of the machine that built it in an output (a temporary folder, the
    checkout, the home folder),
  - shows math MathJax did not render (the raw ``\\(...\\)`` a reader sees when MathJax is missing).
  - shows a Markdown table a cell printed as text (``|---|`` in an output: the table was not rendered).
The DOM checked is the one Chromium built (``--dump-dom``, after MathJax has run), not the raw file.
"""
import argparse
import html
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageStat

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars"]
MIN_FIGURE_PIXELS = 100
ERROR_MARKERS = ("Traceback (most recent call last)",)
WINDOW = (1280, 2000)  # the screenshot's window, and the width at which output lines are measured
# Injected into a copy of the page: once MathJax is done (or absent), it records every output block whose
# text is wider than its box, and every math element MathJax left unrendered, in an element --dump-dom shows.
MEASURE_ID = "ldc-page-measure"
MEASURE_SCRIPT = """<script>
window.addEventListener("load", () => {
  const mathjax = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
  const settled = Promise.race([mathjax, new Promise(done => setTimeout(done, 8000))]);
  settled.then(() => {
    const wide = [];
    for (const block of document.querySelectorAll("div.cell_output pre")) {
      if (block.scrollWidth > block.clientWidth + 1) {
        const lines = block.textContent.split("\\n");
        const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), "");
        wide.push({excess: block.scrollWidth - block.clientWidth, width: block.clientWidth, line: longest});
      }
    }
    const raw = [...document.querySelectorAll(".math")].filter(m => !m.querySelector("mjx-container"))
      .map(m => m.textContent.trim().slice(0, 80));
    const out = document.createElement("pre");
    out.id = "MEASURE_ID";
    out.textContent = JSON.stringify({wide: wide, raw_math: raw});
    document.body.appendChild(out);
  });
});
</script>""".replace("MEASURE_ID", MEASURE_ID)
# A path of the machine that built the book, in an output: where ldc keeps its temporary files, the
# checkout, the home folder, the model cache. A reader's machine has none of them.
BUILD_PATHS = sorted({tempfile.gettempdir(), str(Path(__file__).resolve().parents[1]), str(Path.home()),
                      os.environ.get("LDC_CACHE_DIR", "")} - {"", "/"}, key=len, reverse=True)


class PageParser(html.parser.HTMLParser):
    """Collects links, images inside cell outputs, and error outputs from a page's DOM."""

    def __init__(self):
        super().__init__()
        self.links, self.output_images, self.error_outputs, self.output_text = [], [], [], []
        self._stack = []  # (tag, is_cell_output, is_error)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        in_output = any(entry[1] for entry in self._stack) or "cell_output" in classes
        is_error = in_output and ("traceback" in classes or "error" in classes)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img" and in_output and attrs.get("src"):
            self.output_images.append(attrs["src"])
        if is_error:
            self.error_outputs.append(" ".join(classes))
        if tag not in ("img", "br", "hr", "meta", "link", "input", "source", "wbr"):
            self._stack.append((tag, in_output, is_error))

    def handle_data(self, data):
        if self._stack and self._stack[-1][1]:
            self.output_text.append(data)

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check_pages: chromium is not installed (make setup installs Debian's chromium)")


def _run_chromium(chromium, url, *args):
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
                              capture_output=True, text=True, timeout=120)


def _figure_problem(page_path, src):
    """Return None when ``src`` (relative to the page) is an image of at least MIN_FIGURE_PIXELS a side."""
    if src.startswith("data:image/"):
        return None
    path = (page_path.parent / src.split("#")[0].split("?")[0]).resolve()
    if not path.is_file():
        return f"figure {src} is missing"
    if path.suffix == ".svg":
        return None if path.stat().st_size > 200 else f"figure {src} is an empty SVG"
    try:
        with Image.open(path) as image:
            image.load()
            if min(image.size) < MIN_FIGURE_PIXELS:
                return f"figure {src} is only {image.size[0]}x{image.size[1]} pixels"
    except OSError as err:
        return f"figure {src} does not decode ({err})"
    return None


def check_page(chromium, html_dir, chapter, out_dir):
    """Return ``(problems, rendered figures, screenshot path)`` for one chapter's page; no problems means it passes."""
    name = Path(chapter).with_suffix("")
    page = (html_dir / name).with_suffix(".html").resolve()
    if not page.is_file():
        return [f"{page} does not exist (is {chapter} in _toc.yml, and was the book built?)"], 0, None
    url = page.as_uri()
    problems = []

    dom = _measured_dom(chromium, page)  # one Chromium run for the parse and the measurements
    if dom.returncode != 0 or "<body" not in dom.stdout:
        return [f"chromium could not load {url}: {dom.stderr.strip()[-300:]}"], 0, None
    parsed = PageParser()
    parsed.feed(dom.stdout)

    notebook = f"{name.as_posix()}.ipynb"
    colab = [link for link in parsed.links if link.startswith("https://colab.research.google.com/github/")]
    if not any(link.endswith("/" + notebook) for link in colab):
        problems.append(f"no Colab link to {notebook} (Colab links found: {colab or 'none'})")

    figures = [src for src in parsed.output_images if _figure_problem(page, src) is None]
    if not figures:
        details = [_figure_problem(page, src) for src in parsed.output_images]
        problems.append("no rendered figure in any cell output" + (f" ({'; '.join(details)})" if details else ""))

    text = dom.stdout
    for marker in ERROR_MARKERS:
        if marker in text:
            problems.append(f"the page shows a traceback ({marker!r})")
    if parsed.error_outputs:
        problems.append(f"{len(parsed.error_outputs)} error output(s) in cells ({parsed.error_outputs[0]})")
    outputs = "".join(parsed.output_text)
    for path in BUILD_PATHS:
        if re.search(re.escape(path) + r"(?![\w.-])", outputs):
            line = next(line for line in outputs.splitlines() if path in line)
            problems.append(f"an output shows the build machine's path {path}: {line.strip()[:120]!r}")
    raw_table = re.search(r"\|\s*:?-{3,}:?\s*\|", outputs)
    if raw_table:
        problems.append("a cell's Markdown table shows as text, not as a table (is nb_render_markdown_format gfm?)")
    problems += measured_problems(dom)

    shot = out_dir / f"{name.name}.png"
    shot.unlink(missing_ok=True)
    result = _run_chromium(chromium, url, f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}")
    if result.returncode != 0 or not shot.is_file():
        problems.append(f"no screenshot: {result.stderr.strip()[-300:]}")
    else:
        with Image.open(shot) as image:
            spread = max(ImageStat.Stat(image.convert("L")).stddev[0], 0.0)
        if spread < 5.0:
            problems.append(f"the screenshot {shot} is blank (pixel spread {spread:.1f})")
    return problems, len(figures), shot


def _measured_dom(chromium, page):
    """Chromium's DOM of a copy of ``page`` (beside it, so links resolve the same) that runs MEASURE_SCRIPT."""
    probe = page.with_name(f".measure-{page.name}")
    probe.write_text(page.read_text(errors="replace").replace("</body>", MEASURE_SCRIPT + "</body>", 1))
    try:
        return _run_chromium(chromium, probe.as_uri(), "--dump-dom", "--virtual-time-budget=15000",
                             f"--window-size={WINDOW[0]},{WINDOW[1]}")
    finally:
        probe.unlink(missing_ok=True)


def measured_problems(dom):
    """Return what MEASURE_SCRIPT recorded in Chromium's ``dom``: output lines too wide, raw math."""
    found = re.search(rf'<pre id="{MEASURE_ID}"[^>]*>(.*?)</pre>', dom.stdout, re.S)
    if not found:
        return [f"the page could not be measured (no result from the script; chromium: {dom.stderr.strip()[-200:]})"]
    measured = json.loads(html.unescape(found.group(1)))
    problems = [f"an output line is {item['excess']} px wider than its {item['width']} px column: "
                f"{item['line'].strip()[:100]!r}" for item in measured["wide"]]
    if measured["raw_math"]:
        problems.append(f"{len(measured['raw_math'])} math element(s) not rendered by MathJax, e.g. "
                        f"{measured['raw_math'][0]!r}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path, help="the built book's HTML folder (…/_build/html)")
    parser.add_argument("chapters", nargs="+", help="chapter sources, e.g. book/01_dct_baseline.md")
    parser.add_argument("--out", type=Path, default=Path("_build/screenshots"), help="where screenshots go")
    args = parser.parse_args(argv)
    if not args.html_dir.is_dir():
        sys.exit(f"check_pages: {args.html_dir} is not a folder: build the book first (make book QUICK=1)")
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = _chromium()
    failed = 0
    for chapter in args.chapters:
        problems, figures, shot = check_page(chromium, args.html_dir, chapter, args.out)
        if problems:
            failed += 1
            print(f"FAIL {chapter}:")
            for problem in problems:
                print(f"     - {problem}")
        else:
            print(f"ok   {chapter}: {figures} figure(s), Colab link, no errors; screenshot {shot}")
    if failed:
        sys.exit(f"check_pages: {failed} of {len(args.chapters)} chapter page(s) failed")
    print(f"check_pages: all {len(args.chapters)} chapter pages passed; screenshots in {args.out}")


if __name__ == "__main__":
    main()
