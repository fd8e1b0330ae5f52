// Polls a job's JSON until it finishes, then reloads so the page shows the outcome and its links.
(function () {
  const box = document.getElementById("job");
  const finished = ["succeeded", "failed", "cancelled"];
  if (!box) return;
  // A job can end before its page is first shown (a fast worker): go on at once, as the poll would have.
  if (box.dataset.status === "succeeded" && box.dataset.next) { window.location.assign(box.dataset.next); return; }
  if (finished.includes(box.dataset.status)) return;
  const stage = box.querySelector("[data-field=stage]");
  const poll = async () => {
    try {
      const response = await fetch(box.dataset.url, { headers: { Accept: "application/json" } });
      const job = await response.json();
      box.querySelector("progress").value = job.progress;
      box.querySelector("[data-testid=job-status]").textContent = job.status;
      stage.textContent = job.stage;
      if (job.status === "succeeded" && job.result && job.result.next) { window.location.assign(job.result.next); return; }
      if (finished.includes(job.status)) { window.location.reload(); return; }
    } catch (error) {
      stage.textContent = "cannot reach the server, retrying…";
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 500);
})();
