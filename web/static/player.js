"use strict";
// Listen and take away without YouTube quota or sign-in: an in-page player (YouTube IFrame Player API) over the
// selection's sample, "Open in YouTube" links (watch_videos) and export downloads (M3U, JSON, CSV).
// app.js announces each new selection with a `dataget:selection` event: {params: query string, sample: [...]}.

(() => {
  const API_URL = "https://www.youtube.com/iframe_api";
  // Player errors of a video that cannot play here: bad id, HTML5 error, gone or private, embedding refused.
  const UNPLAYABLE = { 2: "invalid video id", 5: "cannot be played in this browser", 100: "removed or private",
    101: "the owner does not allow embedding", 150: "the owner does not allow embedding" };
  const FORMATS = ["m3u", "json", "csv"];
  const MAX_SAMPLE = 50;

  let selection = null; // {params: URLSearchParams, sample: [...]}
  let queue = []; // [{video_id, title, release_id, failed: null | string}]
  let current = -1;
  let player = null;
  let playerReady = null; // Promise of the YT.Player once created
  let extraDraws = 0;

  const panel = document.getElementById("listen");
  if (!panel) return;

  function el(tag, props = {}, ...children) {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  }

  const button = (id, text, onclick) => el("button", { type: "button", id, className: "link", textContent: text, onclick });
  const play = el("button", { type: "button", id: "player-play", className: "button", textContent: "Play", onclick: playPause });
  const status = el("p", { id: "player-status", className: "hint" });
  // Focusable: it scrolls, and a keyboard must be able to scroll it (axe: scrollable-region-focusable).
  const list = el("ol", { id: "player-queue", className: "player-queue", tabIndex: 0 });
  list.setAttribute("aria-label", "Play queue");
  const frame = el("div", { className: "player-frame" }, el("div", { id: "player-frame" }));
  const limit = el("input", { id: "export-limit", type: "number", min: 1, max: 5000, value: 500 });
  const downloads = FORMATS.map((f) =>
    el("a", { id: `download-${f}`, className: "button", textContent: f.toUpperCase(), download: "" }));
  const openSample = el("a", { id: "open-sample", target: "_blank", rel: "noopener", textContent: "Open the sample in YouTube" });
  const links = el("ul", { id: "youtube-links", className: "youtube-links" });

  const moreButton = button("player-more", "Add the next sample", more);
  const limitLabel = el("label", {}, "Videos ", limit);
  const linksButton = button("youtube-links-button", "YouTube links for all", showLinks);
  // A record page (web/page_html.py) names its panel and says what it offers in data-title and data-intro.
  panel.append(
    el("h2", { id: "listen-title", textContent: panel.dataset.title || "Listen and take away" }),
    el("p", { className: "hint", textContent: panel.dataset.intro || "No sign-in and no YouTube quota: play the sample here, open it in YouTube, or download the selection." }),
    el("div", { className: "player-controls" },
      play,
      button("player-prev", "Previous", () => step(-1)),
      button("player-next", "Next", () => step(1)),
      button("player-shuffle", "Shuffle", shuffle),
      moreButton),
    frame, status, list,
    el("div", { className: "takeaway" }, openSample, limitLabel, ...downloads, linksButton),
    links);
  frame.hidden = true;

  // ---- the queue -----------------------------------------------------------------------------------------
  function renderQueue() {
    list.replaceChildren(...queue.map((v, i) => {
      const item = el("li", { textContent: v.title || v.video_id, onclick: () => playAt(i) });
      item.classList.toggle("playing", i === current);
      if (v.failed) {
        item.classList.add("unplayable");
        item.title = `skipped: ${v.failed}`;
      }
      return item;
    }));
    const playing = list.children[current];
    if (playing) playing.scrollIntoView({ block: "nearest" });
  }

  function entries(sample) {
    return sample.map((v) => ({ video_id: v.video_id, title: v.title, release_id: v.release_id, failed: null }));
  }

  function shuffle() {
    // Only what is still to come: the video playing stays where it is.
    const rest = queue.slice(current + 1);
    for (let i = rest.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [rest[i], rest[j]] = [rest[j], rest[i]];
    }
    queue = [...queue.slice(0, current + 1), ...rest];
    renderQueue();
  }

  async function more() {
    if (!selection) return;
    const params = new URLSearchParams(selection.params);
    extraDraws += 1;
    params.set("seed", String(Number(params.get("seed") || 0) + extraDraws));
    params.set("limit", String(MAX_SAMPLE));
    const resp = await fetch(`/api/v1/query?${params}`);
    if (!resp.ok) return;
    const known = new Set(queue.map((v) => v.video_id));
    const fresh = (await resp.json()).sample.filter((v) => !known.has(v.video_id));
    queue.push(...entries(fresh));
    status.textContent = fresh.length ? `${fresh.length} more videos queued` : "No new videos in the next sample";
    renderQueue();
  }

  // ---- the player ----------------------------------------------------------------------------------------
  function loadApi() {
    if (window.YT && window.YT.Player) return Promise.resolve(window.YT);
    return new Promise((resolve, reject) => {
      const previous = window.onYouTubeIframeAPIReady;
      window.onYouTubeIframeAPIReady = () => {
        if (previous) previous();
        resolve(window.YT);
      };
      document.head.append(el("script", { src: API_URL, onerror: () => reject(new Error("no YouTube player")) }));
    });
  }

  function createPlayer(videoId) {
    playerReady = loadApi().then((YT) => new Promise((resolve) => {
      frame.hidden = false;
      player = new YT.Player("player-frame", {
        width: "100%",
        videoId,
        playerVars: { autoplay: 1, playsinline: 1, rel: 0 },
        events: {
          onReady: (event) => { event.target.playVideo(); resolve(event.target); },
          onStateChange: (event) => {
            if (event.data === YT.PlayerState.ENDED) step(1);
            play.textContent = event.data === YT.PlayerState.PLAYING ? "Pause" : "Play";
          },
          onError: (event) => skip(event.data),
        },
      });
    }));
    playerReady.catch(() => {
      playerReady = null;
      status.textContent = "The YouTube player could not be loaded; the links below still work.";
    });
    return playerReady;
  }

  async function playAt(index) {
    if (index < 0 || index >= queue.length) return;
    current = index;
    renderQueue();
    const video = queue[index];
    status.textContent = `Playing ${video.title || video.video_id}`;
    try {
      if (!playerReady) await createPlayer(video.video_id);
      else (await playerReady).loadVideoById(video.video_id);
    } catch {
      // The status line already says the player could not be loaded.
    }
  }

  // The next (or previous) video not yet known to be unplayable; at the end, stop.
  function step(direction) {
    for (let i = current + direction; i >= 0 && i < queue.length; i += direction) {
      if (!queue[i].failed) return playAt(i);
    }
    status.textContent = queue.some((v) => !v.failed) ? "End of the queue" : "Nothing in the queue can be played here";
    return undefined;
  }

  function skip(code) {
    if (current < 0) return;
    queue[current].failed = UNPLAYABLE[code] || `player error ${code}`;
    step(1);
    renderQueue();
  }

  async function playPause() {
    if (!playerReady) {
      const first = queue.findIndex((v, i) => i >= Math.max(current, 0) && !v.failed);
      if (first >= 0) await playAt(first);
      return;
    }
    const p = await playerReady;
    if (p.getPlayerState() === window.YT.PlayerState.PLAYING) p.pauseVideo();
    else p.playVideo();
  }

  // ---- take away -----------------------------------------------------------------------------------------
  function exportUrl(format) {
    const params = new URLSearchParams(selection.params);
    params.set("limit", String(Math.max(1, Math.min(5000, Number(limit.value) || 500))));
    params.append("format", format);
    return `/api/v1/export?${params}`;
  }

  function updateTakeaway() {
    const ids = selection.sample.slice(0, MAX_SAMPLE).map((v) => v.video_id);
    openSample.hidden = ids.length === 0;
    openSample.href = `https://www.youtube.com/watch_videos?video_ids=${ids.join(",")}`;
    downloads.forEach((a, i) => { a.href = exportUrl(FORMATS[i]); });
    links.replaceChildren();
  }

  async function showLinks() {
    if (!selection) return;
    const resp = await fetch(exportUrl("links"));
    const body = await resp.json();
    if (!resp.ok) {
      links.replaceChildren(el("li", { className: "error", textContent: body.error }));
      return;
    }
    links.replaceChildren(...body.links.map((href, i) => el("li", {},
      el("a", { href, target: "_blank", rel: "noopener",
        textContent: `Open videos ${i * MAX_SAMPLE + 1}–${Math.min(body.videos, (i + 1) * MAX_SAMPLE)} in YouTube` }))));
  }

  limit.addEventListener("change", () => { if (selection) updateTakeaway(); });

  document.addEventListener("dataget:selection", (event) => {
    selection = { params: event.detail.params, sample: event.detail.sample };
    // params null: a record's own videos (web/static/record.js), no selection to draw more from or to export.
    for (const node of [moreButton, limitLabel, ...downloads, linksButton, links]) node.hidden = selection.params === null;
    extraDraws = 0;
    // The video playing keeps playing; what comes after it is the new sample.
    const playing = current >= 0 ? [queue[current]] : [];
    const fresh = entries(selection.sample).filter((v) => !playing.some((p) => p.video_id === v.video_id));
    queue = [...playing, ...fresh];
    current = playing.length ? 0 : -1;
    updateTakeaway();
    renderQueue();
  });
})();
