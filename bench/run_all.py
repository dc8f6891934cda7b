"""Run every bench/bench_*.py and rewrite docs/benchmarks.md with what they printed (make bench).

`python bench/run_all.py bench_a bench_b` runs only those and replaces only their sections (each starts
with `## bench_name`), keeping the others and the header as they were (but its summary line, counted anew over
every section); a section run that way says when.

Each bench runs with BENCH_FIGURES naming a file of its own, where _setup.report() records every figure as
JSON; its section ends with them as a table and Mermaid charts (bench/_figures.py).
"""

import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "benchmarks.md"
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _figures import figures_markdown, read_figures, summary  # noqa: E402


def checkpoint():
    """Write out what the previous benchmark left dirty, so its flush does not run during the next one."""
    import psycopg

    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        # CHECKPOINT is server-wide: through the postgres database, there even before BENCH_DATABASE_URL's is
        # made (a benchmark on a database of its own, _setup.fresh_database, may never make it).
        base, _, options = url.partition("?")
        url = base.rpartition("/")[0] + "/postgres" + (f"?{options}" if options else "")
    else:
        from loyalty.embedded_database import database_url

        url = database_url("postgres")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def split_sections(text):
    """(header, {name: section}) of a benchmarks.md: a section runs from its `## name` line to the next."""
    header, sections, name = [], {}, None
    for line in text.splitlines(keepends=True):
        if line.startswith("## "):
            name = line[3:].strip()
            sections[name] = line
        elif name is None:
            header.append(line)
        else:
            sections[name] += line
    return "".join(header), {name: body.rstrip("\n") + "\n" for name, body in sections.items()}


def run_bench(script):
    """(stdout, stderr, exit code, figures) of one bench script, run with a BENCH_FIGURES file of its own."""
    handle, path = tempfile.mkstemp(prefix=f"{script.stem}-", suffix=".jsonl")
    os.close(handle)
    try:
        env = {**os.environ, "BENCH_FIGURES": path}
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=script.parent,
                              env=env)  # fmt: skip
        return proc.stdout, proc.stderr, proc.returncode, read_figures(path)
    finally:
        os.unlink(path)


def section(name, stdout, figures, returncode=0, stderr="", alone=""):
    """A `## name` section: what the bench printed, how it failed if it did, then its figures' table and charts."""
    body = stdout.strip() or "(printed nothing)"
    status = ""
    if returncode != 0:
        status = f"\n\n**Failed** (exit {returncode}): {stderr.strip()[-500:]}"
    structured = figures_markdown(figures)
    return f"## {name}\n\n{alone}{body}{status}\n" + (f"\n{structured}\n" if structured else "")


def with_summary(header, text, partial):
    """header with its summary line (after the title) made anew from the sections' counts in text."""
    line = summary(text, partial)
    lines = header.splitlines(keepends=True)
    for n, old in enumerate(lines):
        if old.startswith("**Targets:"):
            lines[n] = line
            return "".join(lines)
    title = next((n for n, old in enumerate(lines) if old.startswith("# ")), None)
    if title is None:
        return line + "\n" + header
    return "".join(lines[: title + 1] + ["\n", line] + lines[title + 1 :])


def main(selected, here=HERE, out=OUT, before_each=checkpoint):
    scripts = sorted(p for p in here.glob("bench_*.py") if not selected or p.stem in selected)
    unknown = set(selected) - {p.stem for p in scripts}
    if unknown:
        sys.exit(f"no such benchmark: {', '.join(sorted(unknown))}")
    now = dt.datetime.now(dt.UTC)
    sections = {}
    for script in scripts:
        print(f"== {script.name}", flush=True)
        before_each()
        stdout, stderr, returncode, figures = run_bench(script)
        print(stdout, end="")
        if returncode != 0:
            print(stderr[-3000:], file=sys.stderr)
        alone = ""
        if selected:
            alone = f"Run alone on {now:%Y-%m-%d %H:%M} UTC (`python bench/run_all.py {script.stem}`).\n\n"
        sections[script.stem] = section(script.stem, stdout, figures, returncode, stderr, alone)
    if selected and out.exists():
        header, kept = split_sections(out.read_text())
        sections = {**kept, **sections}
        text = "\n".join(sections[name] for name in sorted(sections))
        out.write_text(with_summary(header, text, partial=True) + text)
        print(f"wrote {out} (sections {', '.join(sorted(selected))})")
        return
    text = "\n".join(sections[name] for name in sorted(sections))
    header = (
        "# Benchmarks\n\n"
        f"{summary(text)}\n"
        f"Written by `make bench` on {now:%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, Python {platform.python_version()}, "
        "PostgreSQL: BENCH_DATABASE_URL, or the embedded server when it is unset. "
        "Each figure is printed by the script named in its heading; the table and charts after a section's lines "
        "are the same figures as report() recorded them (floor measured in the same run, target, PASS or FAIL).\n\n"
    )
    out.parent.mkdir(exist_ok=True)
    out.write_text(header + text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(set(sys.argv[1:]))
