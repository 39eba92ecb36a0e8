"""The paper's 2-D toys (Zhang, Lu & Xuan 2023): RLD stays high where CHS collapses, at the spec's values."""

import pytest

from lab.measures.density import (
    relative_local_density,
)
from lab.papers.zhang2023.toys import toy_clouds, toy_scores

SPEC_TOY_RLD = {"uniform": 0.00, "gaussians": 0.79, "micro-clusters": 0.72, "rings": 0.75, "lines": 0.74}


@pytest.mark.parametrize("kind", SPEC_TOY_RLD)
@pytest.mark.parametrize("seed", [0, 1])
def test_rld_reproduces_the_papers_toy_values(kind, seed):
    assert toy_scores(kind, tau=0.05, seed=seed)["rld"] == pytest.approx(SPEC_TOY_RLD[kind], abs=0.03)


def test_toys_need_raw_coordinates_because_normalising_2d_points_destroys_rings():
    x, y = toy_clouds("rings")
    assert relative_local_density(x, y, 0.05, normalize=True).value == pytest.approx(0.0, abs=0.03)


def test_chs_collapses_on_toys_where_rld_stays_high():
    assert toy_scores("gaussians")["chs"] > 1e3
    assert toy_scores("rings")["chs"] < 10
