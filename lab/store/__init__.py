"""The run store and everything written to disk: runs (one folder per config), the one atomic writer
(atomic), the pixel baseline (baselines), per-run caches (maps, neighbours, derived), exports and
provenance. docs/architecture.md describes the formats."""
