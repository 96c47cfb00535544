/* The trainer's QR screen: a new code every few seconds, and who has checked in so far. */
(function () {
  "use strict";

  const screen = document.getElementById("qr-screen");
  if (!screen) {
    return;
  }
  const pollUrl = screen.dataset.pollUrl;
  const every = Number(screen.dataset.refreshMs) || 3000;
  const image = document.getElementById("qr-image");
  const count = document.getElementById("qr-count");
  const enrolled = document.getElementById("qr-enrolled");
  const recent = document.getElementById("qr-recent");
  const problem = document.getElementById("qr-problem");
  const fullscreen = document.getElementById("qr-fullscreen");

  function show(data) {
    if (image.getAttribute("src") !== data.image) {
      image.setAttribute("src", data.image);
    }
    image.dataset.url = data.url;
    count.textContent = String(data.checked_in);
    enrolled.textContent = String(data.enrolled);
    recent.replaceChildren(...data.recent.map((name) => {
      const item = document.createElement("li");
      item.textContent = name;
      return item;
    }));
  }

  async function poll() {
    try {
      const response = await fetch(pollUrl, {
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        cache: "no-store",
      });
      if (!response.ok || response.redirected) {
        throw new Error("HTTP " + response.status);
      }
      show(await response.json());
      problem.hidden = true;
    } catch (error) {
      problem.hidden = false;
    } finally {
      setTimeout(poll, document.visibilityState === "visible" ? every : every * 3);
    }
  }

  if (fullscreen && document.fullscreenEnabled) {
    fullscreen.hidden = false;
    fullscreen.addEventListener("click", () => {
      screen.requestFullscreen().catch(() => {});
    });
  }
  setTimeout(poll, every);
})();
