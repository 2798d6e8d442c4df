// narrascope moderator page: plain JavaScript, no build step, no third-party code.
// Labels, kinds and thresholds come from GET /v1/labels (the loaded model), never from this file.
// All user text is inserted with textContent, never as HTML.
"use strict";

const KEY_STORAGE = "narrascope.apiKey";
const PALETTES = {
  claim: ["#d9480f", "#c92a2a", "#e67700", "#a61e4d", "#b35c00", "#f03e3e"],
  counter: ["#2b8a3e", "#1971c2", "#0b7285", "#5c940d"],
  framing: ["#6741d9", "#9c36b5", "#495057", "#364fc7", "#862e9c"],
};
const KIND_TITLES = { claim: "Claims", counter: "Rebuttals", framing: "Framing" };
const RISK_TEXT = {
  high: "High risk: pushes claims",
  low: "Low risk: weak claims",
  debunk: "Debunk: claims are rebutted",
  none: "No claims",
};
const EXAMPLE = [
  "Kazakhstan Is Preparing for War With Russia, Channels Claim",
  "",
  "Several Telegram channels wrote that the new law on territorial defence is a step towards war with Russia. " +
    "They also claimed that foreign mercenaries would serve in the new brigades. " +
    "The Ministry of Defense called these reports fake and said the law is not aimed at any state. " +
    "Only citizens of Kazakhstan may join the self-defence units, which protect settlements and infrastructure during emergencies.",
].join("\n");

const state = { labels: [], byId: {}, colors: {}, doc: null, docText: "", cps: [], authNeeded: false };
const $ = (id) => document.getElementById(id);

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

async function api(path, options = {}) {
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (apiKey()) headers.Authorization = "Bearer " + apiKey();
  const response = await fetch(path, Object.assign({}, options, { headers }));
  let payload = null;
  try {
    payload = await response.json();
  } catch (err) {
    payload = null;
  }
  if (response.status === 401) showAuth("This service needs an API key.");
  if (!response.ok) {
    const error = new Error(describeError(response.status, payload));
    error.status = response.status;
    throw error;
  }
  return payload;
}

function describeError(status, payload) {
  const detail = payload && payload.detail;
  if (Array.isArray(detail)) return detail.map((d) => d.msg).join("; ");
  if (typeof detail === "string") return detail;
  return "request failed (HTTP " + status + ")";
}

function showAuth(message) {
  state.authNeeded = true;
  $("auth-panel").hidden = false;
  $("auth-message").textContent = message;
}

function setStatus(message, kind) {
  const el = $("status");
  el.textContent = message;
  el.className = "status" + (kind ? " " + kind : "");
}

function colorFor(label) {
  return state.colors[label] || "#868e96";
}

function assignColors(labels) {
  const used = {};
  for (const label of labels) {
    const palette = PALETTES[label.kind] || PALETTES.framing;
    const n = used[label.kind] || 0;
    state.colors[label.id] = palette[n % palette.length];
    used[label.kind] = n + 1;
  }
}

function labelName(id) {
  return (state.byId[id] && state.byId[id].name) || id;
}

async function loadLabels() {
  try {
    const data = await api("/v1/labels");
    state.labels = data.labels;
    state.byId = Object.fromEntries(data.labels.map((l) => [l.id, l]));
    assignColors(data.labels);
    const version = /^\d/.test(data.model.version) ? "v" + data.model.version : data.model.version;
    $("model-badge").textContent = data.model.name + " · " + version;
    $("auth-panel").hidden = !state.authNeeded || false;
    if (state.authNeeded) $("auth-message").textContent = "Key accepted.";
    return true;
  } catch (err) {
    $("model-badge").textContent = "model unavailable";
    setStatus(err.message, "error");
    return false;
  }
}

function chip(label, extraClass) {
  const el = document.createElement("span");
  el.className = "chip" + (extraClass ? " " + extraClass : "");
  const dot = document.createElement("span");
  dot.className = "dot";
  dot.style.backgroundColor = colorFor(label);
  el.append(dot, document.createTextNode(labelName(label)));
  return el;
}

function renderLegend(present) {
  const legend = $("legend");
  legend.replaceChildren();
  for (const kind of Object.keys(KIND_TITLES)) {
    const ofKind = state.labels.filter((l) => l.kind === kind);
    if (!ofKind.length) continue;
    const group = document.createElement("div");
    group.className = "legend-group";
    const title = document.createElement("span");
    title.className = "legend-title";
    title.textContent = KIND_TITLES[kind];
    group.append(title);
    for (const label of ofKind) group.append(chip(label.id, present.has(label.id) ? "present" : "absent"));
    legend.append(group);
  }
}

