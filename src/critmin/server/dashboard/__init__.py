"""Server-rendered dashboard pages; charts are plotly figures rendered in the browser from embedded JSON."""
