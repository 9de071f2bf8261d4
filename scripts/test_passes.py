"""`make test`: the whole suite on SQLite, and at the same time on PostgreSQL + Redis when
STARLING_TEST_DATABASE_URL and STARLING_TEST_REDIS_URL are set (CI sets them). Fails when either pass fails.

With two passes each writes its own log (test-output/pytest-sqlite.txt, test-output/pytest-postgres.txt),
printed whole when both are done, then one line per pass saying what it ran on and how it ended. With
one pass pytest writes straight to the terminal. Arguments go to pytest in every pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "test-output"
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]


@dataclass
class Pass:
    name: str
    backend: str
    log: Path | None = None
    process: subprocess.Popen | None = None
    started: float = 0.0
    seconds: float = 0.0

    def start(self, args: list[str], everyone: str, *, to_terminal: bool) -> None:
        # Unbuffered, so a log shows how far its pass has got while it runs. STARLING_TEST_PASSES lets a test
        # that brings its own backend run in that backend's pass only (tests/postgres.py).
        env = {**os.environ, "STARLING_TEST_BACKEND": self.backend, "STARLING_TEST_PASSES": everyone,
               "PYTHONUNBUFFERED": "1"}
        self.started = time.monotonic()
        if to_terminal:
            print(f"== {self.name} pass ==", flush=True)
            self.process = subprocess.Popen([*PYTEST, *args], cwd=REPO, env=env)
            return
        self.log = OUTPUT / f"pytest-{self.backend}.txt"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([*PYTEST, *args], cwd=REPO, env=env, stdout=log,
                                            stderr=subprocess.STDOUT)

    def last_line(self) -> str:
        if self.log is None:
            return ""
        lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        return lines[-1].strip("= ") if lines else "(no output)"


def passes_wanted() -> list[Pass]:
    wanted = [Pass("SQLite", "sqlite")]
    database, redis = os.environ.get("STARLING_TEST_DATABASE_URL"), os.environ.get("STARLING_TEST_REDIS_URL")
    if database and redis:
        wanted.append(Pass("PostgreSQL + Redis", "postgres"))
    elif database or redis:
        sys.exit("make test: set both STARLING_TEST_DATABASE_URL and STARLING_TEST_REDIS_URL for the "
                 "PostgreSQL + Redis pass, or neither")
    return wanted


def main(args: list[str]) -> int:
    passes = passes_wanted()
    alone = len(passes) == 1
    OUTPUT.mkdir(exist_ok=True)
    if not alone:
        print(f"Running {len(passes)} passes at once: " + ", ".join(p.name for p in passes)
              + f"; logs in {OUTPUT.relative_to(REPO)}/pytest-<backend>.txt", flush=True)
    try:
        for each in passes:
            each.start(args, ",".join(p.backend for p in passes), to_terminal=alone)
        running = list(passes)
        while running:
            for each in list(running):
                if each.process.poll() is not None:
                    each.seconds = time.monotonic() - each.started
                    running.remove(each)
                    if not alone:
                        print(f"{each.name} pass finished in {each.seconds:.0f} s: {each.last_line()}", flush=True)
            time.sleep(1)
    except KeyboardInterrupt:
        for each in passes:
            if each.process and each.process.poll() is None:
                each.process.terminate()
                each.process.wait()
        return 130

    if not alone:
        for each in passes:
            print(f"\n{'=' * 30} {each.name} pass: {each.log.relative_to(REPO)} {'=' * 30}", flush=True)
            sys.stdout.write(each.log.read_text(errors="replace"))
        print()
    failed = False
    for each in passes:
        code = each.process.returncode
        failed |= code != 0
        verdict = "passed" if code == 0 else f"FAILED (pytest exit {code})"
        detail = f": {each.last_line()}" if each.log else ""
        print(f"{each.name} pass {verdict} in {each.seconds:.0f} s{detail}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
