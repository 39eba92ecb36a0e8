"""Benchmark of what the app's user waits for, on this machine (issue 5's targets):

- a stored run shows its map: load the run, its cached map and kNN table, build the plotly figure
  and its JSON, as the Map page does (target <= 2 s);
- a click on a point of 70,000: the neighbours from the stored kNN table plus the image-grid data
  (target <= 0.3 s); also before the table exists: from the faiss index the Map page builds
  before the first click, and (the peer) from a fresh one-row faiss search per click; and the
  map figure that `st.plotly_chart` serialises again on each click (lab.view.figures), against a plain
  figure with typed arrays.

- with --layouts: the map's UMAP layout of the run's 70,000 backbone features at several epoch
  counts (the lab's default, LARGE_N_EPOCHS, among them): seconds, map fidelity (neighbours kept)
  and 2-D class purity, the trade behind that default.

Uses the stored default Fashion-MNIST run (70,000 rows) when there is one; otherwise a fake
70,000-row run with random features, labels, images and map in a temporary folder (it says so).
Run: python -m lab bench-app  [--runs-dir DIR] [--fake] [--layouts]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from lab.measures import maps as measured_maps
from lab.store import maps, neighbours
from lab.store.atomic import save_npy_atomically
from lab.store.runs import RunStore
from lab.view.thumbnails import neighbour_thumbnails, thumbnail

N_FAKE = 70_000


class FakeRun:
    """Just enough of lab.store.runs.Run for the neighbour and map code: random data, 70,000 rows."""

    def __init__(self, folder: Path, n: int = N_FAKE, d: int = 128, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.path, self.id = folder, "fake-70k"
        self.labels = rng.integers(0, 10, n)
        self.is_test = np.arange(n) >= n - 10_000
        centres = rng.standard_normal((10, d)).astype(np.float32)
        self._x = centres[self.labels] + rng.standard_normal((n, d)).astype(np.float32)
        self._images = rng.integers(0, 256, (n, 1, 28, 28), dtype=np.uint8)

    def features(self, space: str = "backbone") -> np.ndarray:
        return self._x

    def images_np(self) -> np.ndarray:
        return self._images


def _largest_fashion_run(store: RunStore):
    runs = [r for r in store.list() if r.config.dataset == "fashion-mnist" and r.config.subset is None]
    return runs[0] if runs else None


def _names(labels: np.ndarray) -> list[str]:
    return [f"class {c}" for c in range(int(labels.max()) + 1)]


def _figure_json(xy: np.ndarray, labels: np.ndarray) -> int:
    import plotly.io as pio

    from lab.view import figures

    fig = figures.map_figure(xy, labels, _names(labels), "map", "bench")
    return len(pio.to_json(fig, validate=False))


def bench_resend(xy: np.ndarray, labels: np.ndarray, repeats: int = 7) -> dict:
    """Median seconds of what `st.plotly_chart` does with the map on every rerun (a click reruns
    the chart): `plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)`, then
    `plotly.io.to_json(..., validate=False)` (streamlit/elements/plotly_chart.py). For the lab's
    frozen figure of plain lists ('lab') and, the peer, the same map as a plain go.Figure with numpy
    (typed) arrays ('typed'), what the Map page sent before."""
    import plotly.graph_objects as go
    import plotly.io as pio
    import plotly.tools

    from lab.view import figures

    plain = go.Figure()
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        plain.add_trace(go.Scattergl(x=xy[rows, 0], y=xy[rows, 1], mode="markers", customdata=rows[:, None]))
    out = {"engine": pio.json.config.default_engine}
    if out["engine"] == "auto":
        try:
            import orjson  # noqa: F401

            out["engine"] = "orjson"
        except ImportError:
            out["engine"] = "json"
    for name, fig in (
        ("lab", figures.map_figure(xy, labels, _names(labels), "map", "bench")),
        ("typed", plain),
    ):
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            pio.to_json(
                plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True), validate=False
            )
            times.append(time.perf_counter() - t)
        out[name] = float(np.median(times))
    return out


def bench_stored_run(store: RunStore, rid: str) -> dict:
    """Seconds from nothing in memory to the map's figure JSON, as the Map page builds it."""
    t0 = time.perf_counter()
    run = store.load(rid)
    labels = np.array(run.labels)  # force the read (memory-mapped otherwise)
    xy = maps.stored_map(run, "backbone")
    if xy is None:
        raise ValueError(
            f"run {rid} has no stored backbone map; open it in the app once (or call lab.store.maps.run_map)."
        )
    table = neighbours.stored_table(run, "backbone")
    t_data = time.perf_counter() - t0
    size = _figure_json(xy, labels)
    return {"load_run_map_table_s": t_data, "with_figure_json_s": time.perf_counter() - t0,
            "figure_json_mb": size / 1e6, "table": table is not None}  # fmt: skip


