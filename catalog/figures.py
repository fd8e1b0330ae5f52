"""Plotly figures of the catalog figures page, as JSON for static/js/figures.js."""

import plotly.graph_objects as go


def coverage_figure(rows) -> str:
    """Per category: offers, offers in a published catalog, offers joined by a person."""
    names = [row.category.path if row.category else "(none)" for row in rows]
    figure = go.Figure(
        [
            go.Bar(name="offers", x=names, y=[row.offers for row in rows]),
            go.Bar(name="in a published catalog", x=names, y=[row.covered for row in rows]),
            go.Bar(name="placed by a person", x=names, y=[row.manual for row in rows]),
        ]
    )
    figure.update_layout(barmode="group", height=360, margin={"l": 10, "r": 10, "t": 30, "b": 80})
    return figure.to_json()


def quality_figure(scores: list[float]) -> str:
    figure = go.Figure(go.Histogram(x=scores, xbins={"start": 0, "end": 1.0001, "size": 0.05}))
    figure.update_layout(
        height=300, margin={"l": 10, "r": 10, "t": 30, "b": 40},
        xaxis={
            "title": "quality score (edge proportion × weakest edge × (1 − conductance) ÷ size penalty)",
            "range": [0, 1],
        },
        yaxis={"title": "catalogs"},
    )  # fmt: skip
    return figure.to_json()
