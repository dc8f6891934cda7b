"""Run every bench/bench_*.py and rewrite docs/benchmarks.md with what they printed (make bench).

`python bench/run_all.py bench_a bench_b` runs only those and replaces only their sections (each starts
with `## bench_name`), keeping the others and the header as they were; a section run that way says when.
"""

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "benchmarks.md"
sys.path.insert(0, str(HERE.parent))


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


def main(selected):
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not selected or p.stem in selected)
    unknown = set(selected) - {p.stem for p in scripts}
    if unknown:
        sys.exit(f"no such benchmark: {', '.join(sorted(unknown))}")
    now = dt.datetime.now(dt.UTC)
    sections = {}
    for script in scripts:
        print(f"== {script.name}", flush=True)
        checkpoint()
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=HERE)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
        body = proc.stdout.strip() or "(printed nothing)"
        status = ""
        if proc.returncode != 0:
            status = f"\n\n**Failed** (exit {proc.returncode}): {proc.stderr.strip()[-500:]}"
        alone = ""
        if selected:
            alone = f"Run alone on {now:%Y-%m-%d %H:%M} UTC (`python bench/run_all.py {script.stem}`).\n\n"
        sections[script.stem] = f"## {script.stem}\n\n{alone}{body}{status}\n"
    if selected and OUT.exists():
        header, kept = split_sections(OUT.read_text())
        sections = {**kept, **sections}
        OUT.write_text(header + "\n".join(sections[name] for name in sorted(sections)))
        print(f"wrote {OUT} (sections {', '.join(sorted(selected))})")
        return
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` on {now:%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, Python {platform.python_version()}, "
        "PostgreSQL: BENCH_DATABASE_URL, or the embedded server when it is unset. "
        "Each figure is printed by the script named in its heading.\n\n"
    )
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(header + "\n".join(sections[name] for name in sorted(sections)))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(set(sys.argv[1:]))
