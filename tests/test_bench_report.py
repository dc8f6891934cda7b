"""bench/run_all.py's sections: what a bench reports through _setup.report() becomes a table and Mermaid charts
in docs/benchmarks.md. A fake bench stands in for the real ones (minutes each): no database."""

import importlib
import json
import re
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))
run_all = importlib.import_module("run_all")
figures = importlib.import_module("_figures")
setup = importlib.import_module("_setup")

FAKE = f"""
import sys
sys.path.insert(0, {str(BENCH)!r})
from _setup import report

report("machine", "2 CPUs, load average 0.1 at start")
report("first refund, requests/s", 61.2, "", "floor 153.2 requests/s; 0.40× the floor; target ≥ 0.5×: FAIL",
       floor=153.2, floor_label="token check + INSERT", target="≥ 0.5× the floor", ok=False)
report('balance read "all metrics", p95', 0.6, "ms", "target < 5 ms", target="< 5 ms", ok=True)
report("import speed / raw COPY speed", "0.71", "", "target >= 0.55", target="≥ 0.55", ok=True)
report("daily pass at 1×", 1.7, "s", chart="daily pass")
report("daily pass at 10×", 15.0, "s", chart="daily pass")
report("pages passing", "0 of 20", "")
"""
NUMERIC_CHARTS = 4  # first refund, balance read, the ratio, the daily pass (1× and 10× in one)
LINE = re.compile(r"^- [^:]+: .+$")
MERMAID_LINE = re.compile(
    r'^(xychart-beta( horizontal)?|    title "[^"\n`]*"|    x-axis \[("[^"\n`]*"(, )?)+\]'
    r'|    y-axis "[^"\n`]*" -?\d+(\.\d+)? --> \d+(\.\d+)?|    (bar|line) \[(-?\d+(\.\d+)?(, )?)+\])$'
)


def write_bench(folder, name, source):
    (folder / f"{name}.py").write_text(textwrap.dedent(source))


def mermaid_blocks(text):
    return re.findall(r"```mermaid\n(.*?)\n```", text, flags=re.S)


def table_rows(text):
    head = text.index(figures.TABLE_HEAD)
    rows = []
    for line in text[head + len(figures.TABLE_HEAD) + 1 :].splitlines():
        if not line.startswith("| "):
            break
        rows.append(line)
    return rows


def run(folder, selected=()):
    out = folder / "benchmarks.md"
    run_all.main(set(selected), here=folder, out=out, before_each=lambda: None)
    return out.read_text()


@pytest.fixture
def folder(tmp_path):
    write_bench(tmp_path, "bench_fake", FAKE)
    return tmp_path


def test_report_prints_its_line_as_before_and_records_the_figure(tmp_path, monkeypatch, capsys):
    path = tmp_path / "figures.jsonl"
    monkeypatch.setenv("BENCH_FIGURES", str(path))
    line = setup.report("submit, p95", 5.25, "ms", "floor 1.39 ms", floor=1.39, target="< 20 ms", ok=True, chart="x")
    setup.report("rows", 1_000_000, "rows", "a.csv")
    assert line == "- submit, p95: 5.2 ms (floor 1.39 ms)"
    assert capsys.readouterr().out == "- submit, p95: 5.2 ms (floor 1.39 ms)\n- rows: 1,000,000 rows (a.csv)\n"
    first, second = [json.loads(line) for line in path.read_text().splitlines()]
    assert first == {"label": "submit, p95", "value": 5.25, "unit": "ms", "floor": 1.39, "floor_label": None,
                     "target": "< 20 ms", "ok": True, "chart": "x", "note": "floor 1.39 ms"}  # fmt: skip
    assert second["value"] == 1_000_000 and second["ok"] is None and second["floor"] is None


