"""The rules the code's layout keeps, checked by walking the source: one way to change a state, a core that
names no feature app, no imports inside functions to dodge a circle, one database."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["loyalty", "retro", "claims", "exchanges"]
WRITER = {ROOT / "loyalty" / "lifecycle" / "transitions.py", ROOT / "loyalty" / "sql.py"}


def sources(*apps):
    for app in apps:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


STATE_WRITES = [
    re.compile(r"\.update\([^)]*\bstatus\s*="),  # queryset.update(status=…)
    re.compile(r"\.status\s*=[^=]"),  # obj.status = …
    re.compile(r"\bset_state\("),
    re.compile(r"StateLog\s*\(|StateLog\.objects\.(create|bulk_create|update)"),
    re.compile(r"django_fsm_log_statelog", re.IGNORECASE),  # its table in hand-written SQL
    re.compile(r"SET\s+\"?status\"?\s*=", re.IGNORECASE),
]


def test_no_code_but_the_transition_writer_changes_a_state_or_writes_a_log_row():
    offences = []
    for path in sources(*APPS):
        if path in WRITER:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if any(pattern.search(line) for pattern in STATE_WRITES) and "import" not in line:
                offences.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offences, "state written outside loyalty.lifecycle.transition:\n" + "\n".join(offences)


# "retro" is only ever the app; "claims" and "exchanges" are also plain words, so for them the check is
# what names a module: an import, an include, a dotted "app.…" string.
NAMES_AN_APP = re.compile(
    r"\bretro\b|\b(from|import)\s+(claims|exchanges)\b|[\"'](claims|exchanges)(\.|/|[\"'])"
)


def test_the_core_names_no_feature_app():
    offences = []
    for path in sources("loyalty"):
        if path.name == "settings.py":
            continue  # INSTALLED_APPS lists them
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if NAMES_AN_APP.search(line):
                offences.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offences, "\n".join(offences)


def _is_ready(function, parents):
    return function.name == "ready" and any(
        isinstance(p, ast.ClassDef) and any(getattr(b, "id", "") == "AppConfig" for b in p.bases) for p in parents
    )


def test_no_project_module_is_imported_inside_a_function_except_in_an_app_ready():
    offences = []
    for path in sources(*APPS):
        tree = ast.parse(path.read_text())

        def visit(node, parents, path=path):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    if not _is_ready(child, parents):
                        for sub in ast.walk(child):
                            if isinstance(sub, ast.ImportFrom) and (sub.module or "").split(".")[0] in APPS:
                                offences.append(f"{path.relative_to(ROOT)}:{sub.lineno}: {ast.unparse(sub)}")
                            if isinstance(sub, ast.Import) and any(a.name.split(".")[0] in APPS for a in sub.names):
                                offences.append(f"{path.relative_to(ROOT)}:{sub.lineno}: {ast.unparse(sub)}")
                visit(child, [*parents, child], path)

        visit(tree, [])
    assert not offences, "\n".join(offences)


def _project_imports(path):
    """Modules of the project this file imports at module level."""
    found = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                module = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [module])
            if module.split(".")[0] in APPS:
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] in APPS)
    return found


def test_module_imports_have_no_cycles():
    modules = {}
    for path in sources(*APPS):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph = {name: {m for m in _project_imports(path) if m in modules and m != name} for name, path in modules.items()}
    # A package's __init__ re-exporting its submodules is not a cycle through the package.
    cycles, state = [], {}

    def walk(node, stack):
        state[node] = "open"
        for nxt in graph[node]:
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == "open":
                cycles.append(" → ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                walk(nxt, [*stack, nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("pattern", [r"connection\.vendor", r"\.vendor\s*[=!]=", r"sqlite"])
def test_there_is_one_database_and_one_implementation(pattern):
    offences = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sources(*APPS)
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(pattern, line, re.IGNORECASE)
    ]
    assert not offences, "\n".join(offences)


def test_feature_apps_read_members_memberships_and_balances_through_loyalty_selectors():
    offences = []
    for path in sources("retro", "claims", "exchanges"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "loyalty.models":
                names = {alias.name for alias in node.names} & {"Member", "Membership", "LedgerEntry"}
                if names:
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno}: {', '.join(sorted(names))}")
    assert not offences, "\n".join(offences)
