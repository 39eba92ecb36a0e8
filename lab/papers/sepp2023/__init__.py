"""Alkhalefi, Leontidis & Zhong 2023, "Semantic Positive Pairs for Enhancing Visual Representation Learning
of Instance Discrimination Methods" (arXiv 2306.16122): nearest neighbours mined once from un-augmented
images, under an encoder trained without labels, become extra positives beside the augmented twin.

The lab adds SePP-SimCLR and SePP-VICReg as methods, a page on the mined pairs and a reproduction with
oracle and random pairs as bounds (docs/science.md, "SePP").
"""

from lab.papers.paper import Paper, PaperPage
from lab.papers.sepp2023 import bench, constants, jobs, methods, reproduce

PAPER = Paper(
    key=constants.KEY,
    title=constants.TITLE,
    citation=constants.CITATION,
    summary="Mined semantic partners as extra positives: how good are the pairs, and do they help?",
    pages=(PaperPage("pages/sepp2023_pairs.py", "Semantic pairs", ":material/join_inner:"),),
    reproduce=reproduce.main,
    job_kinds=jobs.JOB_KINDS,
    methods=(methods.SEPP_SIMCLR, methods.SEPP_VICREG),
    bench=bench.main,
)
