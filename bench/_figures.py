"""The figures of one benchmark as Markdown: a table, then a Mermaid chart per figure (run_all.py writes them).

A figure is what _setup.report() / record() appended to the BENCH_FIGURES file: a JSON object with label,
value, unit, floor, floor_label, target, ok and chart. A figure with a floor is drawn as two bars (it and its
floor); one without, as one bar; figures sharing a chart name, as one chart whose x-axis is their labels. A
value that is not a number stays in the table and out of the charts. GitHub draws ```mermaid blocks.
"""

import json
import math
import os
import re

from _setup import shown

TABLE_HEAD = "| Figure | Value | Floor, same run | Target | Result |\n|---|---:|---:|---|---|"
MARKER = re.compile(r"<!-- targets: (\d+) PASS, (\d+) FAIL -->")
MANY_BARS = 4  # more categories than this: a horizontal chart, whose labels have the room


def read_figures(path):
    """The figures in a BENCH_FIGURES file, in the order reported; a line cut short (a killed bench) is skipped."""
    if not path or not os.path.exists(path):
        return []
    figures = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            try:
                figure = json.loads(line)
            except ValueError:
                continue
            if isinstance(figure, dict) and "label" in figure:
                figures.append(figure)
    return figures


def number(value):
    """value as a finite float, or None: a number, or a string that is only a number ("0.57", "1,234.5")."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "").replace("\u202f", ""))
        except ValueError:
            return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def result(figure):
    ok = figure.get("ok")
    return "PASS" if ok is True else "FAIL" if ok is False else "—"


def tally(figures):
    """(PASS, FAIL): how many figures met their target, how many missed it."""
    verdicts = [result(f) for f in figures]
    return verdicts.count("PASS"), verdicts.count("FAIL")


def cell(text):
    """Text for a Markdown table cell: one line, no column break."""
    return " ".join(str(text).split()).replace("|", "\\|") or "—"


def amount(value):
    """A floor for the table: about three significant digits, thousands separated."""
    n = number(value)
    if n is None:
        return str(value)
    return f"{n:,.0f}" if abs(n) >= 1000 else f"{n:,.1f}" if abs(n) >= 10 else f"{n:,.2f}"


def table(figures):
    rows = [TABLE_HEAD]
    for f in figures:
        unit = f" {f['unit']}" if f.get("unit") else ""
        floor = "—"
        if f.get("floor") is not None:
            floor = f"{amount(f['floor'])}{unit}" + (f" ({f['floor_label']})" if f.get("floor_label") else "")
        value = f"{shown(f['value'])}{unit}"
        rows.append(f"| {cell(f['label'])} | {cell(value)} | {cell(floor)} | {cell(f.get('target') or '—')} "
                    f"| {result(f)} |")  # fmt: skip
    return "\n".join(rows)


def quoted(text):
    """A Mermaid string: in double quotes, so none inside; no backtick (a Markdown string), no line break, no
    %% (a comment)."""
    text = str(text).replace('"', "'").replace("`", "'")
    text = " ".join(text.split())
    while "%%" in text:
        text = text.replace("%%", "%")
    return f'"{text}"'


def plain(n):
    """A number as Mermaid reads it: digits and a decimal point, never an exponent."""
    text = f"{n:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def axis_top(highest):
    """A round top for the y-axis, a little above the highest value."""
    if highest <= 0:
        return 1
    step = 10 ** math.floor(math.log10(highest))
    # Up to 12 steps: a value just under the next power of ten (9.6) still gets its 5 % of headroom.
    return next(m * step for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12) if m * step >= highest * 1.05)


def short_labels(labels):
    """Labels less what they all start with (to a space) or end with (from a ', ' or ': '), when that leaves
    each something: "daily pass at 1×", "daily pass at 10×" -> "1×", "10×"."""
    if len(labels) < 2:
        return labels
    start = os.path.commonprefix(labels)
    start = start[: start.rfind(" ") + 1]
    end = os.path.commonprefix([label[::-1] for label in labels])[::-1]
    cuts = [i for i in (end.find(", "), end.find(": ")) if i >= 0]
    end = end[min(cuts) :] if cuts else ""
    short = [label[len(start) : len(label) - len(end)].strip(" ,:") for label in labels]
    return short if all(short) and len(set(short)) == len(short) else labels


def mermaid(title, unit, categories, bars, line=None):
    values = [*bars, *(line or [])]
    low, top = min([0, *values]), axis_top(max(values))
    lines = [
        "```mermaid",
        "xychart-beta" + (" horizontal" if len(categories) > MANY_BARS else ""),
        f"    title {quoted(title)}",
        f"    x-axis [{', '.join(quoted(c) for c in categories)}]",
        f"    y-axis {quoted(unit or 'value')} {plain(low * 1.1 if low < 0 else 0)} --> {plain(top)}",
        f"    bar [{', '.join(plain(b) for b in bars)}]",
    ]
    if line:
        lines.append(f"    line [{', '.join(plain(v) for v in line)}]")
    return "\n".join(lines + ["```"])


def titled(name, unit):
    return f"{name}, {unit}" if unit else name


def single_chart(f):
    value, floor = number(f["value"]), number(f.get("floor"))
    if floor is None:
        return mermaid(titled(f["label"], f.get("unit")), f.get("unit"), [f["label"]], [value])
    floor_name = f"floor: {f['floor_label']}" if f.get("floor_label") else "floor"
    return mermaid(titled(f["label"], f.get("unit")), f.get("unit"), ["measured", floor_name], [value, floor])


def group_chart(name, members):
    """One chart of the figures sharing a chart name: a bar each; their floors as a line when every one has
    one, else each distinct floor as a bar of its own."""
    units = list(dict.fromkeys(f.get("unit") or "" for f in members))
    unit = " / ".join(u for u in units if u)
    categories = short_labels([f["label"] for f in members])
    bars = [number(f["value"]) for f in members]
    floors = [number(f.get("floor")) for f in members]
    title = titled(name, unit)
    if all(v is not None for v in floors):
        return mermaid(f"{title} (bars: measured, line: floor)", unit, categories, bars, floors)
    extra = {}
    for f, v in zip(members, floors, strict=True):
        if v is not None:
            extra.setdefault((f.get("floor_label") or "", v), None)
    for label, v in extra:
        categories.append(f"floor: {label}" if label else "floor")
        bars.append(v)
    return mermaid(title, unit, categories, bars)


def charts(figures):
    """A Mermaid block per numeric figure, or per chart name for figures that share one, in report order."""
    numeric = [f for f in figures if number(f.get("value")) is not None]
    blocks, groups = [], {}
    for f in numeric:
        if f.get("chart"):
            groups.setdefault(f["chart"], []).append(f)
    drawn = set()
    for f in numeric:
        name = f.get("chart")
        if name and len(groups[name]) > 1:
            if name not in drawn:
                drawn.add(name)
                blocks.append(group_chart(name, groups[name]))
        else:
            blocks.append(single_chart(f))
    return blocks


def figures_markdown(figures):
    """The section's structured part: the table, the charts, and a hidden count of its verdicts that the
    document's summary line adds up (summary())."""
    if not figures:
        return ""
    passed, failed = tally(figures)
    parts = [f"<!-- targets: {passed} PASS, {failed} FAIL -->", "Figures of this run:", table(figures)]
    return "\n\n".join(parts + charts(figures))


def summary(text, partial=False):
    """The document's one-line summary: the targets met and missed, over the sections' hidden counts."""
    passed = failed = 0
    for p, f in MARKER.findall(text):
        passed, failed = passed + int(p), failed + int(f)
    where = "in this run" if not partial else "over the sections below, some run alone at another time"
    return f"**Targets: {passed} PASS, {failed} FAIL** ({passed + failed} figures with a target, {where}).\n"
