"""What `python -m lab bench-browser` reads besides the page: the cores each process uses, a chromium
trace's main-thread waits, and the worker's timeline from the app's log."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process this user can see (Linux /proc)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            out[int(entry.name)] = (int(stat[1]), cmd)
    return out


def _cpu_seconds(pids) -> float:
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(stat[11]) + int(stat[12])  # utime + stime
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def cpu_shares(app_pid: int, seconds: float = 10.0) -> dict[str, float]:
    """Cores used over `seconds` by the app's worker, the app's server and this benchmark's chromium."""
    procs = _processes()

    def under(root: int) -> set[int]:
        found, todo = set(), [root]
        while todo:
            pid = todo.pop()
            found.add(pid)
            todo += [p for p, (parent, _) in procs.items() if parent == pid]
        return found

    app, mine = under(app_pid), under(os.getpid())
    groups = {"worker": [p for p in app if "lab.worker" in procs[p][1]],
              "server": [p for p in app if "streamlit" in procs[p][1] and "lab.worker" not in procs[p][1]],
              "chromium": [p for p in mine - app if "chrom" in procs[p][1]]}  # fmt: skip
    before = {k: _cpu_seconds(v) for k, v in groups.items()}
    time.sleep(seconds)
    return {k: (_cpu_seconds(v) - before[k]) / seconds for k, v in groups.items()}


def main_thread_waits(trace_path: Path) -> tuple[float, float]:
    """From a chromium trace: the longest task on the page's main thread and the time that thread
    spent waiting for the GPU process to read a canvas back (GLES2::ReadPixels), in ms."""
    data = json.loads(trace_path.read_text())
    events = data["traceEvents"] if isinstance(data, dict) else data
    main = {(e["pid"], e["tid"]) for e in events
            if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}  # fmt: skip
    on_main = [e for e in events if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in main]
    longest = max((e["dur"] for e in on_main if "toplevel" in e.get("cat", "")), default=0)
    read_back = sum(e["dur"] for e in on_main if e["name"] == "GLES2::ReadPixels")
    return longest / 1000, read_back / 1000


def worker_timeline(
    log_text: str, since: float, kinds=("warm-up", "train", "map")
) -> list[tuple[float, str]]:
    """(seconds after `since`, what) for the worker's log lines of these job kinds, from the app's log
    (`[lab worker 00:46:06.1    41.4 s] train c9e1...: message Embedding ...`, wall-clock times of
    today in local time)."""
    out = []
    day = time.localtime(since)
    for m in re.finditer(r"\[lab worker (\d\d):(\d\d):(\d\d\.\d)\s+[\d.]+ s\] (\S+) \S+: (.*)", log_text):
        hh, mm, ss, kind, what = m.groups()
        if kind not in kinds:
            continue
        wall = time.mktime((day.tm_year, day.tm_mon, day.tm_mday, int(hh), int(mm), 0, 0, 0, -1)) + float(ss)
        if wall - since < -12 * 3600:  # the line was written after midnight
            wall += 24 * 3600
        out.append((wall - since, f"{kind}: {what}"))
    return out
