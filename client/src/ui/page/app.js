// vx ui: search as you type, results as thumbnails, moments that play from their second.
// Everything from the server is put in the page as text (textContent), never as HTML.
"use strict";

const token = document.querySelector('meta[name="vx-token"]').content;
const $ = (sel) => document.querySelector(sel);
const form = $("#search");
const FIELDS = ["q", "kind", "person", "after", "before", "folder"];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function clock(s) {
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(sec)}` : `${two(m)}:${two(sec)}`;
}

async function api(path, options = {}) {
  const r = await fetch(path, { credentials: "same-origin", ...options });
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function post(path, body) {
  return api(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-vx-token": token },
    body: JSON.stringify(body),
  });
}

// The query lives in the address: back, forward and reload show the same search.
function readForm() {
  const p = new URLSearchParams();
  for (const f of FIELDS) {
    const v = form.elements[f].value.trim();
    if (v) p.set(f, v);
  }
  const has = [...form.querySelectorAll('input[name="has"]:checked')].map((c) => c.value);
  if (has.length) p.set("has", has.join(","));
  return p;
}

function fillForm(p) {
  for (const f of FIELDS) form.elements[f].value = p.get(f) || "";
  const has = (p.get("has") || "").split(",");
  for (const c of form.querySelectorAll('input[name="has"]')) c.checked = has.includes(c.value);
}

let typing = null;
let asked = 0;
let shown = [];

form.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    const p = readForm();
    if (p.toString() !== new URLSearchParams(location.search).toString()) {
      history.pushState(null, "", p.toString() ? `/?${p}` : "/");
    }
    search(p);
  }, 250);
});
form.addEventListener("submit", (e) => e.preventDefault());
window.addEventListener("popstate", () => {
  const p = new URLSearchParams(location.search);
  fillForm(p);
  search(p);
});

async function search(p) {
  const n = ++asked;
  if (!p.get("q") && !p.get("kind") && !p.get("person")) {
    render({ results: [], took_ms: 0 }, p);
    return;
  }
  try {
    const r = await api(`/api/search?${p}`);
    if (n === asked) render(r, p);
  } catch (e) {
    if (n === asked) $("#summary").textContent = `Search failed: ${e.message}`;
  }
}

function render(r, p) {
  shown = r.results;
  const grid = $("#results");
  grid.replaceChildren();
  const q = p.get("q") || "";
  $("#summary").textContent = q || p.toString()
    ? `${plural(r.results.length, "result")} in ${r.took_ms.toFixed(1)} ms`
    : "Type to search: words spoken or printed, things, people, places, sounds.";
  r.results.forEach((hit, i) => grid.append(card(hit, i)));
}

function card(hit, i) {
  const thumb = hit.thumb
    ? el("img", { src: hit.thumb, alt: "", loading: "lazy" })
    : el("span", { class: "no-thumb", text: hit.kind });
  const chips = el("div", { class: "moments" });
  for (const m of hit.moments.slice(0, 6)) {
    if (hit.kind === "image") break;
    const said = m.speaker ? `[${m.speaker}] ${m.text}` : m.text;
    chips.append(el("button", {
      type: "button", class: "chip", title: `${m.sources.join(", ")}: ${said}`,
      onclick: (e) => { e.stopPropagation(); play(hit, m.start); },
    }, el("b", { text: clock(m.start) }), ` ${said}`));
  }
  const percent = Math.round(100 * hit.score);
  const strength = el("span", {
    class: "strength", title: `relevance ${percent}%${hit.weak ? " (a weaker match)" : ""}`,
  }, el("span", { style: null }));
  strength.firstChild.style.width = `${percent}%`;
  const classes = ["card", hit.online ? "" : "offline", hit.weak ? "weak" : ""];
  return el("article", {
    class: classes.filter(Boolean).join(" "), tabindex: "0", "data-index": i,
    onclick: () => open(hit),
    onkeydown: (e) => { if (e.key === "Enter") open(hit); },
  },
    el("div", { class: "thumb" }, thumb),
    el("div", { class: "meta" },
      el("span", { class: "name", text: hit.name || hit.media, title: hit.folder }),
      el("span", { class: "kind", text: hit.online ? hit.kind : `${hit.kind}, offline` }),
      strength),
    chips);
}

function open(hit) {
  const first = hit.kind === "image" ? null : hit.moments[0];
  play(hit, first ? first.start : 0);
}

// Plays a video or recording from second `t` (pictures are shown), with its details.
function play(hit, t) {
  belowHeader($("#panel"));
  const player = $("#player");
  player.replaceChildren();
  if (hit.kind === "image") {
    player.append(el("img", { src: hit.media, alt: hit.name }));
  } else {
    const media = el(hit.kind === "video" ? "video" : "audio", { src: hit.clip || hit.media, controls: true, preload: "metadata" });
    media.addEventListener("loadedmetadata", () => seek(media, t), { once: true });
    player.append(media);
  }
  details(hit);
}

// Plays the player's media from second `t` (none for a picture).
function seek(media, t) {
  if (!media) return;
  media.currentTime = t;
  media.play().catch(() => {});
}

async function details(hit) {
  const box = $("#details");
  box.replaceChildren(el("h2", { text: hit.name }), el("p", { class: "folder", text: hit.folder }));
  let d;
  try {
    d = await api(`/api/show/${hit.id}`);
  } catch (e) {
    box.append(el("p", { text: `Details failed: ${e.message}` }));
    return;
  }
  const facts = [d.taken, d.place, d.camera, d.width && `${d.width}×${d.height}`,
    d.duration && clock(d.duration)].filter(Boolean);
  box.append(el("p", { text: facts.join(" · ") }));
  const media = $("#player video, #player audio");
  for (const h of d.headings) {
    const list = el("ul", { class: `segments ${h.source}` });
    for (const s of h.segments) {
      const said = s.speaker ? `[${s.speaker}] ${s.text}` : s.text;
      const time = d.duration
        ? el("button", { type: "button", class: "time", text: clock(s.start), onclick: () => seek(media, s.start) })
        : null;
      list.append(el("li", {}, time, ` ${said}`));
    }
    box.append(el("h3", { text: h.heading }), list);
  }
  if (d.faces.length) {
    const names = [...new Set(d.faces.map((f) => f.name || (f.person !== null ? `person ${f.person}` : "someone")))];
    box.append(el("h3", { text: "faces" }), el("p", { text: names.join(", ") }));
  }
  if (d.scenes.length > 1) {
    const scenes = el("div", { class: "scenes" });
    for (const s of d.scenes) {
      scenes.append(el("button", { type: "button", title: `${clock(s.start)}–${clock(s.end)}`, onclick: () => seek(media, s.start) }, s.thumb ? el("img", { src: s.thumb, alt: clock(s.start) }) : clock(s.start)));
    }
    box.append(el("h3", { text: "scenes" }), scenes);
  }
  if (d.measures.length) box.append(el("h3", { text: "measured" }), el("p", { text: d.measures.join(" · ") }));
}

// Panels open under the search bar, which stays in reach.
function belowHeader(panel) {
  panel.style.top = `${$("header").offsetHeight}px`;
  panel.hidden = false;
}

$("#close").addEventListener("click", closePanel);
function closePanel() {
  $("#panel").hidden = true;
  $("#player").replaceChildren();
}

// People: a face crop per group, named and merged here.
let chosen = [];
$("#show-people").addEventListener("click", showPeople);
$("#close-people").addEventListener("click", () => { $("#people").hidden = true; });
async function showPeople() {
  closePanel();
  belowHeader($("#people"));
  const grid = $("#people-grid");
  grid.replaceChildren();
  chosen = [];
  $("#merge").disabled = true;
  let people;
  try {
    people = await api("/api/people");
  } catch (e) {
    grid.append(el("p", { text: `People failed: ${e.message}` }));
    return;
  }
  if (!people.length) grid.append(el("p", { text: "No faces found yet." }));
  for (const p of people) {
    const name = el("input", { type: "text", value: p.name || "", placeholder: `person ${p.id}`, "aria-label": `Name of person ${p.id}` });
    name.addEventListener("change", async () => {
      try {
        await post(`/api/people/${p.id}/name`, { name: name.value });
        loadPeopleFilter();
      } catch (e) { name.setCustomValidity(e.message); name.reportValidity(); }
    });
    const pick = el("input", { type: "checkbox", "aria-label": `Choose person ${p.id}` });
    pick.addEventListener("change", () => {
      chosen = pick.checked ? [...chosen, p.id] : chosen.filter((id) => id !== p.id);
      $("#merge").disabled = chosen.length !== 2;
    });
    grid.append(el("figure", { class: "person" },
      p.thumb ? el("img", { src: p.thumb, alt: p.name || `person ${p.id}` }) : null,
      el("figcaption", {}, name, el("span", { text: `${plural(p.faces, "face")} in ${plural(p.files, "file")}` }),
        el("label", {}, pick, " to merge"))));
  }
}
$("#merge").addEventListener("click", async () => {
  if (chosen.length !== 2) return;
  await post("/api/people/merge", { into: chosen[0], from: chosen[1] }).catch((e) => alert(e.message));
  showPeople();
  loadPeopleFilter();
});

async function loadPeopleFilter() {
  const select = $("#person");
  const keep = select.value || new URLSearchParams(location.search).get("person") || "";
  const people = await api("/api/people").catch(() => []);
  select.replaceChildren(el("option", { value: "", text: "anyone" }));
  for (const p of people) {
    select.append(el("option", { value: p.name || String(p.id), text: p.name || `person ${p.id}` }));
  }
  select.value = keep;
}

// Keyboard: "/" searches, arrows move between results, Enter opens, Escape closes.
document.addEventListener("keydown", (e) => {
  const inField = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
  if (e.key === "/" && !inField) { e.preventDefault(); $("#q").focus(); return; }
  if (e.key === "Escape") { closePanel(); $("#people").hidden = true; return; }
  if (inField && e.key !== "ArrowDown") return;
  const cards = [...document.querySelectorAll(".card")];
  if (!cards.length) return;
  const at = cards.indexOf(document.activeElement);
  const across = Math.max(1, Math.round($("#results").clientWidth / cards[0].offsetWidth));
  const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: across, ArrowUp: -across }[e.key];
  if (step === undefined) return;
  e.preventDefault();
  cards[Math.min(cards.length - 1, Math.max(0, at < 0 ? 0 : at + step))].focus();
});

// Indexing progress, every few seconds.
async function status() {
  try {
    const s = await api("/api/status");
    const parts = [`${s.indexed} files indexed`];
    if (s.pending) parts.push(`${s.pending} to go${s.eta_secs ? `, about ${clock(s.eta_secs)}` : ""}`);
    if (s.failed) parts.push(`${s.failed} could not be read`);
    if (s.paused) parts.push(`paused: ${s.paused}`);
    $("#status").textContent = parts.join(" · ");
  } catch (e) {
    $("#status").textContent = `vxd does not answer: ${e.message}`;
  }
}

// The token was needed once, in the address; the cookie carries it now.
const start = new URLSearchParams(location.search);
if (start.has("token")) {
  start.delete("token");
  history.replaceState(null, "", start.toString() ? `/?${start}` : "/");
}
fillForm(start);
search(start);
loadPeopleFilter();
status();
setInterval(status, 3000);
