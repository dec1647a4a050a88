// The ELS dashboard: reads the JSON API with the signed-in token; every view is drawn here, no markup
// from data is ever parsed as HTML (text goes in through textContent only).
"use strict";

const TOKEN_KEY = "els-token";
const POLL_MS = 2000;
const SVG_NS = "http://www.w3.org/2000/svg";
const view = document.getElementById("view");
let timers = [];

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") node.textContent = value; else node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function notice(message) {
  const box = document.getElementById("notice");
  box.textContent = message;
  setTimeout(() => { if (box.textContent === message) box.textContent = ""; }, 6000);
}

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${token()}` }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) { signOut("Your token is not valid (any more): sign in again."); throw new ApiError(401, "UNAUTHORIZED", "signed out"); }
  if (!response.ok) {
    let code = "HTTP_" + response.status, message = response.statusText;
    try { const body = await response.json(); code = body.error.code; message = body.error.message; } catch (e) { /* not JSON */ }
    throw new ApiError(response.status, code, message);
  }
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response;
}

function clearTimers() { timers.forEach(clearInterval); timers = []; }

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimers();
  renderSignIn(message);
}

function renderSignIn(message) {
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").textContent = "";
  const error = el("p", { id: "sign-in-error", class: "field-error", role: "alert", text: message || "" });
  const input = el("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true, "aria-describedby": "sign-in-error" });
  const form = el("form", { id: "sign-in", onsubmit: async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    try { await api("/v1/batches?limit=1"); route(); }
    catch (e) { if (e.status !== 401) error.textContent = e.message; }
  } },
    el("label", { for: "token", text: "API token" }), input,
    el("p", { class: "muted", text: "The token stays in this tab only (session storage) and is sent as the bearer of every request." }),
    el("button", { type: "submit", text: "Sign in" }));
  view.replaceChildren(el("h1", { text: "Sign in" }), error, form);
  input.focus();
}

function progressBar(expected, assigned, failed) {
  const missing = Math.max(0, expected - assigned - failed);
  const width = 300, total = Math.max(1, expected);
  const label = `${assigned} assigned, ${failed} failed, ${missing} missing of ${expected}`;
  const bar = svg("svg", { class: "progress", viewBox: `0 0 ${width} 16`, preserveAspectRatio: "none", role: "img", "aria-label": label });
  let x = 0;
  for (const [name, count] of [["assigned", assigned], ["failed", failed], ["missing", missing]]) {
    const w = (count / total) * width;
    bar.append(svg("rect", { class: name, x, y: 0, width: w, height: 16, "data-count": count }));
    x += w;
  }
  bar.append(svg("title", { text: label }));
  return el("div", { class: "progress-wrap", "data-assigned": assigned, "data-failed": failed, "data-missing": missing, "data-expected": expected },
    bar, el("span", { class: "muted", text: label }));
}

function legend() {
  return el("div", { class: "legend", "aria-hidden": "true" },
    ...["assigned", "failed", "missing"].map((name) => el("span", {}, el("span", { class: `swatch ${name}` }), name)));
}

function countdown(deadline) {
  const node = el("time", { datetime: deadline, class: "countdown" });
  const tick = () => {
    const left = Math.round((Date.parse(deadline) - Date.now()) / 1000);
    if (left <= 0) { node.textContent = "deadline passed"; return; }
    const d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    node.textContent = (d ? `${d} d ` : "") + (d || h ? `${h} h ` : "") + `${m} min ${s} s left`;
  };
  tick();
  timers.push(setInterval(tick, 1000));
  return node;
}

// The batch list: newest first, a page at a time, with a form to register a batch.
async function renderList(cursors) {
  const cursor = cursors[cursors.length - 1];
  const page = await api(`/v1/batches?limit=20${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`);
  const batches = page.batches.slice().sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
  const rows = batches.map((b) => el("tr", { "data-batch": b.batch_id },
    el("td", {}, el("a", { href: `#/batch/${encodeURIComponent(b.batch_id)}`, text: b.batch_id })),
    el("td", { text: b.state }),
    el("td", {}, progressBar(b.expected, b.assigned, b.failed)),
    el("td", {}, countdown(b.deadline_at)),
    el("td", { text: new Date(b.created_at).toLocaleString() })));
  const table = batches.length
    ? el("table", { id: "batches" }, el("caption", { text: "Batches not done yet, newest first" }),
        el("thead", {}, el("tr", {}, ...["Batch", "State", "Progress", "Deadline", "Registered"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, ...rows))
    : el("p", { id: "no-batches", text: "No batches in progress." });
  const pager = el("div", { class: "pager" },
    cursors.length > 1 ? el("button", { type: "button", id: "previous-page", text: "Previous page", onclick: () => renderList(cursors.slice(0, -1)) }) : null,
    page.next_cursor ? el("button", { type: "button", id: "next-page", text: "Next page", onclick: () => renderList([...cursors, page.next_cursor]) }) : null);
  const expected = el("input", { id: "expected", type: "number", min: 1, value: 3, required: true });
  const deadline = el("input", { id: "deadline", type: "number", min: 60, value: 3600, required: true });
  const register = el("form", { id: "register", class: "inline", onsubmit: async (event) => {
    event.preventDefault();
    try {
      const created = await api("/v1/batches", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ expected_count: Number(expected.value), deadline_seconds: Number(deadline.value) }) });
      location.hash = `#/batch/${encodeURIComponent(created.batch_id)}`;
    } catch (e) { notice(`Not registered: ${e.message}`); }
  } },
    el("div", {}, el("label", { for: "expected", text: "Essays" }), expected),
    el("div", {}, el("label", { for: "deadline", text: "Deadline (seconds)" }), deadline),
    el("button", { type: "submit", text: "Register a batch" }));
  clearTimers();
  view.replaceChildren(el("h1", { text: "Batches" }), legend(), table, pager, el("h2", { text: "New batch" }), register);
}

