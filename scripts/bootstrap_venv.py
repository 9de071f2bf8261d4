"""Create .venv even where Debian's python3 has no ensurepip (python3-venv not installed).

`python3 -m venv` is tried first; if it cannot provide pip, the venv is made without pip and pip's own
wheel is fetched from PyPI (the only registry we rely on) and used to install itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
import venv
from pathlib import Path


def main(target: str) -> int:
    root = Path(target)
    python = root / "bin" / "python"
    try:
        venv.EnvBuilder(with_pip=True, clear=False).create(root)
        return 0
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"venv with pip failed ({exc}); bootstrapping pip from PyPI", file=sys.stderr)
    venv.EnvBuilder(with_pip=False, clear=True).create(root)
    with urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=60) as response:
        release = json.load(response)
    wheel = next(f for f in release["urls"] if f["packagetype"] == "bdist_wheel")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / wheel["filename"]
        with urllib.request.urlopen(wheel["url"], timeout=120) as response:
            path.write_bytes(response.read())
        # A wheel is a zip that Python can run from: pip installs itself from its own wheel.
        subprocess.run([str(python), f"{path}/pip", "install", "--no-index", str(path)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else ".venv"))
