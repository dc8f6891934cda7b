"""Find, or else install, the headless Chromium the browser tests need, and record it for them (make test).

Order: the system's chromium; Playwright's own browser when one is installed; otherwise
`playwright install chromium`, and where that cannot download and we are root on Debian or
Ubuntu, `apt-get install chromium`. The result goes to .venv/browser.json, which
tests/conftest.py reads. With no browser at all the browser tests are skipped with one
line saying why, except under CI=true, where this script (and the tests) fail instead.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / ".venv" / "browser.json"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
HOW_TO_FIX = (
    "to fix, install one (`apt-get install chromium` as root on Debian/Ubuntu, "
    "or `.venv/bin/playwright install chromium` with internet access) and run make test again"
)


def say(message):
    print(f"ensure_browser: {message}", flush=True)


def system_chromium():
    """The system's Chromium, when its binary answers --version (Ubuntu's snap stub does not without snapd)."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path and _answers(path):
            return path
    return None


def _answers(path):
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def playwright_chromium():
    """Playwright's own Chromium when `playwright install chromium` has put one on this machine."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:
        return None
    return path if path and Path(path).exists() else None


def find_browser():
    """(executable, where it comes from) of a browser already here, or (None, None); installs nothing."""
    path = system_chromium()
    if path:
        return path, "the system's chromium"
    path = playwright_chromium()
    if path:
        return path, "Playwright's own chromium"
    return None, None


def install_browser():
    """Try Playwright's download, then Debian's package; returns what find_browser() then finds."""
    say("no Chromium here: installing Playwright's (playwright install chromium)")
    command = [sys.executable, "-m", "playwright", "install", "chromium"]
    if subprocess.run(command, timeout=1800).returncode == 0:
        path = playwright_chromium()
        if path:
            return path, "Playwright's own chromium (just installed)"
    if os.geteuid() == 0 and shutil.which("apt-get") and Path("/etc/debian_version").exists():
        say("Playwright could not download its browser: installing Debian's (apt-get install chromium)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, timeout=1800)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, timeout=1800)
        path = system_chromium()
        if path:
            return path, "the system's chromium (just installed)"
    return None, None


def read_record():
    """What the last run of this script recorded, or None when it has not run (pytest run by hand)."""
    try:
        return json.loads(RECORD.read_text())
    except (OSError, ValueError):
        return None


def main():
    path, source = find_browser()
    if not path:
        path, source = install_browser()
    if path:
        record = {"executable": path, "source": source, "problem": None}
        say(f"browser tests use {source}: {path}")
    else:
        problem = f"no Chromium was found and none could be installed; {HOW_TO_FIX}"
        record = {"executable": None, "source": None, "problem": problem}
    RECORD.parent.mkdir(exist_ok=True)
    RECORD.write_text(json.dumps(record, indent=2) + "\n")
    if not path:
        if IN_CI:
            say(f"FAILED: CI must run the browser tests, and {record['problem']}")
            return 1
        say(f"WARNING: browser tests will be SKIPPED, {record['problem']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