def bench_clicks(run, images: np.ndarray, clicks: int = 50, k: int = 16, seed: int = 0) -> dict:
    """Per-click seconds, (median, max): the neighbours plus thumbnails, from the stored table
    ('table'), from the faiss index the Map page builds before the first click while the table is
    not stored yet ('index'; its one-off build time in 'index_build_s'), and from a fresh faiss
    search per click, what a click cost before that index ('search')."""
    from lab.measures.neighbours import cosine_index, knn_search

    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(run.labels), clicks)
    neighbours.neighbour_table(run, "backbone")  # built once, like the app's background job
    t = time.perf_counter()
    x = run.features("backbone")
    index = cosine_index(x)  # what neighbours.prepare_search builds and keeps
    out: dict = {"index_build_s": time.perf_counter() - t}
    for name in ("table", "index", "search"):
        times = []
        for r in rows:
            t = time.perf_counter()
            if name == "table":
                nb = neighbours.neighbours_of(run, int(r), k)
            else:
                kw = {"threads": 1, "index": index} if name == "index" else {}
                sims, idx = knn_search(x if name == "index" else run.features("backbone"), k,
                                       query_rows=np.array([r]), **kw)  # fmt: skip
                nb = neighbours.Neighbours(int(r), int(run.labels[r]), idx[0], sims[0], run.labels[idx[0]],
                                           run.labels[idx[0]] != run.labels[r], 0.0, False)  # fmt: skip
            thumbnail(images[int(r)], 5)
            neighbour_thumbnails(images, nb)
            times.append(time.perf_counter() - t)
        out[name] = (float(np.median(times)), float(np.max(times)))
    return out


