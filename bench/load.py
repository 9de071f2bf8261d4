"""Drive a running server from a separate process: wrk for HTTP load, /proc for memory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROTATE_TOKENS = r"""
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  local token = tokens[(counter %% #tokens) + 1]
  return wrk.format("%(method)s", "%(path)s", {["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json"}, %(body)s)
end
"""
# Each post a different made-up sentence: near-identical texts from many accounts are a spam campaign
# to the safety scoring, which would quarantine them (no fan-out) and measure something else.
POST_BODY = r"""'{"status": "' .. sentence() .. ' ' .. counter .. '"}'"""
SENTENCE = r"""
local syllables = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fi", "go", "hu", "ja",
  "ke", "pa", "qui", "ro", "su", "ze", "mar", "len", "tor", "bis", "cal", "dun", "fer", "gol"}
-- Each wrk thread has its own Lua state: its own table address makes its own seed.
math.randomseed(os.time() + (tonumber(string.match(tostring({}), "0x(%x+)"), 16) or 0) % 1000003)
sentence = function()
  local words = {}
  for w = 1, math.random(8, 16) do
    local word = ""
    for _ = 1, math.random(1, 3) do word = word .. syllables[math.random(#syllables)] end
    words[w] = word
  end
  return table.concat(words, " ")
end
"""


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int

    def line(self) -> str:
        return (f"{self.requests_per_second:9.0f} req/s   p50 {self.p50_ms:6.1f} ms   p99 {self.p99_ms:6.1f} ms"
                f"   ({self.requests} requests, {self.non_2xx} non-2xx)")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str) -> LoadResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.M))

    def pct(key: str) -> float:
        value, unit = re.match(r"([\d.]+)(\w+)", lat[key]).groups()
        return _ms(value, unit)

    total = int(re.search(r"(\d+) requests in", output).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return LoadResult(rps, pct("50"), pct("99"), total, int(non2xx.group(1)) if non2xx else 0)


def wrk(url: str, *, connections: int, seconds: int, tokens_file: Path | None = None, method: str = "GET",
        post: bool = False, threads: int = 2) -> LoadResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "10s"]
    script = None
    if tokens_file is not None:
        path = url.split("//", 1)[1].split("/", 1)[1]
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        rotate = ROTATE_TOKENS % {"tokens": tokens_file, "method": method, "path": "/" + path,
                                  "body": POST_BODY if post else "nil"}
        script.write((SENTENCE if post else "") + rotate)
        script.close()
        args += ["-s", script.name]
    try:
        out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    finally:
        if script is not None:
            os.unlink(script.name)
    return parse_wrk(out)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, AttributeError, ProcessLookupError):
            continue
        pids.extend(int(c) for c in children)
    return total / 1024
