// The bulk issuance page: polls the job's JSON and moves the progress bar until it is done.
// Without this file the page still works: the Refresh link reloads it.
(function () {
  "use strict";
  const box = document.getElementById("certificate-job");
  if (!box || box.dataset.finished === "true") {
    return;
  }
  const bar = document.getElementById("job-progress");
  const part = (name) => box.querySelector("[data-job='" + name + "']");
  let delay = 1000;

  function render(job) {
    bar.value = job.percent;
    bar.textContent = job.percent + "%";
    part("label").textContent = job.status_label;
    part("done").textContent = job.done;
    part("total").textContent = job.total;
    if (job.error) {
      part("error").textContent = job.error;
      part("error").hidden = false;
    }
    if (job.download_url) {
      part("link").href = job.download_url;
      part("download").hidden = false;
    }
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const job = await response.json();
        render(job);
        if (job.finished) {
          return;
        }
        delay = 1000;
      } else {
        delay = Math.min(delay * 2, 15000);
      }
    } catch (error) {
      delay = Math.min(delay * 2, 15000); // offline for a moment: try again later
    }
    window.setTimeout(poll, delay);
  }

  window.setTimeout(poll, 300);
})();
