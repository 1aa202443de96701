"use strict";
// The whole page: facet pickers with autocomplete, debounced live counts, sample, playlist jobs with live progress.

const FACETS = ["genre", "style", "year", "decade", "country", "label", "artist", "format"];
const selected = Object.fromEntries(FACETS.map((f) => [f, []]));
let seed = Math.floor(Math.random() * 2 ** 31);
let signedIn = false;

const $ = (id) => document.getElementById(id);

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function el(tag, { dataset = {}, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset); // dataset is read-only on the element itself
  node.append(...children);
  return node;
}

function queryParams() {
  const params = new URLSearchParams();
  for (const f of FACETS) for (const v of selected[f]) params.append(f, v);
  if ($("unique").checked) params.set("unique", "master");
  params.set("seed", String(seed));
  return params;
}

function queryObject() {
  const query = {};
  for (const f of FACETS) if (selected[f].length) query[f] = [...selected[f]];
  if ($("unique").checked) query.unique = "master";
  query.seed = seed;
  return query;
}

// ---- results -------------------------------------------------------------------------------------------
let resultsGeneration = 0;

async function refreshResults() {
  const generation = ++resultsGeneration;
  const params = queryParams();
  params.set("limit", "50");
  const resp = await fetch(`/api/v1/query?${params}`);
  const body = await resp.json();
  if (generation !== resultsGeneration) return; // a newer request is on its way
  $("query-error").hidden = resp.ok;
  if (!resp.ok) {
    $("query-error").textContent = body.error;
    return;
  }
  $("count-releases").textContent = body.releases.toLocaleString();
  $("count-videos").textContent = body.videos.toLocaleString();
  $("sample").replaceChildren(
    ...body.sample.map((v) =>
      el(
        "li",
        {},
        el("a", {
          href: `https://www.youtube.com/watch?v=${encodeURIComponent(v.video_id)}`,
          target: "_blank",
          rel: "noopener",
          textContent: v.title || v.video_id,
        }),
        el("a", { className: "release", href: `/api/v1/releases/${v.release_id}`, textContent: `r${v.release_id}` })
      )
    )
  );
  // The player, YouTube links and downloads (player.js) follow the selection.
  document.dispatchEvent(new CustomEvent("dataget:selection", { detail: { params: params.toString(), sample: body.sample } }));
}
const scheduleResults = debounce(refreshResults, 250);

// ---- facet pickers -------------------------------------------------------------------------------------
function buildPicker(facet) {
  const input = el("input", { id: `facet-${facet}`, type: "text", placeholder: `any ${facet}`, autocomplete: "off" });
  const list = el("ul", { className: "suggestions", hidden: true });
  const chips = el("div", { className: "chips" });
  let active = -1;

  function renderChips() {
    chips.replaceChildren(
      ...selected[facet].map((value) =>
        el("button", {
          type: "button",
          className: "chip",
          textContent: value,
          title: `remove ${value}`,
          onclick: () => {
            selected[facet] = selected[facet].filter((v) => v !== value);
            renderChips();
            scheduleResults();
          },
        })
      )
    );
  }

  function choose(value) {
    if (value && !selected[facet].includes(value)) selected[facet].push(value);
    input.value = "";
    list.hidden = true;
    renderChips();
    scheduleResults();
  }

  function highlight(index) {
    const items = [...list.children];
    active = Math.max(-1, Math.min(index, items.length - 1));
    items.forEach((li, i) => li.classList.toggle("active", i === active));
  }

  const suggest = debounce(async () => {
    const resp = await fetch(`/api/v1/facets/${facet}?prefix=${encodeURIComponent(input.value.trim())}&limit=12`);
    if (!resp.ok) return;
    const values = await resp.json();
    list.replaceChildren(
      ...values.map((v) =>
        el(
          "li",
          { dataset: { value: v.value }, onmousedown: (e) => { e.preventDefault(); choose(v.value); } },
          el("span", { textContent: v.value }),
          el("small", { textContent: v.releases.toLocaleString() })
        )
      )
    );
    active = -1;
    list.hidden = values.length === 0 || document.activeElement !== input;
  }, 150);

  input.addEventListener("input", suggest);
  input.addEventListener("focus", suggest);
  input.addEventListener("blur", () => { list.hidden = true; });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { highlight(active + 1); e.preventDefault(); }
    else if (e.key === "ArrowUp") { highlight(active - 1); e.preventDefault(); }
    else if (e.key === "Escape") { list.hidden = true; }
    else if (e.key === "Enter") {
      e.preventDefault();
      const item = list.children[active];
      choose(item ? item.dataset.value : input.value.trim());
    }
  });

  return el("div", { className: "facet" }, el("label", { htmlFor: input.id, textContent: facet }), input, list, chips);
}

// ---- account -------------------------------------------------------------------------------------------
async function loadAccount() {
  const { user } = await (await fetch("/api/v1/me")).json();
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
$("unique").addEventListener("change", scheduleResults);
$("shuffle").addEventListener("click", () => {
  seed = Math.floor(Math.random() * 2 ** 31);
  refreshResults();
});
$("playlist-form").addEventListener("submit", createPlaylist);
loadAccount();
refreshResults();
