"use strict";
// A release or master page (web/page_html.py): its videos become the page player's queue (player.js), a fixed one.
(() => {
  const sample = [...document.querySelectorAll(".videos li[data-video-id]")].map((li) => ({
    video_id: li.dataset.videoId,
    title: li.dataset.title,
    release_id: Number(li.dataset.releaseId || 0),
  }));
  if (sample.length) document.dispatchEvent(new CustomEvent("dataget:selection", { detail: { params: null, sample } }));
})();
