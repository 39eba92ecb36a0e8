"""What the pages share, one concern per module: session state and cached loaders (state), the sidebar
(sidebar), background-job progress (progress), charts (charts), image grids (images) and result
cards (cards). UI only: every number on screen comes from a `lab` function.

This folder is not a page: app.py lists the pages explicitly (st.navigation).
"""
