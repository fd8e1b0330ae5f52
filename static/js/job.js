// Polls a job's JSON until it finishes, then reloads: the page shows the outcome and its links, or the server
// sends a job that succeeded with a next page (an import's preview) on to it.
(function () {
  const box = document.getElementById("job");
  const finished = ["succeeded", "failed", "cancelled"];
  if (!box || finished.includes(box.dataset.status)) return;
  const stage = box.querySelector("[data-field=stage]");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.url, { headers: { Accept: "application/json" } });
      const job = await response.json();
      box.querySelector("progress").value = job.progress;
      box.querySelector("[data-testid=job-status]").textContent = job.status;
      stage.textContent = job.stage;
      if (finished.includes(job.status)) { window.location.reload(); return; }  // the page says what next
    } catch (error) {
      stage.textContent = "cannot reach the server, retrying…";
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 500);
})();
