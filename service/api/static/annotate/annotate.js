// The annotation page: a queue of passages, labelled from the keyboard.
//
// The API key lives in sessionStorage only and travels as the X-API-Key header, never in
// a URL. Passages are fetched ahead: the next ones are in memory before they are needed,
// and more are fetched when fewer than three remain. Saving appends a decision; going
// back and saving again appends another one (the store keeps every decision).
"use strict";

(() => {
  const API = "/v1/annotation";
  const KEY_ITEM = "tipscan.annotate.key";
  const LOW_WATER = 3;
  const BATCH = 10;
  const FLAG_KEYS = { t: "mentions_trafficking", c: "mentions_corruption" };

  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const labelItems = Array.from(document.querySelectorAll("#labels .label"));
  const labelByKey = new Map(labelItems.map((li) => [li.dataset.key, li]));
  const labelById = new Map(labelItems.map((li) => [li.dataset.label, li]));
  const flagBox = { mentions_trafficking: $("flag-trafficking"), mentions_corruption: $("flag-corruption") };

  // seen: the passages shown so far, each {item, decision}; pos: the one on screen.
  // ahead: fetched and not yet shown. A new queue starts all three afresh.
  const state = {
    strategy: null,
    document: null,
    seen: [],
    pos: -1,
    ahead: [],
    fetching: null,
    exhausted: false,
    failed: false,
    generation: 0,
    saved: 0,
    pending: 0,
  };

  // --- the key ---------------------------------------------------------------------

  const getKey = () => sessionStorage.getItem(KEY_ITEM);

  function showKeyState() {
    const key = getKey();
    $("key-status").textContent = key ? "key set for this browser session" : "no key entered";
    if (!key) body.dataset.state = "no-key";
  }

  // --- requests and their errors -----------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function describe(status, problem) {
    const detail = problem && problem.detail ? problem.detail : "";
    // The detail names the invalid fields already; the list is the fallback.
    const fields = problem && Array.isArray(problem.errors)
      ? problem.errors.map((e) => `${[].concat(e.loc || []).join(".")}: ${e.msg || ""}`).join("; ")
      : "";
    const why = detail || fields;
    if (status === 401) return `The API key was refused (${why || "missing, unknown or revoked"}). Enter a valid annotator key.`;
    if (status === 403) return `This key may not do that (${why || "forbidden"}). Annotating needs an annotator or admin key.`;
    if (status === 422) return `The server did not accept the request: ${why || "invalid request"}.`;
    if (status === 404) return `Not found: ${why || "the server has no such thing"}.`;
    return `The server answered ${status}${why ? `: ${why}` : ""}.`;
  }

  async function api(path, options = {}) {
    const key = getKey();
    if (!key) throw new ApiError(401, "Enter an annotator API key first.");
    const headers = { "X-API-Key": key, Accept: "application/json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method: options.method || "GET",
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (err) {
      throw new ApiError(0, `The server cannot be reached (${err.message}).`);
    }
    let payload = null;
    const text = await response.text();
    if (text) {
      try {
        payload = JSON.parse(text);
      } catch (err) {
        payload = { detail: text.slice(0, 200) };
      }
    }
    if (!response.ok) throw new ApiError(response.status, describe(response.status, payload));
    return payload;
  }

  function showError(message) {
    const box = $("error");
    box.textContent = message;
    box.hidden = !message;
  }

  // --- labels: definitions from the server where it has them --------------------------

  async function loadLabels() {
    const data = await api(`${API}/labels`);
    const labels = Array.isArray(data) ? data : (data && data.labels) || [];
    for (const label of labels) {
      const li = labelById.get(label.id);
      const text = label.definition || label.description;
      if (li && text) li.querySelector(".definition").textContent = text;
    }
  }

  // --- the queue ---------------------------------------------------------------------

  function queuePath(limit) {
    const params = new URLSearchParams({ strategy: state.strategy, limit: String(limit) });
    if (state.strategy === "document") params.set("document", state.document);
    return `${API}/queue?${params}`;
  }

  function knownIds() {
    return new Set([...state.seen.map((e) => e.item.passage.id), ...state.ahead.map((i) => i.passage.id)]);
  }

  // Fetch more of the queue unless a fetch is under way. Passages already seen or
  // waiting are dropped: the server serves again what is not decided yet.
  function refill() {
    if (state.fetching || state.exhausted || !state.strategy) return state.fetching;
    const generation = state.generation;
    const limit = state.ahead.length + 1 + BATCH;
    state.failed = false;
    state.fetching = api(queuePath(limit))
      .then((data) => {
        if (generation !== state.generation) return;
        const known = knownIds();
        const fresh = (data.items || []).filter((i) => !known.has(i.passage.id));
        state.ahead.push(...fresh);
        if (fresh.length === 0) state.exhausted = true;
        showAhead();
      })
      .catch((err) => {
        if (generation !== state.generation) return;
        state.failed = true;
        showError(err.message);
      })
      .finally(() => {
        if (generation === state.generation) state.fetching = null;
      });
    return state.fetching;
  }

  // How many passages wait in memory, for whoever watches the page.
  function showAhead() {
    body.dataset.ahead = String(state.ahead.length);
  }

  async function startQueue() {
    if (!getKey()) {
      showError("Enter an annotator API key first.");
      return;
    }
    const strategy = $("strategy").value;
    const documentId = $("document-id").value.trim();
    if (strategy === "document" && !documentId) {
      showError("The document queue needs a document id.");
      return;
    }
    showError("");
    Object.assign(state, {
      strategy, document: documentId || null, seen: [], pos: -1, ahead: [],
      fetching: null, exhausted: false, failed: false, generation: state.generation + 1,
    });
    body.dataset.strategy = strategy;
    body.classList.toggle("blind", strategy === "double");
    body.dataset.state = "loading";
    $("passage").hidden = true;
    $("empty").hidden = false;
    $("empty").textContent = `Loading the ${strategy} queue…`;
    const generation = state.generation;
    await refill();
    if (state.generation === generation) advance();
  }

  // Show the next passage: the next one seen before (after going back), else the
  // first one waiting.
  function advance() {
    if (state.pos < state.seen.length - 1) {
      state.pos += 1;
    } else if (state.ahead.length > 0) {
      state.seen.push({ item: state.ahead.shift(), decision: null });
      state.pos = state.seen.length - 1;
    } else if (state.fetching) {
      body.dataset.state = "loading";
      const generation = state.generation;
      state.fetching.then(() => {
        if (generation === state.generation) (state.ahead.length ? advance : finished)();
      });
      return;
    } else {
      finished();
      return;
    }
    showAhead();
    render();
    if (state.ahead.length < LOW_WATER) refill();
  }

  function finished() {
    body.dataset.state = "done";
    $("passage").hidden = true;
    $("empty").hidden = false;
    if (state.failed) $("empty").textContent = "The queue could not be loaded: see the message above.";
    else if (state.seen.length) $("empty").textContent = "This queue has no more passages for you.";
    else $("empty").textContent = "This queue has no passages for you.";
  }

  // --- showing a passage ------------------------------------------------------------

  function contextBlock(parent, passages) {
    parent.replaceChildren();
    for (const p of passages || []) {
      const div = document.createElement("div");
      div.className = "ctx";
      const cite = document.createElement("span");
      cite.className = "ctx-cite";
      cite.textContent = p.citation || "";
      const text = document.createElement("p");
      text.textContent = p.text || "";
      div.append(cite, text);
      parent.append(div);
    }
  }

  function safeLink(href) {
    if (!href) return null;
    try {
      const url = new URL(href, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  function headingText(heading) {
    if (Array.isArray(heading)) return heading.filter(Boolean).join(" › ");
    return heading || "";
  }

  function render() {
    const entry = state.seen[state.pos];
    const { passage, context, suggestions, thresholds } = entry.item;
    body.dataset.state = "passage";
    body.dataset.passage = passage.id;
    $("empty").hidden = true;
    $("passage").hidden = false;
    $("doc-title").textContent = passage.doc_title || passage.doc_id;
    $("doc-meta").textContent = [passage.country, passage.doc_type, passage.language,
      passage.page != null ? `page ${passage.page}` : ""].filter(Boolean).join(" · ");
    const source = safeLink(context && context.source);
    $("source").hidden = !source;
    if (source) $("source").href = source;
    else $("source").removeAttribute("href");
    $("source").dataset.href = source || "";
    $("heading").textContent = headingText(passage.heading);
    $("citation").textContent = passage.citation || "";
    $("position").textContent = `(${state.pos + 1} of ${state.seen.length + state.ahead.length}${state.exhausted ? "" : "+"}, ${state.strategy})`;
    $("text").textContent = passage.text;
    $("text").lang = passage.language || "";
    contextBlock($("before"), context && context.before);
    contextBlock($("after"), context && context.after);

    for (const li of labelItems) {
      const id = li.dataset.label;
      const score = suggestions ? suggestions[id] : undefined;
      const threshold = thresholds ? thresholds[id] : undefined;
      const has = typeof score === "number";
      li.classList.toggle("has-score", has);
      li.classList.toggle("suggested", has && typeof threshold === "number" && score >= threshold);
      li.querySelector(".fill").style.width = has ? `${Math.round(score * 100)}%` : "0";
      const tick = li.querySelector(".threshold");
      tick.hidden = typeof threshold !== "number";
      if (typeof threshold === "number") tick.style.left = `${Math.round(threshold * 100)}%`;
      li.querySelector(".value").textContent = has ? score.toFixed(2) : "";
    }
    const decision = entry.decision;
    setChoices(decision ? decision.labels : [], decision || {});
    $("note").value = decision && decision.note ? decision.note : "";
    $("back").disabled = state.pos === 0;
    $("saved-status").textContent = decision
      ? (decision.saved ? "saved before: saving again records a new decision" : "not saved")
      : "";
  }

  function setChoices(labels, flags) {
    const chosen = new Set(labels);
    for (const li of labelItems) {
      const on = chosen.has(li.dataset.label);
      li.querySelector("input").checked = on;
      li.classList.toggle("chosen", on);
    }
    for (const [flag, box] of Object.entries(flagBox)) {
      box.checked = Boolean(flags[flag]);
      box.closest(".flag").classList.toggle("chosen", box.checked);
    }
  }

  function toggleLabel(li) {
    const box = li.querySelector("input");
    box.checked = !box.checked;
    li.classList.toggle("chosen", box.checked);
  }

  function toggleFlag(flag) {
    const box = flagBox[flag];
    box.checked = !box.checked;
    box.closest(".flag").classList.toggle("chosen", box.checked);
  }

  // --- deciding ---------------------------------------------------------------------

  function currentDecision() {
    const entry = state.seen[state.pos];
    const decision = {
      passage_id: entry.item.passage.id,
      labels: labelItems.filter((li) => li.querySelector("input").checked).map((li) => li.dataset.label),
      mentions_trafficking: flagBox.mentions_trafficking.checked,
      mentions_corruption: flagBox.mentions_corruption.checked,
      queue: state.strategy,
    };
    const note = $("note").value.trim();
    if (note) decision.note = note;
    return decision;
  }

  function setCounts() {
    body.dataset.saved = String(state.saved);
    body.dataset.pending = String(state.pending);
  }

  // Save the decision on screen and show the next passage at once; the request runs
  // behind it, and a refusal is shown in words with the passage it was for.
  function saveAndNext() {
    if (body.dataset.state !== "passage") return;
    const entry = state.seen[state.pos];
    const decision = currentDecision();
    entry.decision = { ...decision, saved: false };
    state.pending += 1;
    setCounts();
    api(`${API}/decisions`, { method: "POST", body: decision })
      .then(() => {
        entry.decision.saved = true;
        state.saved += 1;
        $("saved-status").textContent = `saved ${entry.item.passage.citation || entry.item.passage.id}`;
      })
      .catch((err) => {
        showError(`Not saved (${entry.item.passage.citation || entry.item.passage.id}): ${err.message} Go back with Backspace to try again.`);
      })
      .finally(() => {
        state.pending -= 1;
        setCounts();
      });
    showError("");
    advance();
  }

  function back() {
    if (state.pos <= 0 || !["passage", "done"].includes(body.dataset.state)) return;
    if (body.dataset.state === "done") state.pos = state.seen.length;
    state.pos -= 1;
    render();
  }

  // --- agreement --------------------------------------------------------------------

  async function loadAgreement() {
    const tbody = $("agreement-table").querySelector("tbody");
    try {
      const data = await api(`${API}/agreement`);
      const fmt = (v) => (typeof v === "number" ? v.toFixed(2) : "–");
      $("agreement-summary").textContent = `alpha ${fmt(data.alpha)} over ${data.n} decisions (blind only)`;
      tbody.replaceChildren();
      for (const [label, row] of Object.entries(data.per_label || {})) {
        const tr = document.createElement("tr");
        for (const value of [label, fmt(row.kappa), String(row.n)]) {
          const td = document.createElement("td");
          td.textContent = value;
          tr.append(td);
        }
        tbody.append(tr);
      }
    } catch (err) {
      $("agreement-summary").textContent = err.message;
    }
  }

  // --- the keyboard -------------------------------------------------------------------

  function typing(target) {
    if (!target || !target.tagName) return false;
    if (target.isContentEditable) return true;
    const tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    return tag === "INPUT" && target.type !== "checkbox";
  }

  function openHelp(open) {
    if (document.activeElement && document.activeElement !== body) document.activeElement.blur();
    $("help").hidden = !open;
    body.classList.toggle("help-open", open);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    // A held key acts once: a label must not flicker on and off, nor Enter save a run.
    if (event.repeat && !typing(event.target)) {
      event.preventDefault();
      return;
    }
    const key = event.key;
    if (key === "Escape") {
      if (!$("help").hidden) openHelp(false);
      else if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target)) return;
    if (!$("help").hidden) {
      if (key === "?") openHelp(false);
      return;
    }
    if (key === "?") {
      openHelp(true);
    } else if (key === "Enter") {
      if (event.target.tagName === "BUTTON" || event.target.tagName === "A") return;
      saveAndNext();
    } else if (key === "Backspace") {
      back();
    } else if (body.dataset.state !== "passage") {
      return;
    } else if (labelByKey.has(key.toLowerCase()) && !event.shiftKey) {
      toggleLabel(labelByKey.get(key.toLowerCase()));
    } else if (FLAG_KEYS[key]) {
      toggleFlag(FLAG_KEYS[key]);
    } else if (key === "n") {
      $("note").focus();
    } else {
      return;
    }
    event.preventDefault();
  });

  // --- wiring -----------------------------------------------------------------------

  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("key-input");
    const key = input.value.trim();
    input.value = "";
    document.activeElement.blur();
    if (!key) return;
    sessionStorage.setItem(KEY_ITEM, key);
    showKeyState();
    showError("");
    try {
      await loadLabels();
      body.dataset.state = "ready";
      $("key-status").textContent = "key accepted";
      await startQueue();
      loadAgreement();
    } catch (err) {
      showError(err.message);
    }
  });

  $("key-forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_ITEM);
    state.generation += 1;
    Object.assign(state, { strategy: null, seen: [], pos: -1, ahead: [], fetching: null });
    $("passage").hidden = true;
    $("empty").hidden = false;
    showKeyState();
  });

  $("queue-form").addEventListener("submit", (event) => {
    event.preventDefault();
    document.activeElement.blur();
    startQueue();
  });
  $("strategy").addEventListener("change", () => {
    body.dataset.queueChoice = $("strategy").value;
  });
  // The source needs the key, which never goes in a URL: fetch it with the header and
  // open what came back (a PDF viewer honours the #page of the link).
  $("source").addEventListener("click", async (event) => {
    event.preventDefault();
    const href = $("source").dataset.href;
    if (!href) return;
    const [path, page] = href.split("#");
    const opened = window.open("", "_blank");
    try {
      const response = await fetch(path, {
        headers: { "X-API-Key": getKey() || "" }, credentials: "omit", cache: "no-store",
      });
      if (!response.ok) {
        let problem = null;
        try { problem = await response.json(); } catch (err) { problem = null; }
        throw new ApiError(response.status, describe(response.status, problem));
      }
      const url = URL.createObjectURL(await response.blob());
      if (opened) opened.location.href = page ? `${url}#${page}` : url;
    } catch (err) {
      if (opened) opened.close();
      showError(err.message);
    }
  });
  $("help-open").addEventListener("click", () => openHelp(true));
  $("help-close").addEventListener("click", () => openHelp(false));
  $("save").addEventListener("click", saveAndNext);
  $("back").addEventListener("click", back);
  $("agreement-refresh").addEventListener("click", loadAgreement);
  for (const li of labelItems) {
    li.querySelector("input").addEventListener("change", (e) => li.classList.toggle("chosen", e.target.checked));
  }
  for (const box of Object.values(flagBox)) {
    box.addEventListener("change", () => box.closest(".flag").classList.toggle("chosen", box.checked));
  }

  body.dataset.queueChoice = $("strategy").value;
  showKeyState();
  if (getKey()) {
    loadLabels()
      .then(() => {
        body.dataset.state = "ready";
        return startQueue();
      })
      .then(loadAgreement)
      .catch((err) => showError(err.message));
  }
})();
