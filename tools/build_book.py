"""Build the book: train the models the chapters need, execute the chapters, and fail on any broken page.

    python tools/build_book.py --out _build/full [--quick] [--strict] [--jobs N] [--no-models] [--root .]

1. Models: every configuration in ``ldc.experiments.book_configs()`` is made
   sure to be in the model cache, trained now if missing (one line per model),
   so no chapter trains inside a cell and no cell runs into the timeout.
2. Chapters: ``jupyter-book build`` executes them (its execution cache skips
   unchanged ones).
3. Check: a cell that failed or timed out leaves a report (``reports/…err.log``
   in the HTML folder) and an error output in its page. Either one fails the
   build, with a line naming the chapter, the cell (its line in the ``.md``)
   and the report, and Sphinx's saved environment is removed so that the next
   build executes that chapter again instead of keeping the broken page.

Ends with the total time and how many models were trained or found.
"""
import argparse
import ast
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml
from check_pages import PageParser

CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n", re.M)
FENCE = re.compile(r"^-{18,}\s*$", re.M)
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours its tracebacks


def chapters(root):
    """Return the chapter sources listed in ``_toc.yml`` (paths relative to ``root``, with their suffix)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = []
    for name in (entry["file"] for entry in toc.get("chapters", [])):
        matches = [root / f"{name}{suffix}" for suffix in (".md", ".ipynb") if (root / f"{name}{suffix}").is_file()]
        if matches:
            found.append(matches[0].relative_to(root))
    return found


def failing_source(report_text):
    """Return the source lines of the failing cell quoted in an execution report, or [] when it quotes none."""
    if "Here is a preview of the cell contents:" in report_text:  # a timeout: the cell, or its first and last lines
        block = report_text.split("Here is a preview of the cell contents:", 1)[1]
    elif "An error occurred while executing the following cell:" in report_text:
        block = report_text.split("An error occurred while executing the following cell:", 1)[1]
    else:
        return []
    parts = FENCE.split(block, maxsplit=2)
    if len(parts) < 3:
        return []
    quoted = parts[1].strip("\n")
    if quoted.startswith("["):  # a long cell is quoted as ['first', ...]\n...\n['last', ...]
        try:
            quoted = "\n".join(ast.literal_eval(quoted.split("\n", 1)[0]))
        except (ValueError, SyntaxError):
            pass
    return [line for line in quoted.splitlines() if line.strip()]


def locate_cell(source_path, lines):
    """Return ``(code cell number from 1, line in the file)`` of the code cell holding ``lines``, or None."""
    if not lines or not source_path.is_file() or source_path.suffix != ".md":
        return None
    text = source_path.read_text()
    for number, match in enumerate(CODE_CELL.finditer(text), start=1):
        body = text[match.end():text.find("\n```", match.end())]
        if all(line in body for line in lines[:3]):
            return number, text.count("\n", 0, match.start()) + 1
    return None


def error_name(report_text):
    """Return the last exception line of a report (e.g. ``CellTimeoutError: ...``), shortened to one line."""
    names = re.findall(r"^(\w+(?:\.\w+)*(?:Error|Exception|Interrupt)\b.*)$", report_text, re.M)
    last = names[-1] if names else "an error"
    return last if len(last) <= 160 else last[:157] + "..."


def find_failures(root, html_dir, sources):
    """Return one message per broken chapter: a fresh execution report, or an error output in its page."""
    messages = []
    for source in sources:
        doc = source.with_suffix("")
        report = html_dir / "reports" / f"{doc}.err.log"
        page = html_dir / f"{doc}.html"
        if report.is_file():
            text = ANSI.sub("", report.read_text(errors="replace"))
            where = locate_cell(root / source, failing_source(text))
            cell = f"code cell {where[0]} (line {where[1]})" if where else "a cell (see the report)"
            messages.append(f"{source}: {cell} failed: {error_name(text)}; report: {report}")
        elif page.is_file():
            parsed = PageParser()
            parsed.feed(page.read_text(errors="replace"))
            if parsed.error_outputs or "Traceback (most recent call last)" in page.read_text(errors="replace"):
                messages.append(f"{source}: its page {page} shows an error output (a cell failed in an earlier "
                                "build); it will be executed again")
        else:
            messages.append(f"{source}: no page was written ({page})")
    return messages


def format_seconds(seconds):
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="folder holding _config.yml and _toc.yml")
    parser.add_argument("--out", type=Path, required=True,
                        help="jupyter-book's --path-output (HTML in OUT/_build/html)")
    parser.add_argument("--quick", action="store_true", help="quick mode (LDC_QUICK=1) for the models and the chapters")
    parser.add_argument("--strict", action="store_true", help="warnings are errors (-W -n --keep-going)")
    parser.add_argument("--jobs", type=int, default=1, help="models trained at once (default 1)")
    parser.add_argument("--no-models", action="store_true", help="skip step 1 (the chapters train what they lack)")
    parser.add_argument("--started", type=float, help="when the whole command began (seconds since the epoch), "
                        "so the time reported includes what ran before this script (make's setup)")
    args = parser.parse_args(argv)
    started = time.time() if args.started is None else args.started
    root = args.root.resolve()
    out = args.out.resolve()
    os.environ["LDC_QUICK"] = "1" if args.quick else "0"
    mode = "quick" if args.quick else "full"

    models = None
    if not args.no_models:
        from ldc import experiments

        models = experiments.prepare(experiments.book_configs(), jobs=args.jobs)

    html_dir = out / "_build" / "html"
    reports = html_dir / "reports"
    if reports.is_dir():  # only this build's reports count
        for stale in sorted(reports.rglob("*.err.log")):
            stale.unlink()
    jupyter_book = Path(sys.executable).with_name("jupyter-book")  # the one installed beside this Python
    command = [str(jupyter_book), "build", str(root), "--path-output", str(out)]
    if args.strict:
        command += ["-W", "-n", "--keep-going"]
    built = subprocess.run(command)

    sources = chapters(root)
    failures = find_failures(root, html_dir, sources)
    if built.returncode != 0 and not failures:
        failures.append(f"jupyter-book build exited with status {built.returncode} (see its messages above)")
    elapsed = format_seconds(time.time() - started)
    summary = ("" if models is None else
               f"; models: {models.trained} trained, {models.downloaded} downloaded, {models.found} found in the cache "
               f"({format_seconds(models.seconds)})")
    if failures:
        # Sphinx would otherwise keep the broken pages and not read their chapters again next time.
        (out / "_build" / ".doctrees" / "environment.pickle").unlink(missing_ok=True)
        print(f"\nbuild_book: the {mode}-mode book is BROKEN, after {elapsed}{summary}:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    print(f"\nbuild_book: {len(sources)} chapters built in {mode} mode in {elapsed}{summary}")
    print(f"The {mode}-mode book is at {html_dir / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
