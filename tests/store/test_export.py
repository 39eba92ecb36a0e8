"""lab.store.export: what a user downloads round-trips, and PNG export is offered only when it can work."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from lab.store import export, neighbours
from lab.store import maps as store_maps


def test_exports_round_trip(run):
    x = run.features("backbone")
    assert np.array_equal(np.load(io.BytesIO(export.npy_bytes(x))), x)
    xy = store_maps.run_map(run, "backbone")
    lines = export.embeddings_csv(run, "backbone", xy).decode().splitlines()
    assert lines[0].startswith("row,split,index,label,class,map_x,map_y,f0,")
    assert len(lines) == len(run.labels) + 1
    doc = json.loads(export.metrics_json(run))
    assert doc["run_id"] == run.id and "pixels" in doc["metrics"]
    pairs = neighbours.class_pairs(run, top=20)
    assert export.pairs_csv(pairs, run.labels, [str(i) for i in range(10)]).decode().startswith("rank,row_i")


def test_png_export_is_offered_only_when_kaleido_finds_a_chromium(monkeypatch):
    pytest.importorskip("kaleido")
    from choreographer.browsers.chromium import Chromium

    monkeypatch.setattr(Chromium, "find_browser", classmethod(lambda cls, **kw: None))
    assert not export.png_available()
    monkeypatch.setattr(Chromium, "find_browser", classmethod(lambda cls, **kw: "/usr/bin/chromium"))
    assert export.png_available()


def test_png_export_writes_a_png_of_the_figure():
    if not export.png_available():
        pytest.skip("kaleido finds no Chromium here (apt-get install chromium)")
    import plotly.graph_objects as go

    png = export.figure_png(go.Figure(go.Scatter(x=[0, 1], y=[1, 0])), width=300, height=200)
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == 300 and int.from_bytes(png[20:24], "big") == 200