function renderRisk(risk) {
  const badge = $("risk-badge");
  badge.className = "risk-badge risk-" + risk.level;
  badge.textContent = RISK_TEXT[risk.level] || risk.level;
  const detail = $("risk-detail");
  detail.replaceChildren();
  const rows = [
    ["Pushed", risk.claims_pushed],
    ["Rebutted", risk.claims_rebutted],
    ["Counter-narratives", risk.counter_labels],
  ];
  for (const [title, labels] of rows) {
    const row = document.createElement("div");
    row.className = "risk-line";
    const name = document.createElement("span");
    name.className = "risk-line-title";
    name.textContent = title + ":";
    row.append(name);
    if (!labels.length) {
      const none = document.createElement("span");
      none.className = "muted";
      none.textContent = "none";
      row.append(none);
    }
    for (const label of labels) row.append(chip(label));
    detail.append(row);
  }
  const basis = document.createElement("div");
  basis.className = "risk-line muted";
  basis.textContent =
    `${risk.claim_sentences} sentence(s) carry a claim, ${risk.counter_sentences} a counter-narrative`;
  detail.append(basis);
}

function renderBars(doc) {
  const bars = $("bars");
  bars.replaceChildren();
  const ordered = [...state.labels].sort((a, b) => (doc.scores[b.id] || 0) - (doc.scores[a.id] || 0));
  for (const label of ordered) {
    const score = doc.scores[label.id] || 0;
    const row = document.createElement("div");
    row.className = "bar-row" + (doc.labels.includes(label.id) ? " over" : "");
    row.dataset.label = label.id;
    const name = document.createElement("span");
    name.className = "bar-name";
    name.textContent = label.name;
    name.title = label.name + (label.description ? ": " + label.description : "");
    const track = document.createElement("span");
    track.className = "bar-track";
    const fill = document.createElement("span");
    fill.className = "bar-fill";
    fill.style.width = (score * 100).toFixed(1) + "%";
    fill.style.backgroundColor = colorFor(label.id);
    const mark = document.createElement("span");
    mark.className = "bar-threshold";
    mark.style.left = (label.threshold * 100).toFixed(1) + "%";
    track.append(fill, mark);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = score.toFixed(2);
    row.append(name, track, value);
    bars.append(row);
  }
}

function renderText(doc) {
  // Offsets from the server count Unicode code points; JavaScript strings count UTF-16 units.
  const cps = state.cps;
  const container = $("highlighted");
  container.replaceChildren();
  container.lang = doc.language === "und" ? "" : doc.language;
  let cursor = 0;
  (doc.sentences || []).forEach((sentence, index) => {
    if (sentence.start > cursor) container.append(document.createTextNode(cps.slice(cursor, sentence.start).join("")));
    const span = document.createElement("span");
    span.className = "sentence";
    span.dataset.index = String(index);
    span.tabIndex = 0;
    span.textContent = cps.slice(sentence.start, sentence.end).join("");
    const ranked = [...sentence.labels].sort((a, b) => sentence.scores[b] - sentence.scores[a]);
    if (ranked.length) {
      // Background: the strongest label; underline: one segment per label, strongest first.
      const main = colorFor(ranked[0]);
      const width = 100 / ranked.length;
      const stops = ranked
        .map((label, i) => colorFor(label) + " " + (i * width).toFixed(2) + "% " + ((i + 1) * width).toFixed(2) + "%")
        .join(", ");
      span.classList.add("labeled");
      span.style.backgroundColor = main + "26";
      span.style.backgroundImage = "linear-gradient(to right, " + stops + ")";
      span.dataset.labels = ranked.join(" ");
      span.title = ranked.map((l) => labelName(l) + " " + sentence.scores[l].toFixed(2)).join(", ");
    } else {
      span.title = "no narrative";
    }
    span.addEventListener("click", () => openCorrection(index));
    span.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        openCorrection(index);
      }
    });
    container.append(span);
    cursor = sentence.end;
  });
  if (cursor < cps.length) container.append(document.createTextNode(cps.slice(cursor).join("")));
}

async function scoreText() {
  const text = $("text").value;
  if (!text.trim()) {
    setStatus("Paste or drop a text first.", "error");
    return;
  }
  setStatus("Scoring…");
  $("score-btn").disabled = true;
  try {
    const data = await api("/v1/score", {
      method: "POST",
      body: JSON.stringify({ documents: [{ id: "page", text }] }),
    });
    const doc = data.results[0];
    state.doc = doc;
    state.docText = text;
    state.cps = Array.from(text);
    renderText(doc);
    renderRisk(doc.risk);
    renderBars(doc);
    renderLegend(new Set(doc.labels)); // a document label is exactly one carried by some sentence
    $("results").hidden = false;
    const lang = doc.language === "und" ? "language undetermined" : "language: " + doc.language;
    setStatus(doc.n_sentences + " sentences scored · " + lang + " · model " + data.model.version, "ok");
  } catch (err) {
    setStatus(err.message, "error");
  } finally {
    $("score-btn").disabled = false;
  }
}

