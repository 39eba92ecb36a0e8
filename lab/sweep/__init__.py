"""Sweeps: a grid of configs (method x embedding size x augmentation strength or q x seed, ...) trained
and stored one run each, reusing what is stored, resumable, on this machine or as Ray tasks on a
cluster. grid.py says what a sweep is and what it will cost; runner.py runs one."""