function fmt(value, digits) { return value === null || value === undefined ? "" : (digits === undefined ? String(value) : Number(value).toFixed(digits)); }

// One slot of the status: its file, outcome, code and message, and its measures once analysed.
function slotRow(slot) {
  return el("tr", { "data-essay": slot.essay_id, "data-state": slot.state },
    el("td", { class: "num", text: slot.position + 1 }),
    el("td", { text: slot.essay_id }),
    el("td", { text: slot.file?.filename ?? "" }),
    el("td", { text: slot.outcome }),
    el("td", { text: slot.code ?? "" }),
    el("td", { text: slot.message ?? "" }),
    el("td", { class: "num", text: fmt(slot.measures?.words) }),
    el("td", { class: "num", text: fmt(slot.measures?.readability, 1) }));
}

async function upload(batchId, files, status) {
  if (!files.length) return;
  const archives = [...files].filter((file) => file.name.toLowerCase().endsWith(".zip"));
  const essays = [...files].filter((file) => !archives.includes(file));
  const lines = [];
  status.textContent = `Uploading ${files.length} file(s)…`;
  if (essays.length) {
    const form = new FormData();
    for (const file of essays) form.append("files", file, file.name);
    try {
      const answer = await api(`/v1/batches/${encodeURIComponent(batchId)}/essays`, { method: "POST", body: form });
      lines.push(`Accepted ${answer.submissions.length} file(s): ${answer.submissions.map((s) => s.filename).join(", ")}`);
    } catch (e) { lines.push(`Upload refused (${e.code}): ${e.message}`); }
  }
  for (const archive of archives) {
    try {
      const answer = await api(`/v1/batches/${encodeURIComponent(batchId)}/archive`, { method: "POST", body: archive, headers: { "Content-Type": "application/zip" } });
      const left = [...answer.skipped.map((m) => `${m.name} (${m.reason})`), ...answer.refused.map((m) => `${m.name} (${m.code})`)];
      lines.push(`${archive.name}: accepted ${answer.submissions.length} file(s)` + (left.length ? `; left out: ${left.join(", ")}` : ""));
    } catch (e) { lines.push(`${archive.name} refused (${e.code}): ${e.message}`); }
  }
  status.textContent = lines.join(" · ");
}

