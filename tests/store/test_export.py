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


def test_the_tensorboard_projector_zip_holds_tensors_metadata_and_config(run):
    import zipfile

    z = zipfile.ZipFile(io.BytesIO(export.projector_zip(run, "backbone")))
    assert sorted(z.namelist()) == ["metadata.tsv", "projector_config.pbtxt", "tensors.tsv"]
    tensors = np.loadtxt(io.StringIO(z.read("tensors.tsv").decode()), delimiter="\t")
    np.testing.assert_allclose(tensors, run.features(), rtol=1e-5, atol=1e-6)
    meta = z.read("metadata.tsv").decode().splitlines()
    assert meta[0] == "class\tlabel\tsplit\trow" and len(meta) == len(run.labels) + 1
    assert (
        meta[1].split("\t")[1] == str(run.labels[0])
        and 'tensor_path: "tensors.tsv"' in z.read("projector_config.pbtxt").decode()
    )


def test_tables_download_as_csv_and_json_with_nan_as_null():
    rows = [{"probe": "linear", "accuracy": 0.91}, {"probe": "gcn", "accuracy": float("nan")}]
    assert export.rows_csv(rows).decode().splitlines() == ["probe,accuracy", "linear,0.91", "gcn,"]
    assert json.loads(export.rows_json(rows)) == [
        {"probe": "linear", "accuracy": 0.91},
        {"probe": "gcn", "accuracy": None},
    ]
