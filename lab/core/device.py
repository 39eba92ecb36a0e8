"""Which device trains: CUDA, then MPS, then the CPU, unless one is asked for by name."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA, then MPS, then CPU, unless a device is asked for by name."""
    if requested != "auto":
        if requested == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for, but no CUDA GPU is visible. Use 'auto' or 'cpu'.")
        if requested == "mps" and not torch.backends.mps.is_available():
            raise ValueError("device 'mps' was asked for, but MPS is not available. Use 'auto' or 'cpu'.")
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def loss_read_every(device: torch.device) -> int:
    """Steps between reads of the loss. On an accelerator each read is a host sync that stalls the
    queue of kernels, so it happens every 10 steps (a tenth of a second on an H200)."""
    return 1 if device.type == "cpu" else 10


def default_run_duration(dataset: str, device: torch.device) -> str:
    """How long the default run of `dataset` takes on this kind of device, as measured
    (docs/performance.md, "Default runs"): for the app's empty state."""
    if dataset != "fashion-mnist":
        return "a few seconds"
    if device.type == "cuda":
        return "a few seconds of training on a GPU, under half a minute with scoring (measured on an H200)"
    if device.type == "mps":
        return "not yet timed on MPS; about a minute on 2 CPU cores"
    return "about a minute on 2 CPU cores"