async function batchAction(batchId, action) {
  try {
    await api(`/v1/batches/${encodeURIComponent(batchId)}/${action}`, { method: "POST" });
    notice(`Batch ${action === "close" ? "closed" : "cancelled"}.`);
  } catch (e) {
    notice(e.status === 404 || e.status === 405 ? `This ELS cannot ${action} batches yet.` : `Not done (${e.code}): ${e.message}`);
  }
}

async function downloadCsv(batchId) {
  try {
    const response = await api(`/v1/batches/${encodeURIComponent(batchId)}/report.csv`);
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `${batchId}-report.csv` });
    document.body.append(link); link.click(); link.remove();
  } catch (e) { notice(`No CSV (${e.code}): ${e.message}`); }
}

const SLOT_PAGE = 100;

// One batch, polled every 2 s: summary (the status answer holds counts only), the current page of slots,
// refused files and duplicates (from the submissions listing), upload, close and cancel.
async function renderBatch(batchId) {
  clearTimers();
  const path = `/v1/batches/${encodeURIComponent(batchId)}`;
  const status = el("p", { id: "upload-status", role: "status", "aria-live": "polite" });
  const picker = el("input", { id: "files", type: "file", multiple: true, onchange: () => upload(batchId, picker.files, status) });
  const drop = el("div", { id: "drop", class: "drop" },
    el("p", { text: "Drop essay files here (.txt, .md, .docx, .odt, .rtf, .pdf) or a class .zip, or " }),
    el("label", { for: "files", text: "choose files" }), picker);
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => { event.preventDefault(); drop.classList.remove("over"); upload(batchId, event.dataTransfer.files, status); });
  const live = el("div", { id: "live" });
  const closeButton = el("button", { type: "button", id: "close-batch", text: "Close now", onclick: () => batchAction(batchId, "close") });
  const cancelButton = el("button", { type: "button", id: "cancel-batch", class: "danger", text: "Cancel batch", onclick: () => { if (confirm("Cancel this batch? Its uploads are not analysed.")) batchAction(batchId, "cancel"); } });
  const reportLink = el("a", { id: "report-link", href: `#/report/${encodeURIComponent(batchId)}`, text: "Report" });
  const actions = el("div", { class: "actions" }, closeButton, cancelButton,
    el("button", { type: "button", id: "csv", text: "Download report (CSV)", onclick: () => downloadCsv(batchId) }), reportLink);
  // The slots are read a page at a time: `cursors` holds the cursor of each page seen so far.
  const cursors = [null];
  let next = null;
  const slotBody = el("tbody", {});
  const pageLabel = el("span", { id: "slot-page", class: "muted" });
  const previous = el("button", { type: "button", id: "slots-previous", text: "Previous slots", disabled: true,
    onclick: () => { if (cursors.length > 1) { cursors.pop(); refresh(); } } });
  const following = el("button", { type: "button", id: "slots-next", text: "Next slots", disabled: true,
    onclick: () => { if (next) { cursors.push(next); refresh(); } } });
  const slotTable = el("table", { id: "slots" }, el("caption", { text: "Slots" }),
    el("thead", {}, el("tr", {}, ...["#", "Essay", "File", "State", "Code", "Message", "Words", "Readability"].map((h) => el("th", { scope: "col", text: h })))),
    slotBody);
  const slotPager = el("div", { class: "actions" }, previous, pageLabel, following);
  const refusedList = el("div", { id: "refused-and-duplicates" });
  let filesSeen = -1; // failed + duplicates + excess when the files were last read: reread only on a change
  view.replaceChildren(el("h1", {}, "Batch ", el("code", { text: batchId })), live, slotTable, slotPager,
    el("h2", { text: "Refused files and duplicates" }), refusedList, actions, el("h2", { text: "Upload" }), drop, status);
  const showFiles = async (batch) => {
    const settled = batch.failed + batch.duplicates + batch.excess;
    if (settled === filesSeen) return;
    const listing = await api(`${path}/submissions?limit=500`);
    filesSeen = settled;
    const refused = listing.submissions.filter((f) => f.outcome === "failed")
      .map((f) => el("li", {}, `${f.filename}: ${f.code} (${f.message ?? ""})`));
    const copies = listing.submissions.filter((f) => f.outcome === "duplicate")
      .map((f) => el("li", {}, `${f.filename} repeats ${f.duplicate_of_filename ?? f.essay_id}`));
    refusedList.replaceChildren(
      refused.length ? el("ul", { id: "refused" }, ...refused) : el("p", { id: "refused", class: "muted", text: "No file was refused." }),
      copies.length ? el("ul", { id: "duplicates" }, ...copies) : el("p", { id: "duplicates", class: "muted", text: "No duplicate." }),
      listing.next_offset === null ? null : el("p", { class: "muted", text: `The first ${listing.submissions.length} of ${listing.total} files are shown.` }));
  };
  const refresh = async () => {
    let batch, page;
    const cursor = cursors[cursors.length - 1];
    try {
      batch = await api(path);
      page = await api(`${path}/slots?limit=${SLOT_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      await showFiles(batch);
    }
    catch (e) { if (e.status !== 401) live.replaceChildren(el("p", { class: "error", id: "batch-error", text: `${e.code}: ${e.message}` })); return; }
    const open = batch.state === "open";
    drop.hidden = !open;
    closeButton.disabled = cancelButton.disabled = !open;
    if (!view.contains(live)) return; // the reader moved on while this answer was on its way
    next = page.next_cursor;
    previous.disabled = cursors.length === 1;
    following.disabled = !next;
    const shown = page.slots.length ? `slots ${page.slots[0].position + 1} to ${page.slots[page.slots.length - 1].position + 1} of ${batch.expected}` : "";
    pageLabel.textContent = shown;
    slotBody.replaceChildren(...page.slots.map(slotRow));
    live.replaceChildren(
      el("dl", { class: "summary" },
        ...[["State", batch.state], ["Expected", batch.expected], ["Assigned", batch.assigned], ["Failed", batch.failed],
            ["Missing", batch.missing], ["Duplicates", batch.duplicates], ["Excess", batch.excess]]
          .map(([k, v]) => el("div", {}, el("dt", { text: k }), el("dd", { "data-field": k.toLowerCase(), text: v })))),
      el("p", {}, "Deadline: ", open ? countdownOnce(batch.deadline_at) : el("span", { text: `none: the batch is ${batch.state}` })),
      legend(), progressBar(batch.expected, batch.assigned, batch.failed),
      el("p", { text: `${batch.duplicates} duplicate upload(s) took no slot; ${batch.excess} upload(s) arrived with no slot left.` }));
    if (batch.state === "done") reportLink.textContent = "Report (ready)";
  };
  await refresh();
  timers.push(setInterval(refresh, POLL_MS));
}

function countdownOnce(deadline) {
  const left = Math.round((Date.parse(deadline) - Date.now()) / 1000);
  const text = left <= 0 ? "passed" : `${Math.floor(left / 3600)} h ${Math.floor(left % 3600 / 60)} min left`;
  return el("time", { datetime: deadline, text });
}

// A histogram as inline SVG: equal-width bins over the values' range, one labelled bar per bin.
function histogram(id, title, values, bins = 8) {
  const width = 480, height = 220, pad = 32;
  const chart = svg("svg", { id, class: "histogram", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}: ${values.length} essays` });
  chart.append(svg("title", { text: title }));
  if (!values.length) { chart.append(svg("text", { x: pad, y: height / 2, text: "no values yet" })); return chart; }
  const min = Math.min(...values), max = Math.max(...values), span = max - min || 1;
  const counts = new Array(bins).fill(0);
  for (const value of values) counts[Math.min(bins - 1, Math.floor(((value - min) / span) * bins))] += 1;
  const top = Math.max(...counts), barWidth = (width - 2 * pad) / bins;
  counts.forEach((count, index) => {
    const h = (count / top) * (height - 2 * pad), x = pad + index * barWidth, y = height - pad - h;
    const from = min + (span * index) / bins, to = min + (span * (index + 1)) / bins;
    chart.append(svg("rect", { class: "bar", x: x + 1, y, width: barWidth - 2, height: h },
      svg("title", { text: `${from.toFixed(1)}–${to.toFixed(1)}: ${count}` })));
    if (count) chart.append(svg("text", { x: x + barWidth / 2, y: y - 3, "text-anchor": "middle", text: count }));
    chart.append(svg("text", { x: x + barWidth / 2, y: height - pad + 14, "text-anchor": "middle", text: from.toFixed(0) }));
  });
  chart.append(svg("line", { class: "axis", x1: pad, y1: height - pad, x2: width - pad, y2: height - pad }));
  return chart;
}

