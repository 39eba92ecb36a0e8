"""What a paper package declares about itself: its citation, the app pages that show it, its
`reproduce` command and the background job kinds its pages start. The registry (lab.papers)
collects one `PAPER` from each package."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lab.worker.job import JobKind


def lazy(target: str) -> Callable[..., object]:
    """A function given as "module:name", imported on its first call: a paper's `reproduce` and
    `bench` pull in its analyses (scipy, sklearn, ...), which the app's start must not wait for."""
    module, name = target.split(":")

    def call(*args, **kwargs):
        import importlib

        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__, call.__qualname__, call.__doc__ = (
        name,
        f"lazy({target})",
        f"{target}, imported when called.",
    )
    return call


@dataclass(frozen=True)
class PaperPage:
    """One page of a paper. Its file is pages/<paper>_<name>.py, flat in pages/, and its URL is the
    file's name: a page opened by its URL as a fresh server's first request is looked up there
    (Streamlit's pages/ folder mode, until app.py has run), and a file in a subfolder would not be
    found (pages/ui/state.require_app)."""

    path: str  # the page file, relative to the repository root (e.g. "pages/zhang2023_density.py")
    title: str
    icon: str  # a Streamlit material icon, e.g. ":material/blur_on:"

    @property
    def url(self) -> str:
        return self.path.rsplit("/", 1)[-1].removesuffix(".py")


@dataclass(frozen=True)
class RunColumn:
    """One number a paper adds to the tables of runs, beside kNN and linear accuracy."""

    key: str  # the row's key, e.g. "m1"
    label: str  # a table's header and a chart's axis, with its tag: "M1 global structure [L]"
    help: str  # the header's tooltip: what the number is and where it is explained


@dataclass(frozen=True)
class RunScores:
    """Numbers a paper computes for any run and adds wherever the app tables runs with their scores (the
    Sweeps page, `python -m lab sweep`): read from the paper's cache beside the run, computed by one of the
    paper's job kinds when missing (on the run's backbone, or its pixel baseline with params rep=pixels)."""

    columns: tuple[RunColumn, ...]
    # run or pixel baseline -> {column key: value, None where it is undefined}; None when not computed yet
    stored: Callable[[object], dict | None]
    job_kind: str  # the worker job kind that computes them
    title: str  # what the job computes, for its progress: "M1 and M2"
    # dataset -> why a column is undefined there ("—" in the table), None when every column is defined
    undefined: Callable[[str], str | None] = lambda dataset: None
    note: str = ""  # said under a table that shows them: the tag and what the numbers stand for


@dataclass(frozen=True)
class Paper:
    key: str  # the package's folder name under lab/papers/, e.g. "zhang2023"
    title: str  # the paper's title
    citation: str  # authors, year, venue or arXiv id
    summary: str  # one sentence: what the lab shows of it
    pages: tuple[PaperPage, ...] = ()
    # reproduce(quick, runs_dir, datasets, out_dir, log, train_progress) -> path of the Markdown report
    reproduce: Callable[..., object] | None = None
    job_kinds: tuple[JobKind, ...] = field(default_factory=tuple)
    methods: tuple = ()  # lab.core.methods.Method objects the paper adds to the Train page and the CLI
    datasets: tuple = ()  # lab.core.data.DatasetSpec objects the paper adds to every dataset choice
    # bench(quick: bool) -> exit status: the paper's speed and memory targets, printed with the peer they
    # are compared against (`python -m lab bench-paper <key> [--quick]`)
    bench: Callable[..., int] | None = None
    run_scores: tuple[RunScores, ...] = ()  # numbers the tables of runs show beside kNN and linear accuracy

    @property
    def cite(self) -> str:
        return f'{self.citation}, "{self.title}"'