let correcting = null;

function openCorrection(index) {
  const sentence = state.doc.sentences[index];
  correcting = index;
  $("correct-sentence").textContent = sentence.text;
  $("correct-note").value = "";
  $("correct-status").textContent = "";
  const box = $("correct-labels");
  box.replaceChildren();
  for (const kind of Object.keys(KIND_TITLES)) {
    const ofKind = state.labels.filter((l) => l.kind === kind);
    if (!ofKind.length) continue;
    const fieldset = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = KIND_TITLES[kind];
    fieldset.append(legend);
    for (const label of ofKind) {
      const row = document.createElement("label");
      row.className = "check";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = label.id;
      input.name = "label";
      input.checked = sentence.labels.includes(label.id);
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.style.backgroundColor = colorFor(label.id);
      const score = sentence.scores[label.id];
      row.append(input, dot, document.createTextNode(label.name + (score !== undefined ? " (" + score.toFixed(2) + ")" : "")));
      row.title = label.description || label.id;
      fieldset.append(row);
    }
    box.append(fieldset);
  }
  $("correct-dialog").showModal();
}

async function submitCorrection(event) {
  event.preventDefault();
  const sentence = state.doc.sentences[correcting];
  const labels = [...document.querySelectorAll("#correct-labels input:checked")].map((el) => el.value);
  const note = $("correct-note").value.trim();
  const body = {
    kind: "sentence",
    text: sentence.text,
    labels,
    predicted: sentence.labels,
    document_id: state.doc.id,
    start: sentence.start,
    end: sentence.end,
  };
  if (state.doc.language !== "und") body.lang = state.doc.language;
  if (note) body.note = note;
  $("correct-status").textContent = "Saving…";
  try {
    const ack = await api("/v1/feedback", { method: "POST", body: JSON.stringify(body) });
    $("correct-dialog").close();
    const span = document.querySelector('#highlighted .sentence[data-index="' + correcting + '"]');
    if (span) span.classList.add("corrected");
    setStatus("Correction saved (#" + ack.id + "). Thank you.", "ok");
  } catch (err) {
    $("correct-status").textContent = err.message;
  }
}

async function extractPage(html) {
  // The service reads the page with the same extractor as batch .html inputs: only the article is scored.
  return api("/v1/extract", { method: "POST", body: JSON.stringify({ html }) });
}

function showPageMeta(page) {
  const meta = $("page-meta");
  const parts = page ? [page.title, page.author, page.date].filter((part) => part) : [];
  meta.textContent = parts.length ? "Page: " + parts.join(" · ") : "";
  meta.hidden = !parts.length;
}

async function loadFile(file) {
  if (!file) return;
  const raw = await file.text();
  const isHtml = /\.html?$/i.test(file.name) || file.type === "text/html";
  showPageMeta(null);
  if (!isHtml) {
    $("text").value = raw;
    setStatus("Loaded " + file.name + ".");
    return;
  }
  setStatus("Extracting the article from " + file.name + "…");
  try {
    const page = await extractPage(raw);
    $("text").value = page.text;
    showPageMeta(page);
    setStatus("Loaded the article of " + file.name + ".");
  } catch (err) {
    setStatus(file.name + ": " + err.message, "error");
  }
}

function wireDrop() {
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) loadFile(file).catch((err) => setStatus(err.message, "error"));
  });
}

function init() {
  $("score-btn").addEventListener("click", scoreText);
  $("example-btn").addEventListener("click", () => {
    $("text").value = EXAMPLE;
  });
  $("file-input").addEventListener("change", (event) => {
    loadFile(event.target.files[0]).catch((err) => setStatus(err.message, "error"));
  });
  $("correct-form").addEventListener("submit", submitCorrection);
  $("cancel-correction").addEventListener("click", () => $("correct-dialog").close());
  $("save-key").addEventListener("click", async () => {
    sessionStorage.setItem(KEY_STORAGE, $("api-key").value.trim());
    $("api-key").value = "";
    if (await loadLabels()) setStatus("Key accepted.", "ok");
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) scoreText();
  });
  wireDrop();
  loadLabels();
}

document.addEventListener("DOMContentLoaded", init);
