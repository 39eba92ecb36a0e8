"""Where a number came from: the code version and the machine, recorded beside every run and report."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import torch


def code_version() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        )  # fmt: skip
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """CPU model, cores, torch threads and GPU (if any) of this machine."""
    cpu = cpu_model()
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU"
    return (f"{cpu}; {os.cpu_count()} cores visible, torch {torch.get_num_threads()} threads{gpu}; "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, torch {torch.__version__}")  # fmt: skip
