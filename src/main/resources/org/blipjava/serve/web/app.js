// The page of blip serve: plain JavaScript over the JSON API, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
let image = null; // the File chosen by the user

function apiKey() {
  return $("api-key").value.trim();
}

/** POSTs a multipart form (the image as 'image') to an API endpoint and returns the parsed JSON. */
async function call(path, fields, withImage) {
  const form = new FormData();
  if (withImage) {
    form.append("image", image, image.name || "image");
  }
  for (const [k, v] of Object.entries(fields)) {
    if (Array.isArray(v)) {
      v.forEach((x) => form.append(k, x));
    } else if (v !== undefined && v !== null && v !== "") {
      form.append(k, typeof v === "object" ? JSON.stringify(v) : String(v));
    }
  }
  return send(path, { method: "POST", body: form });
}

async function send(path, init) {
  const headers = {};
  if (apiKey()) {
    headers["Authorization"] = "Bearer " + apiKey();
  }
  const res = await fetch(path, { ...init, headers });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) {
    $("key-box").hidden = false;
  }
  if (!res.ok) {
    const msg = body.error ? body.error.message : res.status + " " + res.statusText;
    throw new Error(msg);
  }
  return body;
}

function status(text, isError) {
  $("status").textContent = text;
  $("status").className = "status" + (isError ? " error" : "");
}

function fill(select, models, task) {
  select.innerHTML = "";
  for (const m of models.filter((m) => m.tasks.includes(task))) {
    const o = document.createElement("option");
    o.value = m.name;
    o.textContent = m.name;
    select.appendChild(o);
  }
  return select.options.length > 0;
}

let can = { caption: false, vqa: false, match: false, search: false };

async function loadModels() {
  try {
    const m = await send("/v1/models", { method: "GET" });
    can.caption = fill($("caption-model"), m.models, "caption");
    can.vqa = fill($("vqa-model"), m.models, "vqa");
    can.match = fill($("match-model"), m.models, "match");
    can.search = m.search;
    $("search-off").hidden = m.search;
    $("search").disabled = !m.search;
    $("search-text").disabled = !m.search;
    status(m.models.length + " model(s) served");
    enable();
  } catch (e) {
    status("cannot list the models: " + e.message, true);
  }
}

function enable() {
  const has = image !== null;
  $("caption").disabled = !(has && can.caption);
  $("explain").disabled = !(has && can.caption);
  $("ask").disabled = !(has && can.vqa);
  $("score").disabled = !(has && can.match);
  $("search-image").disabled = !(has && can.search);
}

function choose(file) {
  if (!file) {
    return;
  }
  image = file;
  const url = URL.createObjectURL(file);
  $("preview").src = url;
  $("preview").hidden = false;
  $("drop-text").hidden = true;
  $("answers").innerHTML = "";
  $("attention-box").hidden = true;
  status(file.name + " (" + Math.round(file.size / 1024) + " KB)");
  enable();
  if (can.caption) {
    caption();
  }
}

async function caption() {
  const model = $("caption-model").value;
  const prompt = $("prompt").value;
  $("caption-greedy").textContent = "…";
  $("caption-beam").textContent = "…";
  try {
    const [greedy, beam] = await Promise.all([
      call("/v1/caption", { model, prompt }, true),
      call("/v1/caption", { model, prompt, options: { num_beams: 3 } }, true),
    ]);
    $("caption-greedy").textContent = greedy.caption;
    $("caption-beam").textContent = beam.caption;
  } catch (e) {
    $("caption-greedy").textContent = "";
    $("caption-beam").textContent = "";
    status(e.message, true);
  }
}

async function explain() {
  try {
    const r = await call("/v1/explain/attention", { model: $("caption-model").value, prompt: $("prompt").value }, true);
    $("attention").src = "data:image/png;base64," + r.image_png;
    $("attention-box").hidden = false;
  } catch (e) {
    status(e.message, true);
  }
}

async function ask() {
  const question = $("question").value.trim();
  if (!question) {
    status("type a question first", true);
    return;
  }
  try {
    const r = await call("/v1/vqa", { model: $("vqa-model").value, question }, true);
    const li = document.createElement("li");
    const q = document.createElement("span");
    q.textContent = r.question + " → ";
    const a = document.createElement("b");
    a.className = "answer";
    a.textContent = r.answer;
    li.append(q, a);
    $("answers").prepend(li);
  } catch (e) {
    status(e.message, true);
  }
}

async function score() {
  const texts = $("texts").value.split("\n").map((t) => t.trim()).filter((t) => t);
  if (texts.length === 0) {
    status("type one or more texts, one per line", true);
    return;
  }
  try {
    const r = await call("/v1/match", { model: $("match-model").value, text: texts }, true);
    const body = $("scores").querySelector("tbody");
    body.innerHTML = "";
    for (const row of r.results) {
      const tr = document.createElement("tr");
      const cells = [row.text, row.itm === undefined ? "–" : row.itm.toFixed(4), row.itc.toFixed(4)];
      cells.forEach((c, i) => {
        const td = document.createElement("td");
        td.textContent = c;
        if (i > 0) td.className = "num";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    $("scores").hidden = false;
  } catch (e) {
    status(e.message, true);
  }
}

async function search(byImage) {
  const results = $("results");
  results.textContent = "…";
  try {
    const fields = { k: 12, thumbnails: true };
    if (!byImage) {
      fields.text = $("search-text").value.trim();
      if (!fields.text) {
        results.textContent = "";
        status("type what to search for", true);
        return;
      }
    }
    const r = await call("/v1/search", fields, byImage);
    results.innerHTML = "";
    for (const hit of r.results) {
      const div = document.createElement("div");
      div.className = "hit";
      const img = document.createElement("img");
      if (hit.thumbnail) img.src = hit.thumbnail;
      img.alt = hit.path;
      const label = document.createElement("div");
      label.textContent = hit.rank + ". " + hit.path.split("/").pop() + " (" + hit.itc.toFixed(3) + ")";
      div.append(img, label);
      results.appendChild(div);
    }
    if (r.results.length === 0) results.textContent = "no results: the index is empty";
  } catch (e) {
    results.textContent = "";
    status(e.message, true);
  }
}

const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  choose(e.dataTransfer.files[0]);
});
$("file").addEventListener("change", (e) => choose(e.target.files[0]));
$("caption").addEventListener("click", caption);
$("explain").addEventListener("click", explain);
$("ask").addEventListener("click", ask);
$("question").addEventListener("keydown", (e) => { if (e.key === "Enter") ask(); });
$("score").addEventListener("click", score);
$("search").addEventListener("click", () => search(false));
$("search-text").addEventListener("keydown", (e) => { if (e.key === "Enter") search(false); });
$("search-image").addEventListener("click", () => search(true));
$("api-key").addEventListener("change", loadModels);
loadModels();