def bench_layouts(run, epochs=(200, 120, measured_maps.LARGE_N_EPOCHS)) -> list[dict]:
    """The map's layout of the run's backbone features at each epoch count, from one neighbour graph
    (faiss IVF, as the app's map job builds it): seconds, neighbours kept, 2-D class purity."""
    from lab.measures.neighbours import approx_knn_graph

    x, labels = np.asarray(run.features("backbone")), np.asarray(run.labels)
    measured_maps.warm_up_umap()
    sims, idx = approx_knn_graph(x, measured_maps.N_NEIGHBORS - 1)
    rows = []
    for e in dict.fromkeys(epochs):
        t = time.perf_counter()
        xy = measured_maps.umap_2d(x, knn=(idx, sims), epochs=e)
        rows.append({"epochs": e, "seconds": time.perf_counter() - t, "kept": measured_maps.neighbours_kept(idx, xy),
                     "purity": measured_maps.map_class_purity(xy, labels)})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time what the app's user waits for.")
    parser.add_argument("--runs-dir", default=None, help="runs folder (default $LAB_RUNS_DIR or ./runs)")
    parser.add_argument(
        "--fake", action="store_true", help="use a fake 70,000-row run even if a real one exists"
    )
    parser.add_argument("--layouts", action="store_true",
                        help="also time the map's UMAP layout at 200, 120 and 80 epochs (about a minute)")  # fmt: skip
    args = parser.parse_args(argv)
    store = RunStore(args.runs_dir)
    real = None if args.fake else _largest_fashion_run(store)
    with tempfile.TemporaryDirectory() as tmp:
        if real is not None and maps.stored_map(real, "backbone") is not None:
            print(f"Stored Fashion-MNIST run {real.id} ({len(real.labels):,} rows: {real.title()})")
            s = bench_stored_run(store, real.id)
            run, images = real, real.images().numpy()
        else:
            why = "--fake given" if args.fake else "no stored full Fashion-MNIST run with a map"
            print(f"FAKE run: {N_FAKE:,} rows of random 128-d features, labels, images ({why}).")
            run = FakeRun(Path(tmp))
            images = run.images_np()
            neighbours.neighbour_table(run, "backbone")
            xy = np.random.default_rng(0).standard_normal((N_FAKE, 2)).astype(np.float32)
            save_npy_atomically(maps.map_path(run, "backbone"), xy)
            t0 = time.perf_counter()
            xy, labels = maps.stored_map(run, "backbone"), np.array(run.labels)
            neighbours.stored_table(run, "backbone")
            t_data = time.perf_counter() - t0
            size = _figure_json(xy, labels)
            s = {"load_run_map_table_s": t_data, "with_figure_json_s": time.perf_counter() - t0,
                 "figure_json_mb": size / 1e6, "table": True}  # fmt: skip
        c = bench_clicks(run, images)
        resend = bench_resend(np.asarray(maps.stored_map(run, "backbone")), np.asarray(run.labels))
        layouts = bench_layouts(run) if args.layouts else []
    ok_map, ok_click = s["with_figure_json_s"] <= 2.0, c["table"][0] <= 0.3
    print(f"stored run -> map figure: {s['with_figure_json_s']:.2f} s (run + map + kNN table {s['load_run_map_table_s']:.2f} s; "
          f"figure JSON {s['figure_json_mb']:.1f} MB)  target <= 2 s: {'OK' if ok_map else 'MISSED'}")  # fmt: skip
    print(f"click -> 16 neighbours + image grid: median {c['table'][0] * 1000:.1f} ms, max {c['table'][1] * 1000:.1f} ms "
          f"(stored table)  target <= 300 ms: {'OK' if ok_click else 'MISSED'}")  # fmt: skip
    print(f"  before the table exists, from the index the Map page builds first ({c['index_build_s'] * 1000:.0f} ms, "
          f"once): median {c['index'][0] * 1000:.1f} ms, max {c['index'][1] * 1000:.1f} ms")  # fmt: skip
    print(f"  peer: a fresh faiss search per click, as before that index: median {c['search'][0] * 1000:.1f} ms, "
          f"max {c['search'][1] * 1000:.1f} ms")  # fmt: skip
    print(f"click -> the map re-sent by st.plotly_chart (to_dict + to_json, {resend['engine']}): median "
          f"{resend['lab'] * 1000:.1f} ms; peer, a plain figure with typed arrays: {resend['typed'] * 1000:.1f} ms")  # fmt: skip
    for r in layouts:
        default = " (the lab's default)" if r["epochs"] == measured_maps.LARGE_N_EPOCHS else ""
        print(f"map layout, {r['epochs']} epochs{default}: {r['seconds']:.1f} s, {r['kept']:.1%} of 14 embedding "
              f"neighbours kept on the map, 2-D 15-NN class purity {r['purity']:.3f}")  # fmt: skip
    print(json.dumps({"map_s": round(s["with_figure_json_s"], 3), "click_ms": round(c["table"][0] * 1000, 2),
                      "click_index_ms": round(c["index"][0] * 1000, 2),
                      "click_search_ms": round(c["search"][0] * 1000, 2),
                      "resend_ms": round(resend["lab"] * 1000, 2), "resend_typed_ms": round(resend["typed"] * 1000, 2)}))  # fmt: skip
    return 0 if ok_map and ok_click else 1


if __name__ == "__main__":
    raise SystemExit(main())
