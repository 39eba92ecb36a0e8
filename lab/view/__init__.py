"""What the screen shows, without Streamlit: run labels, plotly figures and image thumbnails."""
