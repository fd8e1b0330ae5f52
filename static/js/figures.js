// Draws the Plotly figures of a page (JSON in data-figure) and follows a clicked point's customdata URL.
(function () {
  document.querySelectorAll("[data-figure]").forEach((box) => {
    const figure = JSON.parse(box.dataset.figure);
    Plotly.newPlot(box, figure.data, figure.layout, { displaylogo: false, responsive: true });
    box.on("plotly_click", (event) => {
      const url = event.points && event.points[0] && event.points[0].customdata;
      if (url) window.location.assign(url);
    });
  });
})();
