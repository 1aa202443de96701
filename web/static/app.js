"use strict";
// The main page: facet pickers (ARIA comboboxes) whose suggestions count releases within the rest of the selection,
// the selection kept in the address (shareable, back/forward), live counts and sample, playlist jobs with progress.
// player.js listens for the `dataget:selection` event sent with each new result.

const FACETS = ["genre", "style", "year", "decade", "country", "label", "artist", "format"];
const SAMPLE_SIZE = 50;
const SUGGESTIONS = 10;
const TOPS = 4; // values offered under an empty picker
const state = { facets: Object.fromEntries(FACETS.map((f) => [f, []])), unique: false, seed: newSeed() };
const pickers = {};
let signedIn = false;

const $ = (id) => document.getElementById(id);

function newSeed() {
  return Math.floor(Math.random() * 2 ** 31);
}

function debounce(fn, ms) {
  let timer;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

function el(tag, { dataset = {}, attrs = {}, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset); // dataset is read-only on the element itself
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const count = (n) => n.toLocaleString("en");

// "730" on screen, "730 releases" to a screen reader.
function countSpan(releases) {
  if (!releases) return el("span", { className: "count", textContent: "none" });
  return el("span", { className: "count" }, count(releases), el("span", { className: "visually-hidden", textContent: " releases" }));
}

// ---- the selection and the address ------------------------------------------------------------------------
function selectionParams({ withSeed = true } = {}) {
  const params = new URLSearchParams();
  for (const f of FACETS) for (const v of state.facets[f]) params.append(f, v);
  if (state.unique) params.set("unique", "master");
  if (withSeed) params.set("seed", String(state.seed));
  return params;
}

function queryObject() {
  const query = {};
  for (const f of FACETS) if (state.facets[f].length) query[f] = [...state.facets[f]];
  if (state.unique) query.unique = "master";
  query.seed = state.seed;
  return query;
}

// The state the address describes; a missing or malformed seed gets a fresh one.
function stateFromAddress() {
  const params = new URLSearchParams(location.search);
  const facets = Object.fromEntries(FACETS.map((f) => [f, [...new Set(params.getAll(f).map((v) => v.trim()).filter(Boolean))]]));
  const seed = Number(params.get("seed"));
  return {
    facets,
    unique: params.get("unique") === "master",
    seed: /^-?\d+$/.test(params.get("seed") || "") && Number.isSafeInteger(seed) ? seed : newSeed(),
  };
}

function addressOf() {
  const query = selectionParams().toString();
  return query ? `/?${query}` : "/";
}

// Every change of the selection is a step of the history; back and forward restore it.
function changed({ resetSeed = false } = {}) {
  if (resetSeed) state.seed = newSeed();
  history.pushState(null, "", addressOf());
  render();
}

function render() {
  $("unique").checked = state.unique;
  for (const f of FACETS) pickers[f].renderChips();
  document.title = titleOf();
  scheduleResults();
}

function titleOf() {
  const chosen = FACETS.flatMap((f) => state.facets[f]);
  const base = "Discogs Dataget";
  return chosen.length ? `${chosen.join(" · ")} — ${base}` : `${base} — playlists from the Discogs catalogue`;
}

window.addEventListener("popstate", () => {
  Object.assign(state, stateFromAddress());
  render();
});

async function copyLink() {
  const status = $("share-status");
  try {
    await navigator.clipboard.writeText(location.href);
    status.textContent = "Link copied: whoever opens it gets this selection and this sample.";
  } catch {
    // No clipboard (an insecure origin, or permission refused): the address is shown to copy by hand.
    status.replaceChildren("Copy this link: ", el("a", { href: location.href, textContent: location.href }));
  }
}

// ---- results --------------------------------------------------------------------------------------------
let resultsGeneration = 0;

async function refreshResults() {
  const generation = ++resultsGeneration;
  const params = selectionParams();
  params.set("limit", String(SAMPLE_SIZE));
  $("results").setAttribute("aria-busy", "true");
  let resp;
  let body;
  try {
    resp = await fetch(`/api/v1/query?${params}`);
    body = await resp.json();
  } catch {
    resp = null;
    body = { error: "The site did not answer; check the connection and try again." };
  }
  if (generation !== resultsGeneration) return; // a newer request is on its way
  $("results").setAttribute("aria-busy", "false");
  const failed = !resp || !resp.ok;
  $("query-error").hidden = !failed;
  if (failed) {
    $("query-error-text").textContent = body.error || "Something went wrong.";
    return;
  }
  $("count-releases").textContent = count(body.releases);
  $("count-videos").textContent = count(body.videos);
  $("sample").replaceChildren(...body.sample.map(sampleItem));
  if (!body.sample.length) $("sample").append(el("li", { className: "empty", textContent: "No videos match this selection." }));
  // The player, YouTube links and downloads (player.js) follow the selection.
  const detail = { params: selectionParams().toString(), sample: body.sample };
  document.dispatchEvent(new CustomEvent("dataget:selection", { detail }));
  // The pickers' counts after the main answer, so they never hold it up.
  for (const f of FACETS) pickers[f].refreshTops();
}
const scheduleResults = debounce(refreshResults, 200);

function sampleItem(v) {
  const title = v.title || v.video_id;
  const item = el("li", {}, el("a", {
    href: `https://www.youtube.com/watch?v=${encodeURIComponent(v.video_id)}`,
    target: "_blank",
    rel: "noopener",
    textContent: title,
  }));
  if (v.release_id) {
    item.append(" ", el("a", {
      className: "release",
      href: `/releases/${v.release_id}`,
      textContent: "release",
      attrs: { "aria-label": `release of ${title}` },
    }));
  }
  return item;
}

// ---- facet pickers (WAI-ARIA combobox with a listbox popup) -------------------------------------------------
function suggestionsUrl(facet, prefix, limit) {
  const params = selectionParams({ withSeed: false });
  params.delete("unique"); // counts are of releases either way
  if (prefix) params.set("prefix", prefix);
  params.set("limit", String(limit));
  return `/api/v1/facets/${facet}?${params}`;
}

function buildPicker(facet) {
  const id = `facet-${facet}`;
  const input = el("input", {
    id, type: "text", placeholder: `any ${facet}`, autocomplete: "off", spellcheck: false,
    attrs: { role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": `${id}-list`,
      "aria-describedby": `${id}-note` },
  });
  const list = el("ul", { id: `${id}-list`, className: "suggestions", hidden: true,
    attrs: { role: "listbox", "aria-label": `${facet} values` } });
  const note = el("p", { id: `${id}-note`, className: "note", attrs: { "aria-live": "polite" } });
  const chips = el("ul", { className: "chips", attrs: { "aria-label": `chosen ${facet} values` } });
  const tops = el("div", { className: "tops", attrs: { "aria-label": `most common ${facet} values here`, role: "group" } });
  let options = []; // [{value, releases}] shown in the list
  let active = -1;
  let pending = null; // {prefix, promise} of the newest suggestions request
  let asked = 0; // numbers the suggestion requests: only the newest one's answer is shown

  function open(isOpen) {
    list.hidden = !isOpen;
    input.setAttribute("aria-expanded", String(isOpen));
    if (!isOpen) highlight(-1);
  }

  function highlight(index) {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    if (active >= 0 && list.children[active]) {
      input.setAttribute("aria-activedescendant", list.children[active].id);
      list.children[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  // Moves to the next option that would give something (greyed ones are skipped).
  function move(step) {
    for (let i = active + step; i >= 0 && i < options.length; i += step) {
      if (options[i].releases > 0) return highlight(i);
    }
    return undefined;
  }

  function fetchSuggestions(prefix) {
    const promise = fetch(suggestionsUrl(facet, prefix, SUGGESTIONS))
      .then((resp) => (resp.ok ? resp.json() : Promise.reject(new Error(String(resp.status)))));
    pending = { prefix, promise };
    return promise;
  }

  async function suggest() {
    const prefix = input.value.trim();
    const ask = ++asked;
    list.setAttribute("aria-busy", "true");
    let values;
    try {
      values = await fetchSuggestions(prefix);
    } catch {
      if (ask === asked) note.textContent = "Suggestions are not available right now.";
      return;
    } finally {
      list.removeAttribute("aria-busy");
    }
    if (ask !== asked) return; // typed on, or chose, meanwhile
    note.textContent = "";
    showOptions(values);
    open(document.activeElement === input && values.length > 0);
  }
  const scheduleSuggest = debounce(suggest, 120);

  function showOptions(values) {
    // Values that would give nothing come last, greyed, and cannot be picked.
    const next = [...values.filter((v) => v.releases > 0), ...values.filter((v) => v.releases === 0)];
    if (next.length === options.length && next.every((v, i) => v.value === options[i].value
        && v.releases === options[i].releases)) return; // the same list: nothing moves under the pointer
    options = next;
    // A value still listed keeps its element (only its place and count change), so what the pointer is on stays.
    const shown = new Map([...list.children].map((li) => [li.dataset.value, li]));
    list.replaceChildren(...options.map((v, i) => optionElement(v, i, shown.get(v.value))));
    highlight(-1);
  }

  function optionElement(v, i, reused) {
    const li = reused || el("li", {
      dataset: { value: v.value },
      attrs: { role: "option" },
      onmousedown: (e) => e.preventDefault(), // keep the focus in the input
      onclick: () => pick(li.dataset.value),
    });
    li.id = `${id}-option-${i}`;
    li.className = v.releases ? "" : "empty";
    li.setAttribute("aria-selected", "false");
    if (v.releases) li.removeAttribute("aria-disabled");
    else li.setAttribute("aria-disabled", "true");
    li.replaceChildren(el("span", { className: "value", textContent: v.value }), countSpan(v.releases));
    return li;
  }

  function pick(value) {
    const option = options.find((v) => v.value === value);
    if (option && option.releases) choose(value);
  }

  function choose(value) {
    asked += 1;
    scheduleSuggest.cancel();
    input.value = "";
    note.textContent = "";
    open(false);
    if (!state.facets[facet].includes(value)) {
      state.facets[facet].push(value);
      changed();
    }
  }

  // Enter: the highlighted suggestion, else the first that gives something, for exactly what was typed.
  async function enter() {
    const typed = input.value.trim();
    if (!typed && active < 0) return;
    if (active >= 0 && !list.hidden) {
      choose(options[active].value);
      return;
    }
    scheduleSuggest.cancel();
    const ask = ++asked;
    let values = options;
    if (!pending || pending.prefix !== typed || list.hidden) {
      try {
        values = await fetchSuggestions(typed);
      } catch {
        note.textContent = "Suggestions are not available right now; try again in a moment.";
        return;
      }
    } else {
      values = await pending.promise.catch(() => []);
    }
    if (ask !== asked) return;
    const first = values.find((v) => v.releases > 0);
    if (first) {
      choose(first.value);
    } else {
      showOptions(values);
      open(values.length > 0);
      note.textContent = values.length
        ? `No ${facet} starting with “${typed}” has releases in this selection.`
        : `No ${facet} starts with “${typed}”. Pick one of the suggestions.`;
    }
  }

  function remove(value, position) {
    state.facets[facet] = state.facets[facet].filter((v) => v !== value);
    changed();
    // The focus goes to the chip that took its place, or back to the input.
    const next = chips.querySelectorAll("button")[position] || chips.querySelectorAll("button")[position - 1];
    (next || input).focus();
  }

  function renderChips() {
    chips.replaceChildren(...state.facets[facet].map((value, i) => el("li", {}, el("button", {
      type: "button",
      className: "chip",
      textContent: value,
      attrs: { "aria-label": `Remove ${facet} ${value}` },
      onclick: () => remove(value, i),
      onkeydown: (e) => {
        if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); remove(value, i); }
      },
    }))));
    tops.hidden = state.facets[facet].length > 0;
  }

  // The most common values within the rest of the selection, as one-tap picks under the empty picker.
  async function refreshTops() {
    if (state.facets[facet].length) return;
    let values;
    try {
      const resp = await fetch(suggestionsUrl(facet, "", TOPS));
      if (!resp.ok) return; // busy (429, 503): the row keeps what it showed
      values = await resp.json();
    } catch {
      return;
    }
    tops.replaceChildren(...values.filter((v) => v.releases > 0).map((v) => el("button", {
      type: "button",
      className: "top",
      onclick: () => choose(v.value),
    }, el("span", { textContent: v.value }), " ", countSpan(v.releases))));
  }

  input.addEventListener("input", () => { note.textContent = ""; scheduleSuggest(); });
  input.addEventListener("focus", () => suggest());
  input.addEventListener("blur", () => open(false));
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (list.hidden && options.length) open(true);
      move(1);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      move(-1);
    } else if (e.key === "Escape") {
      if (!list.hidden) { e.preventDefault(); open(false); } else if (input.value) { input.value = ""; }
    } else if (e.key === "Enter") {
      e.preventDefault();
      enter();
    } else if (e.key === "Backspace" && !input.value && state.facets[facet].length) {
      const last = chips.querySelectorAll("button");
      last[last.length - 1].focus();
    }
  });

  pickers[facet] = { renderChips, refreshTops };
  const label = el("label", { htmlFor: id, textContent: facet });
  return el("div", { className: "facet" }, label, el("div", { className: "combo" }, input, list), note, chips, tops);
}

