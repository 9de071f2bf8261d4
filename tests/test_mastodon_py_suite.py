"""Run Mastodon.py's own test suite (2.3.3, from its PyPI sdist) against a live Starling.

Its tests expect a Mastodon development server at http://localhost:3000 seeded by its setup.sql;
`starling fixtures mastodon-py` seeds the same accounts, app and tokens. The two passes of `make test`
run at once, so the PostgreSQL pass serves on port 3001 and points their unpacked tests there (the base
URL is the only thing changed in their files). Recording is disabled, so every
request reaches our server. The summary (per module, and every failure with its first error line) goes
to test-output/mastodon_py_summary.txt; the full output beside it.

Run it alone with:  .venv/bin/pytest -q -m slow tests/test_mastodon_py_suite.py -s
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.live import REPO, fixed_port, live_server, port_in_use
from tests.postgres import output_dir

pytestmark = pytest.mark.slow

VERSION = "2.3.3"
PORT = 3001 if os.environ.get("STARLING_TEST_BACKEND") == "postgres" else 3000
OUTPUT = output_dir()
CACHE = REPO / "test-output" / "cache"

# Modules that exercise a server; offline-only modules of theirs (types, ratelimit, streaming
# cassettes) say nothing about Starling.
MODULES = (
    "test_status", "test_timeline", "test_notifications", "test_account", "test_pagination",
    "test_media", "test_markers", "test_search", "test_bookmarks", "test_instance",
    "test_follow_requests", "test_lists", "test_create_app", "test_auth", "test_errors",
    "test_constructor", "test_profile", "test_trends",
)

# Left out, with the reason: tests that can only fail here and would spend the run's time doing it.
DESELECTED = {
    "tests/test_status.py::test_status_card": "link preview cards need outbound fetches, which Starling "
                                               "does not make; the test polls for 60 s before failing",
}

# How many of their tests must pass: the count that passes reliably today. Raise it as Starling grows.
PASS_FLOOR = 165

SUITE_TIMEOUT = 600  # seconds for the whole run; their tests sleep ~2 minutes in total
TEST_TIMEOUT = 60  # seconds for any one test (their client's own request timeout is 300 s)

# Loaded into their pytest with -p: a per-test alarm, so one hung request fails one test, not the run.
TIMEOUT_PLUGIN = '''
import signal
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    def expired(signum, frame):
        raise TimeoutError("test ran longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm({seconds})
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
'''


@dataclass
class SuiteResult:
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[tuple[str, str]] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def total(self, outcome: str) -> int:
        return sum(c[outcome] for c in self.counts.values())


def sdist() -> Path:
    """The Mastodon.py sdist, downloaded from PyPI once and cached under test-output/cache."""
    tarball = CACHE / f"mastodon_py-{VERSION}.tar.gz"
    if not tarball.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                               f"mastodon.py=={VERSION}", "-d", str(CACHE)],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not tarball.exists():
            pytest.skip(f"cannot download Mastodon.py {VERSION} from PyPI:\n{done.stderr[-2000:]}")
    return tarball


def unpack(tarball: Path, into: Path) -> Path:
    """Their source tree, with their tests and recorded cassettes pointed at our port when it is not 3000
    (a few of their tests replay cassettes even with recording disabled, matched on the URL)."""
    with tarfile.open(tarball) as archive:
        archive.extractall(into, filter="data")
    root = into / f"mastodon_py-{VERSION}"
    if PORT != 3000:
        for path in (root / "tests").rglob("*"):
            if path.suffix not in (".py", ".yaml", ".yml", ".json"):
                continue
            source = path.read_text(errors="surrogateescape")
            moved = source.replace("localhost:3000", f"localhost:{PORT}").replace("127.0.0.1:3000", f"127.0.0.1:{PORT}")
            if moved != source:
                path.write_text(moved, errors="surrogateescape")
    return root


def parse_junit(path: Path) -> SuiteResult:
    result = SuiteResult()
    for case in ET.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "").split(".")[-1] or "?"
        test_id = f"{module}::{case.get('name')}"
        problem = next((case.find(tag) for tag in ("failure", "error") if case.find(tag) is not None), None)
        if problem is not None:
            outcome = "failed" if problem.tag == "failure" else "error"
            text = (problem.get("message") or problem.text or "").strip()
            result.failures.append((test_id, (text.splitlines() or [""])[0][:300]))
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        result.counts[module][outcome] += 1
        captured = "".join((case.findtext(tag) or "") for tag in ("system-out", "system-err"))
        captured += (problem.text or "") if problem is not None else ""
        if "Internal server error" in captured:
            result.server_errors.append(test_id)
    return result


def server_crashes(server_log: str) -> Counter:
    """Each distinct unhandled error in our log: 'METHOD /route -> ExceptionType: message', counted."""
    crashes: Counter = Counter()
    blocks = re.split(r"^unhandled error on ", server_log, flags=re.M)[1:]
    for block in blocks:
        lines = block.splitlines()
        route = re.sub(r"/\d+", "/:id", lines[0].strip())
        error = next((line for line in lines[1:] if line and not line.startswith((" ", "Traceback"))), "?")
        crashes[f"{route} -> {re.sub(r' at 0x[0-9a-f]+', '', error)[:200]}"] += 1
    return crashes


def summary_text(result: SuiteResult, crashes: Counter) -> str:
    lines = [f"Mastodon.py {VERSION} suite against Starling: {result.total('passed')} passed, "
             f"{result.total('failed')} failed, {result.total('error')} errors, "
             f"{result.total('skipped')} skipped, {len(DESELECTED)} deselected (floor {PASS_FLOOR})", ""]
    for module in sorted(result.counts):
        c = result.counts[module]
        lines.append(f"{module:28} passed {c['passed']:3}  failed {c['failed']:3}  errors {c['error']:3}  "
                     f"skipped {c['skipped']:3}")
    lines += ["", f"Deselected ({len(DESELECTED)}):"]
    lines += [f"  {test_id.removeprefix('tests/').replace('.py', '')}: {why}" for test_id, why in DESELECTED.items()]
    lines += ["", f"Failures ({len(result.failures)}):"]
    lines += [f"  {test_id}: {message}" for test_id, message in result.failures]
    lines += ["", f"Tests that saw a 500 from Starling ({len(result.server_errors)}):"]
    lines += [f"  {test_id}" for test_id in result.server_errors]
    lines += ["", f"Unhandled errors in Starling's log ({sum(crashes.values())}):"]
    lines += [f"  {n:3}x {crash}" for crash, n in crashes.most_common()]
    return "\n".join(lines) + "\n"


def test_mastodon_py_suite(tmp_path):
    with fixed_port(PORT):
        run_their_suite(tmp_path)


def run_their_suite(tmp_path: Path) -> None:
    if port_in_use(PORT) or port_in_use(PORT, "localhost"):
        pytest.fail(f"port {PORT} is busy: Mastodon.py's tests only talk to http://localhost:{PORT}; "
                    "stop whatever listens there and rerun")
    root = unpack(sdist(), tmp_path / "src")
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    plugin = TIMEOUT_PLUGIN.replace("{seconds}", str(TEST_TIMEOUT))
    (plugin_dir / "starling_test_timeout.py").write_text(plugin)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    junit = OUTPUT / "mastodon_py_junit.xml"
    junit.unlink(missing_ok=True)
    paths = [f"tests/{module}.py" for module in MODULES if (root / "tests" / f"{module}.py").exists()]

    with live_server(tmp_path, port=PORT, domain=f"localhost:{PORT}",
                     before_start=[["fixtures", "mastodon-py"]]) as server:
        env = {k: v for k, v in server.env.items() if not k.startswith("STARLING_")}
        env["PYTHONPATH"] = str(plugin_dir)
        try:
            run = subprocess.run(
                [sys.executable, "-m", "pytest", *paths, *(f"--deselect={test_id}" for test_id in DESELECTED),
                 "--disable-recording", "-p", "no:cacheprovider",
                 "-p", "starling_test_timeout", "-q", "-o", "addopts=", "-o", "junit_logging=all",
                 f"--junitxml={junit}", "--rootdir", str(root)],
                cwd=root, env=env, capture_output=True, text=True, timeout=SUITE_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            partial = exc.stdout or ""
            partial = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
            pytest.fail(f"Mastodon.py's suite ran longer than {SUITE_TIMEOUT} s:\n{partial[-3000:]}")
        server_log = server.log_text()

    output = run.stdout + run.stderr
    (OUTPUT / "mastodon_py_output.txt").write_text(output)
    (OUTPUT / "mastodon_py_server.log").write_text(server_log)
    assert junit.exists(), f"their pytest wrote no report (exit {run.returncode}):\n{output[-3000:]}"
    result = parse_junit(junit)
    crashes = server_crashes(server_log)
    text = summary_text(result, crashes)
    (OUTPUT / "mastodon_py_summary.txt").write_text(text)
    print(text)

    assert not result.server_errors and not crashes, (
        f"Starling answered 500 in: {result.server_errors}\n{list(crashes)[:20]}")
    assert result.total("passed") >= PASS_FLOOR, (
        f"only {result.total('passed')} of Mastodon.py's tests passed (floor {PASS_FLOOR}); "
        "see test-output/mastodon_py_summary.txt")
