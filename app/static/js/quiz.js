// Quiz attempts: save each answer as the learner goes, keep unsent answers on the device
// while offline (localStorage) and send them when the connection returns, and show the
// time left. The page works without this file: the form posts every answer on submit.
(function () {
  "use strict";

  const PREFIX = "akademia.attempt.";

  const cleared = document.querySelector("[data-clear-attempt]");
  if (cleared) {
    try { window.localStorage.removeItem(PREFIX + cleared.dataset.clearAttempt); } catch (e) { /* private mode */ }
  }

  const form = document.getElementById("attempt-form");
  if (!form) { return; }

  const key = PREFIX + form.dataset.attempt;
  const status = document.getElementById("save-status");
  const token = (form.querySelector("input[name=csrf_token]") || {}).value || "";
  const messages = form.dataset;
  let queue = load();
  let sending = false;
  let closed = false;
  let autoSubmitting = false;

  function load() {
    try { return JSON.parse(window.localStorage.getItem(key) || "{}") || {}; } catch (e) { return {}; }
  }

  function persist() {
    try {
      if (Object.keys(queue).length) { window.localStorage.setItem(key, JSON.stringify(queue)); }
      else { window.localStorage.removeItem(key); }
    } catch (e) { /* storage full or disabled: answers still go to the server */ }
  }

  function say(text, kind) {
    if (!status) { return; }
    status.textContent = text;
    status.className = "save-status" + (kind ? " " + kind : "");
  }

  function fieldsetOf(position) {
    return form.querySelector("fieldset[data-slot='" + position + "']");
  }

  function collect(fieldset) {
    const values = {};
    fieldset.querySelectorAll("input, select, textarea").forEach((el) => {
      if (!el.name || el.name === "slot") { return; }
      if (!(el.name in values)) { values[el.name] = []; }
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { values[el.name].push(el.value); }
      } else {
        values[el.name].push(el.value);
      }
    });
    return values;
  }

  function apply(fieldset, values) {
    fieldset.querySelectorAll("input, select, textarea").forEach((el) => {
      if (!(el.name in values)) { return; }
      const wanted = values[el.name];
      if (el.type === "radio" || el.type === "checkbox") {
        el.checked = wanted.indexOf(el.value) !== -1;
      } else {
        el.value = wanted[0] || "";
      }
    });
  }

  function remember(fieldset) {
    const position = fieldset.dataset.slot;
    queue[position] = { values: collect(fieldset), at: Date.now() };
    fieldset.classList.add("unsaved");
    persist();
    flush();
  }

  function goToReview(url) {
    closed = true;
    queue = {};
    persist();
    window.location.assign(url || messages.reviewUrl);
  }

  async function flush() {
    if (sending || closed) { return; }
    const positions = Object.keys(queue);
    if (!positions.length) { return; }
    if (!navigator.onLine) { say(messages.msgOffline, "offline"); return; }
    sending = true;
    say(messages.msgSaving);
    try {
      for (const position of positions) {
        const entry = queue[position];
        const response = await fetch(messages.saveUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token },
          body: JSON.stringify({ position: Number(position), values: entry.values }),
        });
        if (response.status === 409) {
          const body = await response.json().catch(() => ({}));
          say(body.error || "", "error");
          goToReview(body.review_url);
          return;
        }
        if (!response.ok && response.status !== 400) { throw new Error("HTTP " + response.status); }
        // A newer answer typed while this one was on its way stays queued.
        if (queue[position] === entry) {
          delete queue[position];
          const fieldset = fieldsetOf(position);
          if (fieldset) { fieldset.classList.remove("unsaved"); }
        }
        persist();
      }
      say(Object.keys(queue).length ? messages.msgSaving : messages.msgSaved);
    } catch (error) {
      say(navigator.onLine ? messages.msgError : messages.msgOffline, navigator.onLine ? "error" : "offline");
    } finally {
      sending = false;
    }
    if (Object.keys(queue).length && navigator.onLine && !closed) { window.setTimeout(flush, 3000); }
  }

  // Restore answers given while offline (or before a reload), then send them.
  Object.keys(queue).forEach((position) => {
    const fieldset = fieldsetOf(position);
    if (fieldset && queue[position] && queue[position].values) {
      apply(fieldset, queue[position].values);
      fieldset.classList.add("unsaved");
    } else {
      delete queue[position];
    }
  });
  persist();
  flush();

  const timers = new WeakMap();
  form.addEventListener("change", (event) => {
    const fieldset = event.target.closest("fieldset[data-slot]");
    if (fieldset) { remember(fieldset); }
  });
  form.addEventListener("input", (event) => {
    const fieldset = event.target.closest("fieldset[data-slot]");
    if (!fieldset || !/^(text|number|search)$/.test(event.target.type || "")) { return; }
    window.clearTimeout(timers.get(fieldset));
    timers.set(fieldset, window.setTimeout(() => remember(fieldset), 700));
  });

  window.addEventListener("online", flush);
  window.addEventListener("offline", () => say(messages.msgOffline, "offline"));
  window.setInterval(flush, 10000);

  form.addEventListener("submit", (event) => {
    const submitter = event.submitter;
    const submitting = submitter && submitter.value === "submit";
    if (!navigator.onLine) {
      event.preventDefault();
      say(submitting ? messages.msgSubmitOffline : messages.msgOffline, "offline");
      return;
    }
    if (submitting && !autoSubmitting && !window.confirm(messages.msgConfirm)) {
      event.preventDefault();
    }
  });

  // The server enforces the time limit; this clock only shows it and submits at zero.
  const timer = document.getElementById("timer");
  if (timer) {
    const total = Number(timer.dataset.remaining);
    const started = performance.now();
    const output = timer.querySelector(".timer-value");
    const show = (seconds) => {
      const h = Math.floor(seconds / 3600);
      const m = Math.floor((seconds % 3600) / 60);
      const s = seconds % 60;
      const mm = h ? String(m).padStart(2, "0") : String(m);
      output.textContent = (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
    };
    const tick = () => {
      const left = Math.max(0, Math.round(total - (performance.now() - started) / 1000));
      show(left);
      timer.classList.toggle("low", left <= 60);
      if (left === 0) {
        window.clearInterval(interval);
        say(messages.msgTimeup, "error");
        if (navigator.onLine && !closed) {
          autoSubmitting = true;
          const button = form.querySelector("[data-submit-attempt]");
          if (form.requestSubmit && button) { form.requestSubmit(button); } else if (button) { button.click(); }
        }
      }
    };
    const interval = window.setInterval(tick, 1000);
    tick();
  }
})();