// ---- account -------------------------------------------------------------------------------------------
async function loadAccount() {
  let user = null;
  try {
    let demo;
    ({ user, demo } = await (await fetch("/api/v1/me")).json());
    $("demo-banner").hidden = !demo;
  } catch {
    // Signed out as far as the page can tell; signing in still works.
  }
  signedIn = Boolean(user);
  $("sign-in").hidden = signedIn;
  $("sign-out").hidden = !signedIn;
  $("user-email").textContent = user ? user.email || user.id : "";
  $("playlist-form").hidden = !signedIn;
  $("playlist-signin").hidden = signedIn;
}

// ---- playlist jobs -------------------------------------------------------------------------------------
const STATE_TEXT = {
  queued: "Queued",
  running: "Adding videos…",
  waiting_for_quota: "Waiting for YouTube quota (resumes automatically)",
  done: "Done",
  failed: "Failed",
};

function showSnapshot(s) {
  $("job").hidden = false;
  $("job-state").textContent = STATE_TEXT[s.state] || s.state;
  $("job-numbers").textContent = `${s.done} / ${s.total}` + (s.skipped ? ` (${s.skipped} unavailable skipped)` : "");
  $("job-progress").max = Math.max(1, s.total);
  $("job-progress").value = s.done + s.skipped;
  const waiting = s.state !== "done" && s.state !== "failed" && s.eta_text;
  $("job-eta").textContent = waiting
    ? `${s.remaining} to go, place ${s.queue_position} in the queue, done in ${s.eta_text}. ` +
      "Meanwhile the player and the downloads above need no quota."
    : "";
  const result = $("job-result");
  result.replaceChildren();
  if (s.playlist_id) {
    result.append(
      el("a", {
        href: `https://www.youtube.com/playlist?list=${encodeURIComponent(s.playlist_id)}`,
        target: "_blank",
        rel: "noopener",
        textContent: "Open the playlist on YouTube",
      })
    );
  }
  if (s.error) result.append(el("span", { className: "error", textContent: ` ${s.error}` }));
}

