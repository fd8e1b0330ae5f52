"""Plotly figures of the verification pages as JSON for static/js/figures.js (clicks follow customdata)."""

import plotly.graph_objects as go

from training.selectors.verification import CategoryHealth, Confusion

HEALTH_COLOURS = {"good": "#16a34a", "fair": "#f59e0b", "poor": "#dc2626", "unknown": "#9ca3af"}


def health_figure(rows: list[CategoryHealth], urls: list[str]) -> str:
    """Out-of-fold accuracy on the training set per category, worst first, coloured by health."""
    names = [row.category.path for row in rows]
    figure = go.Figure(
        go.Bar(
            x=[row.training_accuracy if row.training_accuracy is not None else 0 for row in rows],
            y=names,
            orientation="h",
            marker_color=[HEALTH_COLOURS[row.health] for row in rows],
            customdata=urls,
            text=[f"{row.misclassified} of {row.examples} misclassified" for row in rows],
            hovertemplate="%{y}<br>accuracy %{x:.3f}<br>%{text}<extra></extra>",
        )
    )
    figure.update_layout(
        height=max(320, 22 * len(rows) + 80),
        margin={"l": 10, "r": 10, "t": 30, "b": 30},
        xaxis={"range": [0, 1], "title": "accuracy on the training set (out of fold)"},
        yaxis={"autorange": "reversed", "automargin": True},
    )
    return figure.to_json()


def confusion_figure(confusion: Confusion, urls: list[list[str]], *, normalised: bool) -> str:
    """Heatmap: given category (rows) against predicted (columns); counts or row shares."""
    names = [category.path for category in confusion.labels]
    values = confusion.normalised if normalised else confusion.counts
    figure = go.Figure(
        go.Heatmap(
            z=values.tolist(),
            x=names,
            y=names,
            customdata=urls,
            colorscale="Blues",
            text=confusion.counts.tolist(),
            hovertemplate="given %{y}<br>predicted %{x}<br>%{text} examples<extra></extra>",
        )
    )
    size = max(420, 22 * len(names) + 200)
    figure.update_layout(
        height=size,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"title": "predicted", "automargin": True, "tickangle": -45},
        yaxis={"title": "given", "autorange": "reversed", "automargin": True},
    )
    return figure.to_json()
