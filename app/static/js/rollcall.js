/* Roll-call: one tap per person, kept on the device first, sent when there is a connection.
 *
 * Every tap becomes a mark {client_id, session_id, person_id, status, remark, marked_at}. It is
 * written to IndexedDB (the "outbox" store) before anything else, shown on the row at once,
 * then sent to the sync API. It leaves the outbox only when the server acknowledges it
 * (recorded, or already recorded before: the client_id makes replays harmless). Marks that
 * could not be sent wait there across reloads and browser restarts, and are sent on load,
 * when the connection returns and every few seconds. The server's answer for each mark is
 * also kept (the "known" store) so a roll-call reopened offline shows what was saved.
 *
 * Without this script the page still works: each row is a form posted to the server.
 */
(function () {
  "use strict";

  const root = document.getElementById("rollcall");
  const configNode = document.getElementById("rollcall-config");
  if (!root || !configNode) {
    return;
  }
  const config = JSON.parse(configNode.textContent);
  const T = config.text;
  const SESSION = config.session_id;
  const USER = config.user_id;
  const BATCH = 100;
  const RETRY_MS = 15000;

  const statusNode = document.getElementById("rollcall-status");
  const offlineNode = document.getElementById("rollcall-offline");
  const rows = new Map();
  root.querySelectorAll(".rollcall-row").forEach((li) => rows.set(Number(li.dataset.personId), li));

  // ------------------------------------------------------------------ small helpers

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, (whole, key) => (key in values ? String(values[key]) : whole));
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    // crypto.randomUUID needs a secure context; getRandomValues does not.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // The same folding as app.text.normalize_name, plus "dj" ~ "d" (Đorđević, Dordevic).
  function fold(text) {
    return (text || "")
      .replace(/[đĐ]/g, "dj")
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[\s\-_.,/]+/g, " ")
      .trim()
      .replace(/dj/g, "d");
  }

  let timeFormat;
  try {
    timeFormat = new Intl.DateTimeFormat(config.locale, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "Europe/Belgrade",
    });
  } catch (error) {
    timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  }
  function hhmm(iso) {
    const moment = new Date(iso);
    return Number.isNaN(moment.getTime()) ? "" : timeFormat.format(moment);
  }
  function when(iso) {
    const value = Date.parse(iso || "");
    return Number.isNaN(value) ? -Infinity : value;
  }
  const label = (status) => config.labels[status] || status;
  const keyOf = (sessionId, personId) => sessionId + ":" + personId;

  // ------------------------------------------------------------------ IndexedDB

  let db = null; // null: this browser keeps marks in memory only (and says so)

  function openDb() {
    return new Promise((resolve, reject) => {
      if (!window.indexedDB) {
        reject(new Error("IndexedDB is not available"));
        return;
      }
      const request = indexedDB.open("akademia", 1);
      request.onupgradeneeded = () => {
        const upgrade = request.result;
        if (!upgrade.objectStoreNames.contains("outbox")) {
          upgrade.createObjectStore("outbox", { keyPath: "client_id" });
        }
        if (!upgrade.objectStoreNames.contains("known")) {
          upgrade.createObjectStore("known", { keyPath: "key" });
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  // Resolves when the transaction has committed: writes ask for durable ("strict") commits.
  function transact(names, mode, work) {
    return new Promise((resolve, reject) => {
      const tx = mode === "readwrite"
        ? db.transaction(names, mode, { durability: "strict" })
        : db.transaction(names, mode);
      const out = { value: undefined };
      tx.oncomplete = () => resolve(out.value);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("IndexedDB transaction aborted"));
      work(tx, out);
    });
  }

  function readAll(name) {
    return transact([name], "readonly", (tx, out) => {
      tx.objectStore(name).getAll().onsuccess = (event) => {
        out.value = event.target.result;
      };
    });
  }

  // Changes to both stores in one transaction, mirrored in memory once committed.
  async function write({ putMarks = [], deleteMarks = [], putKnown = [] }) {
    if (db) {
      await transact(["outbox", "known"], "readwrite", (tx) => {
        const outboxStore = tx.objectStore("outbox");
        const knownStore = tx.objectStore("known");
        putMarks.forEach((mark) => outboxStore.put(mark));
        deleteMarks.forEach((id) => outboxStore.delete(id));
        putKnown.forEach((record) => knownStore.put(record));
      });
    }
    putMarks.forEach((mark) => outbox.set(mark.client_id, mark));
    deleteMarks.forEach((id) => outbox.delete(id));
    putKnown.forEach((record) => {
      if (record.session_id === SESSION) {
        known.set(record.person_id, record);
      }
    });
  }

  // ------------------------------------------------------------------ state

  const outbox = new Map(); // client_id → mark (this user's, every session)
  const known = new Map(); // person_id → the server's last word for this session
  const savedNow = new Set(); // people whose mark the server acknowledged during this visit
  let problem = null; // null | "offline" | "busy" | "signed_out"

  function fromPage(li) {
    if (!li.dataset.markedAt) {
      return null;
    }
    return {
      status: li.dataset.status,
      remark: li.dataset.remark || "",
      marked_at: li.dataset.markedAt,
      marked_by: li.dataset.markedBy || null,
      conflict: false,
      fromPage: true,
    };
  }

  // What the server holds for a person: the page as drawn, or a later answer kept on the device.
  function standing(personId) {
    const li = rows.get(personId);
    const page = li.pageState;
    const record = known.get(personId);
    if (!record) {
      return page;
    }
    if (!page) {
      return record;
    }
    return when(record.marked_at) >= when(page.marked_at) ? record : page;
  }

  function localMarks(personId) {
    return [...outbox.values()]
      .filter((m) => m.session_id === SESSION && m.person_id === personId)
      .sort((a, b) => a.created - b.created);
  }

  function latestLocal(personId) {
    const marks = localMarks(personId);
    return marks.length ? marks[marks.length - 1] : null;
  }

  function shownState(personId) {
    const mine = latestLocal(personId);
    const base = standing(personId);
    if (mine && mine.state === "pending") {
      return { status: mine.status, remark: mine.remark || "" };
    }
    return { status: base ? base.status : "", remark: base ? base.remark || "" : "" };
  }

  // ------------------------------------------------------------------ drawing

  function conflictText(base) {
    const values = { status: label(base.status), time: hhmm(base.marked_at) };
    if (base.marked_by) {
      return fmt(T.conflict, { ...values, name: base.marked_by.split(" ")[0] });
    }
    return fmt(T.conflict_anonymous, values);
  }

  function renderRow(personId) {
    const li = rows.get(personId);
    if (!li) {
      return;
    }
    const mine = latestLocal(personId);
    const base = standing(personId);
    const shown = shownState(personId);
    li.dataset.status = shown.status;
    li.querySelectorAll("button.tap").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.value === shown.status));
    });
    li.querySelector("[data-default]").value = shown.status;
    const remark = li.querySelector("input[name=remark]");
    if (document.activeElement !== remark) {
      remark.value = shown.remark;
    }

    const current = li.querySelector("[data-current]");
    if (base && base.status) {
      const values = { status: label(base.status), name: base.marked_by, time: hhmm(base.marked_at) };
      current.textContent = fmt(base.marked_by ? T.marked_by : T.marked, values);
    } else {
      current.textContent = T.not_marked;
    }

    let kind = "";
    let text = "";
    if (mine && mine.state === "pending") {
      kind = "pending";
      text = navigator.onLine && !problem ? T.sending : T.waiting;
    } else if (mine && mine.state === "rejected") {
      kind = "error";
      text = mine.error;
    } else if (base && base.conflict) {
      kind = "conflict";
      text = conflictText(base);
    } else if (savedNow.has(personId)) {
      kind = "saved";
      text = T.saved;
    }
    li.dataset.sync = kind;
    const state = li.querySelector("[data-state]");
    state.textContent = text;
    state.className = "rollcall-state" + (kind ? " state-" + kind : "");
  }

  function renderAll() {
    rows.forEach((li, personId) => renderRow(personId));
    renderStatus();
  }

  function renderStatus() {
    const marks = [...outbox.values()];
    const pending = marks.filter((m) => m.state === "pending").length;
    const refused = marks.filter((m) => m.state === "rejected" && m.session_id === SESSION).length;
    let text;
    let state;
    if (problem === "signed_out" && pending) {
      text = T.signed_out;
      state = "problem";
    } else if (pending) {
      const sending = navigator.onLine && problem !== "offline";
      text = fmt(pending === 1 ? (sending ? T.saving_one : T.waiting_one) : (sending ? T.saving_many : T.waiting_many), { num: pending });
      if (problem === "busy") {
        text += " " + T.busy;
      }
      state = sending ? "sending" : "waiting";
    } else if (!navigator.onLine) {
      text = T.offline;
      state = "offline";
    } else {
      text = T.all_saved;
      state = "saved";
    }
    if (refused) {
      text += " " + fmt(T.refused, { num: refused });
    }
    if (!db) {
      text += " " + T.no_storage;
    }
    statusNode.textContent = text;
    statusNode.dataset.state = state;
    document.getElementById("rollcall-sign-in").hidden = !(problem === "signed_out" && pending);
    statusNode.dataset.pending = String(pending);

    const counts = { "": 0 };
    Object.keys(config.labels).forEach((status) => { counts[status] = 0; });
    rows.forEach((li) => { counts[li.dataset.status || ""] += 1; });
    root.querySelectorAll("[data-count]").forEach((node) => {
      node.textContent = String(counts[node.dataset.count] || 0);
    });
    const walkInNote = document.getElementById("walk-in-offline");
    if (walkInNote) {
      walkInNote.hidden = navigator.onLine;
      walkInNote.textContent = T.walk_in_offline;
    }
  }

  // ------------------------------------------------------------------ marking

  async function record(personIds, status) {
    if (!personIds.length || config.cancelled) {
      return;
    }
    const markedAt = new Date().toISOString();
    const created = Date.now();
    const marks = personIds.map((personId, index) => ({
      client_id: uuid(),
      session_id: SESSION,
      person_id: personId,
      status: status,
      remark: rows.get(personId).querySelector("input[name=remark]").value.trim(),
      marked_at: markedAt,
      user_id: USER,
      offline: !navigator.onLine,
      state: "pending",
      created: created + index / 1000,
    }));
    // A new mark replaces refused ones for the person and answers a shown conflict.
    const superseded = [...outbox.values()]
      .filter((m) => m.session_id === SESSION && m.state === "rejected" && personIds.includes(m.person_id))
      .map((m) => m.client_id);
    const settled = personIds
      .map((personId) => known.get(personId))
      .filter((record) => record && record.conflict)
      .map((record) => ({ ...record, conflict: false }));
    try {
      await write({ putMarks: marks, deleteMarks: superseded, putKnown: settled });
    } catch (error) {
      db = null; // keep going in memory; the status line says marks are not kept offline
      marks.forEach((mark) => outbox.set(mark.client_id, mark));
    }
    personIds.forEach((personId) => {
      savedNow.delete(personId);
      renderRow(personId);
    });
    renderStatus();
    flush();
  }

  function tap(li, status) {
    const personId = Number(li.dataset.personId);
    const shown = shownState(personId);
    const remark = li.querySelector("input[name=remark]").value.trim();
    if (!status || (status === shown.status && remark === shown.remark)) {
      return; // nothing new: the same status and remark already stand or wait to be sent
    }
    record([personId], status);
  }

  function allPresent() {
    const unmarked = [...rows.entries()]
      .filter(([personId]) => !shownState(personId).status)
      .map(([personId]) => personId);
    record(unmarked, "present");
  }

  // ------------------------------------------------------------------ sending

  let flushing = false;
  let again = false;
  let retryTimer = null;
  let refreshTimer = null;

  function wire(mark) {
    return {
      client_id: mark.client_id,
      session_id: mark.session_id,
      person_id: mark.person_id,
      status: mark.status,
      remark: mark.remark,
      marked_at: mark.marked_at,
      channel: mark.offline ? "offline_sync" : "roll_call",
    };
  }

  function scheduleRetry(ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, ms);
  }

  async function send(batch) {
    let response;
    try {
      response = await fetch(config.sync_url, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "X-CSRFToken": config.csrf,
        },
        body: JSON.stringify({ marks: batch.map(wire) }),
      });
    } catch (error) {
      // No connection: these marks travel as offline marks from now on.
      problem = "offline";
      const changed = batch.filter((m) => !m.offline).map((m) => ({ ...m, offline: true }));
      if (changed.length) {
        await write({ putMarks: changed }).catch(() => {});
      }
      return RETRY_MS;
    }
    const isJson = (response.headers.get("Content-Type") || "").includes("application/json");
    if ([502, 503, 504].includes(response.status)) {
      problem = "busy";
      const seconds = Number(response.headers.get("Retry-After")) || 2;
      return seconds * 1000 + Math.random() * 1000;
    }
    if (response.redirected || !isJson || [400, 401, 403].includes(response.status)) {
      problem = "signed_out"; // signed out, or a stale page (CSRF): a new sign-in sends them
      return RETRY_MS * 4;
    }
    if (!response.ok) {
      problem = "busy";
      return RETRY_MS;
    }
    const data = await response.json();
    await settle(batch, data.results || []);
    problem = null;
    return 0;
  }

  async function settle(batch, results) {
    const deleteMarks = [];
    const putMarks = [];
    const putKnown = new Map();
    const touched = [];
    results.forEach((result, index) => {
      const mark = batch[index];
      if (!mark || !result || result.client_id !== mark.client_id) {
        return;
      }
      if (result.ok) {
        deleteMarks.push(mark.client_id);
        const key = keyOf(mark.session_id, mark.person_id);
        const previous = putKnown.get(key) || (mark.session_id === SESSION ? known.get(mark.person_id) : null);
        putKnown.set(key, {
          key: key,
          session_id: mark.session_id,
          person_id: mark.person_id,
          status: result.status,
          remark: result.applied ? mark.remark || "" : (previous && previous.remark) || "",
          marked_at: result.marked_at,
          marked_by: result.marked_by,
          conflict: !result.applied,
        });
        if (mark.session_id === SESSION) {
          touched.push({ personId: mark.person_id, applied: result.applied });
        }
      } else {
        // Refused for good (not enrolled, cancelled session…): kept and shown, not resent.
        putMarks.push({ ...mark, state: "rejected", error: result.message || result.error });
        if (mark.session_id === SESSION) {
          touched.push({ personId: mark.person_id, applied: false });
        }
      }
    });
    await write({ putMarks, deleteMarks, putKnown: [...putKnown.values()] });
    touched.forEach(({ personId, applied }) => {
      if (applied) {
        savedNow.add(personId);
      } else {
        savedNow.delete(personId);
      }
      renderRow(personId);
    });
  }

  async function flush() {
    if (flushing) {
      again = true;
      return;
    }
    flushing = true;
    let sent = false;
    try {
      do {
        again = false;
        const pending = [...outbox.values()]
          .filter((m) => m.state === "pending")
          .sort((a, b) => a.created - b.created);
        if (!pending.length) {
          break;
        }
        const wait = await send(pending.slice(0, BATCH));
        if (wait) {
          scheduleRetry(wait);
          break;
        }
        sent = true;
        again = again || pending.length > BATCH;
      } while (again);
    } catch (error) {
      scheduleRetry(RETRY_MS);
    } finally {
      flushing = false;
      renderAll();
    }
    if (sent) {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(refresh, 1500);
    }
  }

  // The server's current marks (other trainers, QR check-ins), kept for offline reloads.
  async function refresh() {
    let data;
    try {
      const response = await fetch(config.state_url, {
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
      });
      if (!response.ok || response.redirected) {
        return;
      }
      data = await response.json();
    } catch (error) {
      return;
    }
    const putKnown = (data.marks || []).map((mark) => {
      const previous = known.get(mark.person_id);
      return {
        key: keyOf(SESSION, mark.person_id),
        session_id: SESSION,
        person_id: mark.person_id,
        status: mark.status,
        remark: mark.remark || "",
        marked_at: mark.marked_at,
        marked_by: mark.marked_by,
        // A conflict stays shown while the mark that won it still stands.
        conflict: Boolean(previous && previous.conflict && when(previous.marked_at) === when(mark.marked_at)),
      };
    });
    await write({ putKnown }).catch(() => {});
    renderAll();
  }

  // ------------------------------------------------------------------ offline app

  function keepPage(worker, refreshCopy) {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      const timer = setTimeout(() => resolve(false), 15000);
      channel.port1.onmessage = (event) => {
        clearTimeout(timer);
        resolve(Boolean(event.data && event.data.ok));
      };
      worker.postMessage({ type: "keep-page", url: location.pathname, refresh: refreshCopy }, [channel.port2]);
    });
  }

  function setUpOfflineApp() {
    if (!("serviceWorker" in navigator) || !config.sw_url) {
      return;
    }
    // A page the worker already served was stored on the way; the first visit asks for it.
    const controlled = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker.register(config.sw_url, { scope: config.sw_scope })
      .then(() => navigator.serviceWorker.ready)
      .then((registration) => keepPage(registration.active, !controlled))
      .then((ok) => {
        if (ok && db) {
          offlineNode.hidden = false;
          offlineNode.textContent = T.offline_ready;
          root.dataset.offlineReady = "true";
        }
      })
      .catch(() => {});
    if (navigator.storage && navigator.storage.persist) {
      navigator.storage.persist().catch(() => {});
    }
  }

  // ------------------------------------------------------------------ filter and walk-ins

  function setUpFilter() {
    const box = document.getElementById("rollcall-filter");
    const shown = document.getElementById("rollcall-shown");
    if (!box) {
      return;
    }
    box.closest("[data-js-only]").hidden = false;
    rows.forEach((li) => { li.searchKey = fold(li.dataset.search); });
    box.addEventListener("input", () => {
      const tokens = fold(box.value).split(" ").filter(Boolean);
      let visible = 0;
      rows.forEach((li) => {
        const match = tokens.every((token) => li.searchKey.includes(token));
        li.hidden = !match;
        visible += match ? 1 : 0;
      });
      shown.textContent = tokens.length ? fmt(T.shown, { num: visible, total: rows.size }) : "";
    });
  }

  function setUpWalkInSearch() {
    const form = document.getElementById("walk-in-search");
    const list = document.getElementById("walk-in-results");
    if (!form || !list) {
      return;
    }
    const input = form.querySelector("input[name=q]");
    let timer = null;
    let latest = 0;

    function message(text) {
      list.replaceChildren();
      const item = document.createElement("li");
      item.className = "muted";
      item.textContent = text;
      list.append(item);
    }

    function show(people) {
      list.replaceChildren();
      if (!people.length) {
        message(T.search_none);
        return;
      }
      people.forEach((person) => {
        const item = document.createElement("li");
        const name = document.createElement("span");
        name.textContent = person.name;
        if (person.municipality) {
          const where = document.createElement("span");
          where.className = "muted";
          where.textContent = " · " + person.municipality;
          name.append(where);
        }
        const add = document.createElement("form");
        add.method = "post";
        add.action = config.add_url;
        add.className = "inline walk-in-add";
        [["csrf_token", config.csrf], ["person_id", String(person.id)]].forEach(([fieldName, value]) => {
          const hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = fieldName;
          hidden.value = value;
          add.append(hidden);
        });
        const button = document.createElement("button");
        button.type = "submit";
        button.className = "button small";
        button.textContent = T.add;
        add.append(button);
        item.append(name, add);
        list.append(item);
      });
    }

    async function search() {
      const q = input.value.trim();
      const ticket = ++latest;
      if (q.length < 2) {
        message(T.search_short);
        return;
      }
      if (!navigator.onLine) {
        message(T.walk_in_offline);
        return;
      }
      try {
        const response = await fetch(config.search_url + "?q=" + encodeURIComponent(q), {
          credentials: "same-origin",
          headers: { "Accept": "application/json" },
        });
        const data = await response.json();
        if (ticket === latest) {
          show(data.people || []);
        }
      } catch (error) {
        if (ticket === latest) {
          message(T.walk_in_offline);
        }
      }
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, 250);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      search();
    });
  }

  // ------------------------------------------------------------------ events

  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.classList.contains("rollcall-form")) {
      event.preventDefault();
      const submitter = event.submitter;
      const li = form.closest(".rollcall-row");
      const status = submitter && submitter.classList.contains("tap") ? submitter.value : li.dataset.status;
      tap(li, status);
    } else if (form.id === "all-present-form") {
      event.preventDefault();
      allPresent();
    } else if (!navigator.onLine && form.method.toLowerCase() === "post") {
      // Walk-ins are created on the server: say so rather than lose the form.
      event.preventDefault();
      renderStatus();
      document.getElementById("walk-in-offline").hidden = false;
    }
  });

  root.addEventListener("change", (event) => {
    const input = event.target;
    if (input.name === "remark" && input.closest(".rollcall-row")) {
      const li = input.closest(".rollcall-row");
      tap(li, shownState(Number(li.dataset.personId)).status);
    }
  });

  window.addEventListener("online", () => {
    problem = null;
    renderAll();
    flush();
  });
  window.addEventListener("offline", () => {
    renderAll();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      flush();
    }
  });
  setInterval(() => {
    if ([...outbox.values()].some((m) => m.state === "pending")) {
      flush();
    }
  }, RETRY_MS);

  // ------------------------------------------------------------------ start

  async function start() {
    rows.forEach((li) => { li.pageState = fromPage(li); });
    try {
      db = await openDb();
      const [marks, records] = await Promise.all([readAll("outbox"), readAll("known")]);
      marks.filter((m) => m.user_id === USER).forEach((m) => outbox.set(m.client_id, m));
      records.filter((r) => r.session_id === SESSION).forEach((r) => known.set(r.person_id, r));
    } catch (error) {
      db = null;
    }
    if (config.cancelled) {
      root.querySelectorAll("button.tap, #all-present-form button").forEach((b) => { b.disabled = true; });
    }
    setUpFilter();
    setUpWalkInSearch();
    renderAll();
    root.dataset.ready = "true";
    setUpOfflineApp();
    await flush();
    if (navigator.onLine) {
      refresh();
    }
  }

  start();
})();