// What a teacher reads for each warning code an analysis may carry.
function notes(analysis) {
  return (analysis?.warnings ?? []).map((code) => code === "LANGUAGE_MISMATCH"
    ? `seems to be in another language (${analysis.detected_language}) than the batch's`
    : code.replace(/_/g, " ").toLowerCase()).join("; ");
}

async function renderReport(batchId) {
  clearTimers();
  let body;
  try { body = await api(`/v1/batches/${encodeURIComponent(batchId)}/report`); }
  catch (e) {
    if (e.status !== 401) view.replaceChildren(el("h1", { text: "Report" }), el("p", { class: "error", id: "report-error", text: `${e.code}: ${e.message}` }),
      el("a", { href: `#/batch/${encodeURIComponent(batchId)}`, text: "Back to the batch" }));
    return;
  }
  const report = body.report, analysed = report.essays.filter((row) => row.analysis);
  const files = new Map(body.slots.map((slot) => [slot.essay_id, slot.file?.filename ?? ""]));
  const words = analysed.map((row) => row.analysis.words), readability = analysed.map((row) => row.analysis.readability).filter((v) => v !== null);
  const measures = ["words", "readability", "spelling_errors_per_100_words", "type_token_ratio", "mtld", "mattr", "mean_sentence_length"];
  view.replaceChildren(
    el("h1", {}, "Report of ", el("code", { text: batchId })),
    el("dl", { class: "summary", id: "counts" }, ...Object.entries(report.counts).map(([k, v]) => el("div", {}, el("dt", { text: k.replace(/_/g, " ") }), el("dd", { "data-field": k, text: v })))),
    el("h2", { text: "Means" }),
    el("dl", { class: "summary" }, ...Object.entries(report.means).map(([k, v]) => el("div", {}, el("dt", { text: k.replace(/_/g, " ") }), el("dd", { text: v === null ? "–" : Number(v).toFixed(2) })))),
    el("div", { class: "charts" },
      el("figure", {}, histogram("words-histogram", "Word counts", words), el("figcaption", { text: "Word counts of the analysed essays" })),
      el("figure", {}, histogram("readability-histogram", "Readability", readability), el("figcaption", { text: "Readability of the analysed essays" }))),
    el("table", { id: "measures" }, el("caption", { text: "Per essay" }),
      el("thead", {}, el("tr", {}, ...["Essay", "File", "Status", "Code", ...measures.map((m) => m.replace(/_/g, " ")), "Notes"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, ...report.essays.map((row) => el("tr", { "data-essay": row.essay_id },
        el("td", { text: row.essay_id }), el("td", { text: files.get(row.essay_id) ?? "" }), el("td", { text: row.status }), el("td", { text: row.code ?? "" }),
        ...measures.map((m) => el("td", { class: "num", text: row.analysis ? fmt(row.analysis[m], m === "words" ? undefined : 2) : "" })),
        el("td", { class: "notes", text: notes(row.analysis) }))))),
    el("div", { class: "actions" },
      el("button", { type: "button", id: "csv", text: "Download report (CSV)", onclick: () => downloadCsv(batchId) }),
      el("a", { href: `#/batch/${encodeURIComponent(batchId)}`, text: "Back to the batch" })));
}

async function route() {
  clearTimers();
  if (!token()) { renderSignIn(); return; }
  document.getElementById("sign-out").hidden = false;
  const [, page, id] = location.hash.split("/");
  try {
    if (page === "batch" && id) await renderBatch(decodeURIComponent(id));
    else if (page === "report" && id) await renderReport(decodeURIComponent(id));
    else await renderList([null]);
  } catch (e) {
    if (e.status !== 401) view.replaceChildren(el("p", { class: "error", text: `${e.code || "ERROR"}: ${e.message}` }));
  }
  view.focus();
}

document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));
window.addEventListener("hashchange", route);
route();
