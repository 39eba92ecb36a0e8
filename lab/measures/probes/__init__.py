"""Probes on frozen features: what a classifier can read off them. Test labels are read only to score.

Zhang, Lu & Xuan 2023 probes [P] and the lab's kNN [L]; docs/science.md, "Probes".
"""

from lab.measures.probes.common import ProbeResult, bootstrap_interval, holdout_split, label_budget
from lab.measures.probes.gcn import fit_gcn, gcn_probe, rld_graph
from lab.measures.probes.knn import KNN_K, knn_probe
from lab.measures.probes.linear import linear_model, linear_probe
from lab.measures.probes.table import BUDGETS, PROBES, probe_table

__all__ = [
    "BUDGETS",
    "KNN_K",
    "PROBES",
    "ProbeResult",
    "bootstrap_interval",
    "fit_gcn",
    "gcn_probe",
    "holdout_split",
    "knn_probe",
    "label_budget",
    "linear_model",
    "linear_probe",
    "probe_table",
    "rld_graph",
]