def test_report_without_bench_figures_writes_no_file(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("BENCH_FIGURES", raising=False)
    monkeypatch.chdir(tmp_path)
    setup.report("whole benchmark", 12.5, "s")
    assert capsys.readouterr().out == "- whole benchmark: 12.5 s\n"
    assert list(tmp_path.iterdir()) == []


def test_a_full_run_writes_the_lines_a_table_a_chart_per_figure_and_the_summary(folder):
    text = run(folder)
    header, sections = run_all.split_sections(text)
    assert "**Targets: 2 PASS, 1 FAIL** (3 figures with a target, in this run)." in header
    section = sections["bench_fake"]
    assert "- first refund, requests/s: 61.2 (floor 153.2 requests/s;" in section  # the printed lines, as before
    rows = table_rows(section)
    assert len(rows) == 7  # every report() call, numeric or not
    by_label = {row.split(" | ")[0][2:]: row for row in rows}
    assert by_label["first refund, requests/s"].endswith("| 61.2 | 153.2 (token check + INSERT) | ≥ 0.5× the floor "
                                                         "| FAIL |")  # fmt: skip
    assert by_label["import speed / raw COPY speed"].endswith("| ≥ 0.55 | PASS |")
    assert by_label["machine"].endswith("| — | — | — |")
    assert by_label["pages passing"].startswith("| pages passing | 0 of 20 |")
    assert by_label['balance read "all metrics", p95'].endswith("| 0.6 ms | — | < 5 ms | PASS |")


def test_charts_one_per_numeric_figure_with_its_floor_and_a_shared_one_per_series(folder):
    section = run_all.split_sections(run(folder))[1]["bench_fake"]
    blocks = mermaid_blocks(section)
    assert len(blocks) == NUMERIC_CHARTS
    refund, balance, ratio, growth = blocks
    assert refund.splitlines() == [
        "xychart-beta",
        '    title "first refund, requests/s"',
        '    x-axis ["measured", "floor: token check + INSERT"]',
        '    y-axis "value" 0 --> 200',
        "    bar [61.2, 153.2]",
    ]
    assert '    y-axis "ms" 0 --> 0.8' in balance and "    bar [0.6]" in balance
    assert "    bar [0.71]" in ratio  # a number printed as a string is still a number
    assert '    x-axis ["1×", "10×"]' in growth and "    bar [1.7, 15]" in growth
    assert '    title "daily pass, s"' in growth
    assert "0 of 20" not in "".join(blocks)
    for block in blocks:
        for line in block.splitlines():
            assert MERMAID_LINE.match(line), line


def test_quotes_and_backticks_in_a_title_cannot_end_the_mermaid_string():
    block = figures.single_chart({"label": 'the "best" `page` %% here\nnow', "value": 3, "unit": 'say "ms"'})
    assert "    title \"the 'best' 'page' % here now, say 'ms'\"" in block
    assert "    y-axis \"say 'ms'\" 0 --> 4" in block
    for line in block.splitlines()[1:-1]:
        assert MERMAID_LINE.match(line), line


def test_a_table_cell_cannot_break_the_table():
    row = figures.table([{"label": "a | b", "value": "x\ny", "unit": "", "target": None, "ok": None}]).splitlines()[2]
    assert row == "| a \\| b | x y | — | — | — |"


def test_numbers_mermaid_reads_and_labels_of_a_series():
    assert [figures.plain(n) for n in (15.0, 0.000012, 1e9, -0.00001, 2.5)] == ["15", "0", "1000000000", "0", "2.5"]
    assert figures.number("1,234.5") == 1234.5 and figures.number("yes") is None and figures.number(True) is None
    assert figures.number(float("nan")) is None
    screens = ["claim screen, 5 notes, p95", "claim screen, 50 notes, p95"]
    assert figures.short_labels(screens) == ["5 notes", "50 notes"]
    assert figures.short_labels(["a: Search (htmx grid), p95", "b: Search (htmx grid), p95"]) == ["a", "b"]
    assert figures.short_labels(["same", "same"]) == ["same", "same"]
    assert figures.axis_top(153.2) == 200 and figures.axis_top(0) == 1


def test_a_series_with_floors_draws_them_as_a_line_or_as_bars_of_their_own():
    pages = [{"label": f"{name}, p95", "value": v, "unit": "ms", "floor": f, "chart": "search"}
             for name, v, f in (("a", 30, 3), ("b", 40, 4))]  # fmt: skip
    assert "    line [3, 4]" in figures.charts(pages)[0]
    each = {"label": "post, each its own transaction", "value": 640, "floor": 2400, "floor_label": "bare commit"}
    one = {"label": "post, inside one transaction", "value": 1200}
    posts = [{**figure, "unit": "activities/s", "chart": "post"} for figure in (each, one)]
    (chart,) = figures.charts(posts)
    assert '    x-axis ["each its own transaction", "inside one transaction", "floor: bare commit"]' in chart
    assert "    bar [640, 1200, 2400]" in chart


def test_a_partial_run_replaces_its_section_keeps_the_others_and_recounts_the_summary(folder):
    out = folder / "benchmarks.md"
    out.write_text(
        "# Benchmarks\n\n**Targets: 9 PASS, 9 FAIL** (18 figures with a target, in this run).\n\n"
        "Written by make bench.\n\n"
        "## bench_a\n\n- kept: 1.0 s\n\n<!-- targets: 1 PASS, 0 FAIL -->\n\n"
        "## bench_fake\n\n- old: 2.0 s\n\n<!-- targets: 0 PASS, 7 FAIL -->\n\n"
        "## bench_z\n\n- kept too\n"
    )
    write_bench(folder, "bench_a", "raise SystemExit('bench_a must not run')\n")
    text = run(folder, ["bench_fake"])
    header, sections = run_all.split_sections(text)
    assert list(sections) == ["bench_a", "bench_fake", "bench_z"]
    assert sections["bench_a"] == "## bench_a\n\n- kept: 1.0 s\n\n<!-- targets: 1 PASS, 0 FAIL -->\n"
    assert sections["bench_z"] == "## bench_z\n\n- kept too\n"
    assert "Run alone on" in sections["bench_fake"] and "- old" not in sections["bench_fake"]
    assert len(mermaid_blocks(sections["bench_fake"])) == NUMERIC_CHARTS
    assert header.count("**Targets:") == 1 and "Written by make bench." in header
    assert "**Targets: 3 PASS, 1 FAIL** (4 figures with a target, over the sections below" in header


def test_a_partial_run_adds_the_summary_to_a_header_written_before_it(folder):
    (folder / "benchmarks.md").write_text("# Benchmarks\n\nWritten by make bench.\n\n## bench_fake\n\n- old\n")
    header, _ = run_all.split_sections(run(folder, ["bench_fake"]))
    assert header.startswith("# Benchmarks\n\n**Targets: 2 PASS, 1 FAIL** (3 figures with a target, over")
    assert header.endswith("Written by make bench.\n\n")


def test_a_bench_that_fails_keeps_the_figures_it_reported(tmp_path):
    write_bench(tmp_path, "bench_broken", FAKE + "\nraise SystemExit('database gone')\n")
    section = run_all.split_sections(run(tmp_path))[1]["bench_broken"]
    assert "**Failed** (exit 1): database gone" in section
    assert len(table_rows(section)) == 7 and len(mermaid_blocks(section)) == NUMERIC_CHARTS


def test_each_bench_gets_a_figures_file_of_its_own_and_it_is_removed(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    write_bench(tmp_path, "bench_one", FAKE)
    write_bench(tmp_path, "bench_two", FAKE.replace("report(", "(lambda *a, **k: None)(") + "\nreport('only', 1)\n")
    sections = run_all.split_sections(run(tmp_path))[1]
    assert len(table_rows(sections["bench_one"])) == 7
    assert len(table_rows(sections["bench_two"])) == 1
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("highest", [0.5, 1, 9.6, 9.99, 10, 95, 123.4, 999])
def test_a_charts_axis_tops_every_value_with_room_to_spare(highest):
    # 9.6 once found no round top under 10 with 5 % of room, and the whole report stopped.
    top = figures.axis_top(highest)
    assert highest * 1.05 <= top <= highest * 2.5
