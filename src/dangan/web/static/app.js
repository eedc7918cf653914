// dangan: small progressive enhancement. Pages work without it; it adds zoom/rotate in the
// page viewer and live progress on an upload batch page.
"use strict";

function setupViewer() {
  const stage = document.getElementById("stage");
  const viewport = document.getElementById("viewport");
  if (!stage || !viewport) return;
  const w = Number(stage.dataset.width) || 1000, h = Number(stage.dataset.height) || 1414;
  let scale = null, rotation = 0;

  function fitScale() {
    const avail = viewport.clientWidth - 32;
    return rotation % 180 === 0 ? avail / w : avail / h;
  }
  function apply() {
    if (scale === null) scale = fitScale();
    const sw = w * scale, sh = h * scale;
    stage.style.width = sw + "px";
    stage.style.height = sh + "px";
    // rotate around the centre, then shift so the rotated page starts at the top-left
    const turned = rotation % 180 !== 0;
    const dx = turned ? (sh - sw) / 2 : 0, dy = turned ? (sw - sh) / 2 : 0;
    stage.style.transformOrigin = "50% 50%";
    stage.style.transform = `translate(${dx}px, ${dy}px) rotate(${rotation}deg)`;
    stage.style.marginBottom = turned ? Math.max(0, sw - sh) + "px" : "0";
    stage.dataset.scale = scale.toFixed(4);
    stage.dataset.rotation = String(rotation);
  }
  document.querySelectorAll("[data-act]").forEach((btn) => btn.addEventListener("click", () => {
    const act = btn.dataset.act;
    if (act === "zoom-in") scale = (scale || fitScale()) * 1.25;
    if (act === "zoom-out") scale = Math.max(0.05, (scale || fitScale()) / 1.25);
    if (act === "fit") scale = null;
    if (act === "rotate") { rotation = (rotation + 90) % 360; scale = null; }
    apply();
  }));
  window.addEventListener("resize", () => { if (stage.dataset.fit !== "no") apply(); });
  apply();
  // bring the first hit into view
  const first = document.querySelector("svg.boxes rect");
  if (first) {
    const y = Number(first.getAttribute("y")) * scale - viewport.clientHeight / 3;
    viewport.scrollTop = Math.max(0, y);
  }
}

function setupJob() {
  const box = document.getElementById("job");
  if (!box) return;
  const id = box.dataset.job;
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  async function poll() {
    let job;
    try {
      const r = await fetch(`/api/jobs/${encodeURIComponent(id)}`, {credentials: "same-origin"});
      if (!r.ok) return;
      job = await r.json();
    } catch (e) { setTimeout(poll, 3000); return; }
    box.dataset.state = job.state;
    const state = document.getElementById("job-state");
    state.textContent = job.state_name || job.state; state.dataset.state = job.state;
    document.getElementById("job-pages").textContent = `${job.pages_done} / ${job.pages_total ?? "?"}`;
    const bar = document.getElementById("job-progress");
    bar.max = job.pages_total || 1; bar.value = job.pages_done;
    const err = document.getElementById("job-error");
    err.hidden = !job.error; err.textContent = job.error;
    document.querySelector("#job-folders tbody").innerHTML = job.folders.map((f) =>
      `<tr><td>${esc(f.source)}</td><td data-status="${esc(f.status)}">${esc(f.status_name || f.status)}</td><td class="number">${f.number ? `<a href="/records/${encodeURIComponent(f.number)}">${esc(f.number)}</a>` : ""}</td>` +
      `<td>${esc(f.pages)}</td><td>${esc(f.flagged)}</td><td>${esc(f.reason)}</td></tr>`).join("");
    if (job.state !== "done" && job.state !== "failed") setTimeout(poll, 1500);
  }
  if (box.dataset.state !== "done" && box.dataset.state !== "failed") poll();
}

document.addEventListener("DOMContentLoaded", () => { setupViewer(); setupJob(); });
