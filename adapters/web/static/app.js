// captionbot playground: talks only to this server's JSON API.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { file: null, url: "", network: "", tone: "", variant: 0, busy: false, networks: [], last: null };

  function setStatus(text, error) {
    const s = $("status");
    s.textContent = text;
    s.classList.toggle("error", !!error);
  }

  function headers() {
    const h = {};
    const key = $("apikey").value.trim();
    if (key) h["Authorization"] = "Bearer " + key;
    return h;
  }

  function chip(text, pressed, onClick, name) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "button";
    b.textContent = text;
    b.dataset.value = name;
    b.setAttribute("aria-pressed", pressed ? "true" : "false");
    b.addEventListener("click", onClick);
    return b;
  }

  function press(group, value) {
    for (const b of $(group).querySelectorAll("button")) {
      b.setAttribute("aria-pressed", b.dataset.value === value ? "true" : "false");
    }
  }

  async function loadChoices() {
    try {
      const r = await fetch("v1/networks", { headers: headers() });
      if (r.status === 401) { $("keybox").open = true; setStatus("This server needs an API key (below).", true); return; }
      const data = await r.json();
      if (!r.ok) { setStatus(data.error ? data.error.message : "Could not load the networks.", true); return; }
      setStatus(state.file ? "" : "Choose a photo to start.");
      state.networks = data.networks;
      state.network = data.networks.length ? data.networks[0].name : "";
      const nets = $("networks");
      nets.replaceChildren();
      for (const n of data.networks) {
        nets.append(chip(n.title, n.name === state.network, () => choose("network", n.name), n.name));
      }
      const tones = $("tones");
      tones.replaceChildren(chip("Default", true, () => choose("tone", ""), ""));
      for (const t of data.tones) {
        tones.append(chip(t[0].toUpperCase() + t.slice(1), false, () => choose("tone", t), t));
      }
      const lang = $("lang");
      lang.replaceChildren();
      const names = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "language" }) : null;
      for (const code of data.languages) {
        const o = document.createElement("option");
        o.value = code;
        o.textContent = (names ? names.of(code) + " " : "") + "(" + code + ")";
        if (code === "en") o.selected = true;
        lang.append(o);
      }
    } catch (e) {
      setStatus("Could not reach the server.", true);
    }
  }

  function choose(kind, value) {
    state[kind] = value;
    press(kind === "network" ? "networks" : "tones", value);
    state.variant = 0;
    if (state.file) caption();
  }

  function showPhoto(file) {
    if (!file || !file.type.startsWith("image/")) { setStatus("That file isn't a photo. Please choose a JPEG, PNG, WebP or GIF.", true); return; }
    state.file = file;
    state.variant = 0;
    if (state.url) URL.revokeObjectURL(state.url);
    state.url = URL.createObjectURL(file);
    $("preview").src = state.url;
    $("boxes").replaceChildren();
    $("objects").textContent = "";
    $("figure").hidden = false;
    caption();
  }

  function drawBoxes(objects) {
    const img = $("preview");
    const layer = $("boxes");
    layer.replaceChildren();
    const w = img.naturalWidth, h = img.naturalHeight;
    if (!w || !h) return;
    for (const o of objects) {
      const d = document.createElement("div");
      d.style.left = (100 * o.box[0] / w) + "%";
      d.style.top = (100 * o.box[1] / h) + "%";
      d.style.width = (100 * o.box[2] / w) + "%";
      d.style.height = (100 * o.box[3] / h) + "%";
      const s = document.createElement("span");
      s.textContent = o.label;
      d.append(s);
      layer.append(d);
    }
    $("objects").textContent = objects.length
      ? "Found: " + objects.map((o) => o.label + " (" + Math.round(o.score * 100) + "%)").join(", ")
      : "No objects found.";
  }

  async function caption() {
    if (state.busy || !state.file) return;
    state.busy = true;
    $("regenerate").disabled = true;
    setStatus("Captioning…");
    const form = new FormData();
    form.append("image", state.file);
    if (state.network) form.append("network", state.network);
    if (state.tone) form.append("tone", state.tone);
    form.append("lang", $("lang").value || "en");
    const tags = $("hashtags").value.trim();
    if (tags !== "") form.append("hashtags", tags);
    const hint = $("hint").value.trim();
    if (hint) form.append("hint", hint);
    form.append("variant", String(state.variant));
    try {
      const r = await fetch("v1/captions", { method: "POST", body: form, headers: headers() });
      const data = await r.json();
      if (!r.ok) {
        if (r.status === 401) $("keybox").open = true;
        let msg = data && data.error ? data.error.message : "Something went wrong.";
        const retry = r.headers.get("Retry-After");
        if (retry && r.status !== 429) msg += " (try again in " + retry + " s)";
        setStatus(msg, true);
        return;
      }
      show(data);
    } catch (e) {
      setStatus("Could not reach the server. Please try again.", true);
    } finally {
      state.busy = false;
      $("regenerate").disabled = false;
    }
  }

  function show(data) {
    state.last = data;
    $("output").hidden = false;
    $("caption").textContent = data.caption || data.raw_caption || "(no caption)";
    $("alt").textContent = data.alt_text;
    $("post").textContent = data.post;
    $("post").dataset.network = data.network;
    $("post").dataset.variant = String(data.variant);
    const net = state.networks.find((n) => n.name === data.network);
    $("post-title").textContent = "Post for " + (net ? net.title : data.network);
    $("length").textContent = data.length + " / " + data.max_length + " characters";
    $("version").textContent = "· version " + (data.variant + 1);
    $("tags").textContent = data.hashtags.join(" ");
    const img = $("preview");
    if (img.complete) drawBoxes(data.objects);
    else img.addEventListener("load", () => drawBoxes(data.objects), { once: true });
    setStatus("Done in " + Math.round(data.elapsed_ms) + " ms" + (data.cached ? " (caption reused)" : "") + ".");
  }

  async function copy() {
    const text = $("post").textContent;
    try {
      await navigator.clipboard.writeText(text);
      setStatus("Post copied.");
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents($("post"));
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      setStatus("Press Ctrl+C to copy the selected post.");
    }
  }

  function init() {
    $("photo").addEventListener("change", (e) => showPhoto(e.target.files[0]));
    const drop = $("drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer.files.length) showPhoto(e.dataTransfer.files[0]);
    });
    document.addEventListener("paste", (e) => {
      for (const item of e.clipboardData ? e.clipboardData.items : []) {
        if (item.kind === "file" && item.type.startsWith("image/")) { showPhoto(item.getAsFile()); return; }
      }
    });
    $("regenerate").addEventListener("click", () => { state.variant++; caption(); });
    $("copy").addEventListener("click", copy);
    for (const id of ["lang", "hashtags"]) {
      $(id).addEventListener("change", () => { state.variant = 0; if (state.file) caption(); });
    }
    $("apikey").addEventListener("change", loadChoices); // a key typed after a 401
    loadChoices();
  }
  init();
})();
