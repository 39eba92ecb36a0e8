"""`python -m lab bench-store`: what verifying runs costs (issue 18's targets).

1. Opening a stored 70,000-image run as the app does (load, then read its features, embeddings and
   labels) with sizes checked only, against the same with every checksum checked (what the first
   open in a process does); target: verification adds at most 5 %.
2. `RunStore.verify_all()` (`python -m lab runs --verify`) over 20 such runs; target: 10 s.

The runs are the largest stored Fashion-MNIST run of ./runs when there is one, else a tiny digits
run whose arrays are replaced by 70,000 random rows (the sizes and files of a default run). Both
timings read files the operating system may still hold in memory (it says which); a cold disk adds
its read time to both sides of the first comparison alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from lab.store.manifest import forget_checked, write_manifest
from lab.store.provenance import machine_line
from lab.store.runs import RunStore

ROWS, H_DIM, Z_DIM = 70_000, 128, 128


def _template(folder: Path) -> tuple[Path, str]:
    """A run folder of the default run's size to copy: a stored Fashion-MNIST run, or a made one."""
    real = [r for r in RunStore().list() if r.config.dataset == "fashion-mnist" and len(r.labels) >= ROWS]
    if real:
        return real[0].path, f"stored run {real[0].id} ({len(real[0].labels):,} images)"
    from lab.core.config import TrainConfig

    store = RunStore(folder / "src")
    run, _ = store.get_or_train(TrainConfig(dataset="digits", subset=200, epochs=1))
    rng = np.random.default_rng(0)
    np.save(run.path / "features.npy", rng.normal(size=(ROWS, H_DIM)).astype(np.float32))
    np.save(run.path / "embeddings.npy", rng.normal(size=(ROWS, Z_DIM)).astype(np.float32))
    np.save(run.path / "labels.npy", rng.integers(0, 10, ROWS))
    np.save(run.path / "is_test.npy", np.arange(ROWS) >= 60_000)
    np.save(run.path / "index.npy", np.r_[np.arange(60_000), np.arange(10_000)])
    write_manifest(run.path)
    return (
        run.path,
        f"a digits run with {ROWS:,} random rows of {H_DIM} + {Z_DIM} float32 (no Fashion-MNIST run stored)",
    )


def _open(store: RunStore, rid: str, verify: str) -> float:
    start = time.perf_counter()
    run = store.load(rid, verify=verify)
    run.features(), run.features("projector"), run.labels  # the arrays a stored run's pages read
    return time.perf_counter() - start


def _open_map_page(store: RunStore, rid: str, verify: str, images) -> float:
    """The Map page's server work for a stored run in a new session: load and read the run, its
    images, its stored map, and build the 70,000-point figure (what is sent before the browser draws)."""
    from lab.view import figures

    start = time.perf_counter()
    run = store.load(rid, verify=verify)
    labels, _ = run.labels, run.features()
    _ = images() if images is not None else None
    xy = np.load(run.path / "maps" / "umap-backbone-n15-d0.1.npy")
    figures.map_figure(xy, labels, [str(c) for c in range(10)], "map", f"{rid}-backbone")
    return time.perf_counter() - start


def _fashion_images():
    """A loader of Fashion-MNIST's 70,000 images in one tensor (what the Map page loads), or None."""
    import torch

    from lab.core.data import DatasetUnavailable, load_dataset

    try:
        ds = load_dataset("fashion-mnist")
    except DatasetUnavailable:
        return None
    return lambda: torch.cat([ds.train_images, ds.test_images])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lab bench-store", description=__doc__)
    ap.add_argument("--runs", type=int, default=20, help="runs verified together")
    ap.add_argument("--repeats", type=int, default=7, help="opens per side (median)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lab-bench-store-") as tmp:
        tmp = Path(tmp)
        src, what = _template(tmp)
        root = tmp / "runs"
        (src / "maps").mkdir(exist_ok=True)
        np.save(
            src / "maps" / "umap-backbone-n15-d0.1.npy",
            np.random.default_rng(1).normal(size=(ROWS, 2)).astype(np.float32),
        )
        for i in range(args.runs):
            shutil.copytree(src, root / f"copy{i:08d}")
        store = RunStore(root)
        size = sum(f.stat().st_size for f in (root / "copy00000000").iterdir()) / 2**20
        print(f"{machine_line()}\nruns: {what}; {size:.0f} MiB per run folder")
        plain, checked = [], []
        for _ in range(args.repeats):  # alternate the two sides so that drift hits both alike
            plain.append(_open(store, "copy00000001", "sizes"))
            forget_checked()  # a process's first open: every file it reads is checked
            checked.append(_open(store, "copy00000001", "auto"))
        p, c = float(np.median(plain)), float(np.median(checked))
        print(f"open a stored run (load + features + embeddings + labels), median of {args.repeats}:")
        print(f"  sizes checked: {p * 1000:7.1f} ms")
        print(f"  checksums too: {c * 1000:7.1f} ms   (+{100 * (c - p) / p:.1f} %)")
        images = _fashion_images()
        page, page_checked = [], []
        for _ in range(args.repeats):
            page.append(_open_map_page(store, "copy00000002", "sizes", images))
            forget_checked()
            page_checked.append(_open_map_page(store, "copy00000002", "auto", images))
        p, c = float(np.median(page)), float(np.median(page_checked))
        print(f"the Map page's server work for a stored run in a new session (load, arrays, "
              f"{'images, ' if images else ''}map, figure), median of {args.repeats}:")  # fmt: skip
        print(f"  sizes checked: {p * 1000:7.1f} ms")
        print(f"  checksums too: {c * 1000:7.1f} ms   (+{100 * (c - p) / p:.1f} %; target: at most +5 %)")
        forget_checked()
        start = time.perf_counter()
        found = store.verify_all()
        seconds = time.perf_counter() - start
        print(f"verify_all() (python -m lab runs --verify) over {len(found.runs)} runs "
              f"({len(found.runs) * size / 1024:.1f} GiB): {seconds:.2f} s (target: 10 s); damaged: {len(found.damaged)}")  # fmt: skip
        print(f"(page cache: the files were written or read just before; free memory {os.sysconf('SC_AVPHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.1f} GiB)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
