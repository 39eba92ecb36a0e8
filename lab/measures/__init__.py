"""Pure measures of a representation: functions of feature arrays and labels, no file I/O.

features (checks and helpers), neighbours (faiss search), density (RLD, CHS, kNN density),
purity (class purity, cross-class pairs), maps (UMAP, map fidelity) and probes/ (linear, kNN,
GCN, the probe table, the scores stored with every run). Definitions: docs/science.md.
"""
