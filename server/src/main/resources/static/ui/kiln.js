// Kiln's web UI: the little the server cannot do. htmx (from its webjar) does the fragment swaps.
(function () {
  "use strict";
  const csrf = () => { const m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : null; };

  // Writes made with the session cookie carry its CSRF token.
  document.addEventListener("htmx:configRequest", (e) => { const t = csrf(); if (t) e.detail.headers["X-CSRF-Token"] = t; });

  // ---- Generate: image inputs (upload, drag and drop, URLs) with previews ----
  function changed(el) { el.dispatchEvent(new Event("change", { bubbles: true })); }

  async function upload(input, files) {
    const list = document.getElementById("prev-" + input);
    for (const file of files) {
      if (!file.type.startsWith("image/")) continue;
      const li = document.createElement("li");
      li.textContent = "Uploading " + file.name + "…";
      list.appendChild(li);
      const body = new FormData();
      body.append("file", file);
      const headers = {}; const t = csrf(); if (t) headers["X-CSRF-Token"] = t;
      try {
        const res = await fetch("/runs/upload", { method: "POST", body, headers, credentials: "same-origin" });
        const json = await res.json();
        if (!res.ok) throw new Error(json.detail || res.statusText);
        li.textContent = "";
        const img = document.createElement("img");
        img.src = json.thumbnail; img.alt = file.name; img.width = 96; img.height = 96;
        const hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "images." + input; hidden.value = json.ref;
        const rm = document.createElement("button");
        rm.type = "button"; rm.className = "link"; rm.textContent = "Remove"; rm.setAttribute("data-remove", "");
        rm.setAttribute("aria-label", "Remove " + file.name);
        li.append(img, hidden, rm);
        changed(list);
      } catch (err) {
        li.className = "field-error"; li.textContent = file.name + ": " + err.message;
      }
    }
  }

  document.addEventListener("change", (e) => {
    const t = e.target;
    if (t.matches && t.matches("input[type=file][data-upload]")) { upload(t.dataset.upload, t.files); t.value = ""; }
  });
  document.addEventListener("click", (e) => {
    const t = e.target;
    if (t.matches && t.matches("[data-remove]")) { const list = t.closest("ul"); t.closest("li").remove(); if (list) changed(list); }
  });
  document.addEventListener("dragover", (e) => { const d = e.target.closest && e.target.closest(".drop"); if (d) { e.preventDefault(); d.classList.add("over"); } });
  document.addEventListener("dragleave", (e) => { const d = e.target.closest && e.target.closest(".drop"); if (d) d.classList.remove("over"); });
  document.addEventListener("drop", (e) => {
    const d = e.target.closest && e.target.closest(".drop");
    if (!d) return;
    e.preventDefault(); d.classList.remove("over");
    upload(d.dataset.input, e.dataTransfer.files);
  });
  document.addEventListener("input", (e) => {
    const t = e.target;
    if (!(t.matches && t.matches("textarea[data-url-preview]"))) return;
    const out = t.nextElementSibling;
    if (!out) return;
    out.innerHTML = "";
    t.value.split(/\n/).map((s) => s.trim()).filter((s) => /^(https?:|data:image\/)/.test(s)).slice(0, 8).forEach((u) => {
      const li = document.createElement("li"); const img = document.createElement("img");
      img.src = u; img.alt = ""; img.width = 96; img.height = 96; li.appendChild(img); out.appendChild(li);
    });
  });

  // ---- Run page: follow the run's event stream, refetch the live fragment on each change ----
  function followRun() {
    const main = document.querySelector("main[data-run]");
    if (!main) return;
    const live = () => document.getElementById("live-state");
    const finished = () => { const l = live(); return l && l.dataset.status !== "running"; };
    const title = () => { const l = live(); if (l && l.dataset.title) document.title = l.dataset.title; };
    title();
    if (finished()) return;
    let timer = null;
    const es = new EventSource("/v1/events?run=" + encodeURIComponent(main.dataset.run));
    es.addEventListener("job", () => {
      if (timer) return;
      timer = setTimeout(() => { timer = null; htmx.trigger(document.body, "kiln:changed"); }, 250);
    });
    document.body.addEventListener("htmx:afterSwap", (e) => {
      if (!e.detail.target || e.detail.target.id !== "live") return;
      title();
      if (finished()) es.close();
    });
    // The stream is a hint; the fragment also refreshes every 10 s by itself (hx-trigger) until
    // the run is finished (the server then answers 286, which stops htmx polling).
    window.addEventListener("beforeunload", () => es.close());
  }
  document.addEventListener("DOMContentLoaded", followRun);
})();
