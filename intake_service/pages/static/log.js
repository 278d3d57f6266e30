/* Officer meeting log: an outbox in localStorage, flushed in order whenever online.
   Every entry gets a client id and every request an Idempotency-Key fixed before the
   first attempt, so a retry after a lost answer never records anything twice. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("log-config").textContent);
  var KEY = "ka-log-v1:" + (cfg.unit || "");
  var $ = function (id) { return document.getElementById(id); };
  var state = load();
  var flushing = false;

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || fresh(); } catch (e) { return fresh(); }
  }
  function fresh() { return { current: null, meetings: {}, items: [], batches: [] }; }
  function save() { localStorage.setItem(KEY, JSON.stringify(state)); render(); }
  function val(id) { var v = $(id).value.trim(); return v === "" ? null : v; }

  function startMeeting(ev) {
    ev.preventDefault();
    var id = uuid();
    var place = { polsek: cfg.unit || null, kabupaten: val("m-kab"), kelurahan: val("m-kel"), kecamatan: val("m-kec"), rw: val("m-rw"), rt: val("m-rt"), address: val("m-addr") };
    var partners = (val("m-partners") || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    var count = val("m-att");
    state.meetings[id] = {
      key: uuid(), sent: false, error: null,
      body: { id: id, kind: $("m-kind").value, held_at: $("m-held").value + ":00+07:00", place: place,
              host_officer: val("m-host"), partners: partners,
              attendee_count: count === null ? null : parseInt(count, 10), notes: val("m-notes") || "" }
    };
    state.current = id;
    save();
    flush();
    $("a-sum").focus();
  }

  function addAspiration(ev) {
    ev.preventDefault();
    if (!state.current) return;
    var by = val("a-by"), contact = val("a-contact"), backing = val("a-back");
    state.items.push({
      meeting: state.current, status: "pending", code: null, error: null,
      body: { id: uuid(), category: $("a-cat").value, summary: val("a-sum"),
              public_summary: val("a-pub") || "", description: val("a-desc") || "",
              urgency: $("a-urgent").checked ? "high" : "normal", confidential: $("a-conf").checked,
              raised_by: by || contact ? { name: by || "-", kind: "person", contact: contact } : null,
              backing: { count: backing ? parseInt(backing, 10) : 0, groups: [] } }
    });
    ["a-sum", "a-pub", "a-desc", "a-by", "a-contact", "a-back"].forEach(function (f) { $(f).value = ""; });
    $("a-urgent").checked = false; $("a-conf").checked = false;
    save();
    flush();
    $("a-sum").focus();
  }

  function post(url, key, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "Content-Type": "application/json", "Idempotency-Key": key, "X-CSRF-Token": cfg.csrf },
      body: JSON.stringify(body)
    }).then(function (res) {
      if (res.type === "opaqueredirect" || res.status === 0) { location.href = "/masuk?next=/catat"; throw new Error("login"); }
      return res.json().catch(function () { return null; }).then(function (data) { return { status: res.status, data: data }; });
    });
  }
  function retryable(status) { return status === 409 || status === 429 || status >= 500; }

  function flush() {
    if (flushing || !navigator.onLine) return Promise.resolve();
    flushing = true;
    var chain = Promise.resolve();
    Object.keys(state.meetings).forEach(function (id) {
      var m = state.meetings[id];
      if (m.sent || m.error) return;
      chain = chain.then(function () {
        return post("/catat/api/meetings", m.key, m.body).then(function (r) {
          if (r.status < 300) m.sent = true;
          else if (!retryable(r.status)) m.error = JSON.stringify(r.data);
          save();
        });
      });
    });
    chain = chain.then(function () {
      // Freeze pending items into batches (one per meeting); a batch keeps its key forever.
      state.items.forEach(function (item, index) {
        var m = state.meetings[item.meeting];
        if (item.status !== "pending" || !m || !m.sent) return;
        var batch = state.batches.filter(function (b) { return !b.sent && !b.frozen && b.meeting === item.meeting; })[0];
        if (!batch) { batch = { key: uuid(), meeting: item.meeting, items: [], sent: false }; state.batches.push(batch); }
        batch.items.push(index);
        item.status = "batched";
      });
      state.batches.forEach(function (b) { b.frozen = true; });
      save();
      var inner = Promise.resolve();
      state.batches.forEach(function (batch) {
        if (batch.sent) return;
        inner = inner.then(function () {
          var bodies = batch.items.map(function (i) { return state.items[i].body; });
          var url = "/catat/api/meetings/" + batch.meeting + "/aspirations";
          return post(url, batch.key, { aspirations: bodies }).then(function (r) {
            if (r.status < 300) {
              var codes = {};
              (r.data.items || []).forEach(function (o) { codes[o.id] = o.tracking_code; });
              batch.items.forEach(function (i) { var it = state.items[i]; it.status = "sent"; it.code = codes[it.body.id]; });
              batch.sent = true;
            } else if (!retryable(r.status)) {
              batch.sent = true;
              batch.items.forEach(function (i) { state.items[i].status = "error"; state.items[i].error = JSON.stringify(r.data); });
            }
            save();
          });
        });
      });
      return inner;
    });
    return chain.catch(function () { /* offline or dropped: kept, retried later */ })
      .then(function () { flushing = false; render(); });
  }

  function render() {
    var online = navigator.onLine;
    var net = $("net");
    net.textContent = online ? net.dataset.online : net.dataset.offline;
    net.className = "badge " + (online ? "status-online" : "status-offline");
    var current = state.current && state.meetings[state.current];
    $("meeting-form").hidden = !!current;
    $("asp-form").hidden = !current;
    if (current) {
      var p = current.body.place;
      $("meeting-line").textContent = current.body.held_at.slice(0, 16).replace("T", " ") + " · " + p.kelurahan + (p.rw ? " RW " + p.rw : "");
    }
    var mine = state.items.filter(function (i) { return i.meeting === state.current; });
    $("asp-n").textContent = "#" + (mine.length + 1);
    var queue = $("queue"), codes = $("codes");
    queue.textContent = ""; codes.textContent = "";
    state.items.forEach(function (item) {
      var li = document.createElement("li");
      var label = item.status === "sent" ? cfg.text.sent : item.status === "error" ? cfg.text.error : cfg.text.pending;
      li.textContent = item.body.summary + " — " + label;
      li.className = "item-" + item.status;
      if (item.error) li.title = item.error;
      queue.appendChild(li);
      if (item.code) {
        var c = document.createElement("li");
        var url = (cfg.trackingBase || "") + "/lacak/" + item.code;
        var a = document.createElement("a"); a.href = url; a.className = "code"; a.textContent = item.code;
        var wa = document.createElement("a");
        wa.href = "https://wa.me/?text=" + encodeURIComponent(cfg.text.wa.replace("{code}", item.code).replace("{url}", url));
        wa.textContent = "WhatsApp"; wa.rel = "noopener"; wa.target = "_blank";
        c.appendChild(a); c.appendChild(document.createTextNode(" " + item.body.summary + " · ")); c.appendChild(wa);
        codes.appendChild(c);
      }
    });
    var meetingCodes = mine.filter(function (i) { return i.code; }).map(function (i) { return i.code; });
    $("report-link").hidden = meetingCodes.length === 0;
    $("report-link").href = (cfg.trackingBase || "") + "/laporan?kode=" + meetingCodes.join(",");
    $("queue-card").hidden = state.items.length === 0;
    $("codes-card").hidden = codes.children.length === 0;
  }

  // Place fields suggest official names as the officer types (kabupaten -> kecamatan ->
  // kelurahan; the chosen region's code narrows the next field). Lists already fetched
  // stay in localStorage, so they still suggest with no signal.
  function suggestRegions(input) {
    var level = input.getAttribute("data-level");
    var parentInput = input.getAttribute("data-parent") ? $(input.getAttribute("data-parent")) : null;
    var parent = parentInput ? (parentInput.getAttribute("data-code") || "") : "";
    var q = input.value.trim();
    var query = "level=" + level + "&q=" + encodeURIComponent(q) + (parent ? "&parent=" + parent : "");
    var cacheKey = "ka-regions?" + query;
    function fill(items) {
      var list = $(input.getAttribute("list"));
      list.textContent = "";
      items.forEach(function (r) {
        var o = document.createElement("option"); o.value = r.name; o.setAttribute("data-code", r.code);
        list.appendChild(o);
      });
      var exact = items.filter(function (r) { return r.name.toLowerCase() === q.toLowerCase(); })[0];
      if (exact) { input.setAttribute("data-code", exact.code); } else { input.removeAttribute("data-code"); }
    }
    var cached = localStorage.getItem(cacheKey);
    if (cached) { fill(JSON.parse(cached)); }
    if (!navigator.onLine || (!q && !parent)) { return; }
    fetch("/catat/api/regions?" + query, { credentials: "same-origin" }).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      try { localStorage.setItem(cacheKey, JSON.stringify(data.items)); } catch (e) { /* full */ }
      fill(data.items);
    }).catch(function () { /* offline: the cached list stays */ });
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[data-level]"), function (input) {
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { suggestRegions(input); }, 200);
    });
  });

  $("meeting-form").addEventListener("submit", startMeeting);
  $("asp-form").addEventListener("submit", addAspiration);
  $("send-now").addEventListener("click", function () { flush(); });
  $("new-meeting").addEventListener("click", function () { state.current = null; save(); });
  window.addEventListener("online", function () { render(); flush(); });
  window.addEventListener("offline", render);
  setInterval(flush, 15000);
  if (!$("m-held").value) {
    var now = new Date(Date.now() + 7 * 3600 * 1000);
    $("m-held").value = now.toISOString().slice(0, 16);
  }
  render();
  flush();
})();