function followJob(jobId) {
  let lastSeq = -1;
  let attempt = 0;
  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/playlists/${jobId}?since=${lastSeq}`);
    let finished = false;
    ws.onmessage = (event) => {
      const snapshot = JSON.parse(event.data);
      if (snapshot.seq < lastSeq) return;
      lastSeq = snapshot.seq;
      attempt = 0;
      finished = snapshot.state === "done" || snapshot.state === "failed";
      showSnapshot(snapshot);
    };
    ws.onclose = () => {
      if (finished) return;
      // Exponential backoff with jitter; the server resends the latest snapshot newer than lastSeq.
      const delay = Math.min(30000, 500 * 2 ** attempt++) * (0.5 + Math.random());
      setTimeout(connect, delay);
    };
  };
  connect();
}

async function createPlaylist(event) {
  event.preventDefault();
  const body = {
    title: $("pl-title").value,
    privacy: $("pl-privacy").value,
    max_videos: Number($("pl-max").value),
    query: queryObject(),
  };
  const resp = await fetch("/api/v1/playlists", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await resp.json();
  if (resp.status === 403 && answer.connect) { // YouTube access is asked for on the first playlist
    location.assign(`${answer.connect}&next=${encodeURIComponent(location.pathname + location.search)}`);
    return;
  }
  if (!resp.ok) {
    $("job").hidden = false;
    $("job-state").textContent = "Not created";
    $("job-result").textContent = answer.error;
    return;
  }
  showSnapshot({ state: "queued", done: 0, total: answer.total, skipped: 0, playlist_id: null, error: null });
  followJob(answer.job_id);
}

// ---- start ---------------------------------------------------------------------------------------------
$("facets").append(...FACETS.map(buildPicker));
Object.assign(state, stateFromAddress());
history.replaceState(null, "", addressOf()); // the address names the seed, so a copied link gives this sample
$("unique").addEventListener("change", () => { state.unique = $("unique").checked; changed(); });
$("shuffle").addEventListener("click", () => changed({ resetSeed: true }));
$("clear").addEventListener("click", () => {
  for (const f of FACETS) state.facets[f] = [];
  state.unique = false;
  changed();
});
$("copy-link").addEventListener("click", copyLink);
$("retry").addEventListener("click", () => refreshResults());
$("playlist-form").addEventListener("submit", createPlaylist);
loadAccount();
render();
scheduleResults.cancel();
refreshResults();
