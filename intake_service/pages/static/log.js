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
    var place = { polsek: cfg.unit || null, kabupaten: val("m-kab"), kelurahan: val("m-kel"), kecamatan: val("m-kec"), rw: val("m-rw"), rt: val("m-rt"), address: val("m-addr"), region_code: chosenCode() };
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

  // A sensitive category or a confidential aspiration needs a public summary written for
  // the public: the internal summary is never shown, and the neutral sentence says little.
  function publicSummaryRule() {
    var option = $("a-cat").options[$("a-cat").selectedIndex];
    var needed = !!(option && option.getAttribute("data-sensitive")) || $("a-conf").checked;
    var hint = $("a-pub-hint");
    $("a-pub").required = needed;
    hint.textContent = hint.getAttribute(needed ? "data-required" : "data-optional");
    hint.className = needed ? "hint required" : "hint";
  }

  // Photos (issue 25): shrunk on the phone to at most 1600 px (JPEG; the canvas keeps no
  // EXIF), kept in IndexedDB beside the aspiration until sent (localStorage is too small),
  // uploaded with an id fixed here, so a resend after a lost connection is stored once.
  var PHOTO_EDGE = 1600, PHOTO_DB = "ka-photos-v1";
  function photoStore(mode, use) {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open(PHOTO_DB, 1);
      open.onupgradeneeded = function () { open.result.createObjectStore("photos"); };
      open.onerror = function () { reject(open.error); };
      open.onsuccess = function () {
        var tx = open.result.transaction("photos", mode), req = use(tx.objectStore("photos"));
        tx.oncomplete = function () { open.result.close(); resolve(req.result); };
        tx.onerror = function () { open.result.close(); reject(tx.error); };
      };
    });
  }
  function shrink(file) {
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, PHOTO_EDGE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.85); });
    });
  }
  function photosSent(item) {
    return (item.photos || []).every(function (id) { return (item.sentPhotos || []).indexOf(id) >= 0; });
  }
  function uploadPhoto(item, id) {
    return photoStore("readonly", function (s) { return s.get(id); }).then(function (blob) {
      if (!blob) { item.status = "error"; item.error = "photo lost"; save(); return; }
      var form = new FormData();
      form.append("file", blob, id + ".jpg");
      form.append("id", id);
      return fetch("/catat/api/photos", {
        method: "POST", credentials: "same-origin", redirect: "manual",
        headers: { "X-CSRF-Token": cfg.csrf }, body: form
      }).then(function (res) {
        if (res.type === "opaqueredirect" || res.status === 0) { location.href = "/masuk?next=/catat"; throw new Error("login"); }
        if (res.status < 300) {
          item.sentPhotos = (item.sentPhotos || []).concat([id]);
          save();
          return photoStore("readwrite", function (s) { return s.delete(id); });
        }
        if (!retryable(res.status)) {
          return res.text().then(function (text) { item.status = "error"; item.error = text; save(); });
        }
        throw new Error("retry later");
      });
    });
  }

  function addAspiration(ev) {
    ev.preventDefault();
    if (!state.current) return;
    var file = $("a-photo").files[0], photoId = file ? uuid() : null;
    var photoPublic = $("a-photo-public").checked;
    var kept = file ? shrink(file).then(function (blob) {
      return photoStore("readwrite", function (s) { return s.put(blob, photoId); });
    }) : Promise.resolve();
    kept.then(function () { record(photoId, photoPublic); }, function () { record(null, false); });
  }

  function record(photoId, photoPublic) {
    var by = val("a-by"), contact = val("a-contact"), backing = val("a-back");
    // consent to hear of progress: kept private by intake, never in an event (issue 24)
    var channel = $("a-notify-channel").value, address = val("a-notify-address");
    var notify = $("a-notify").checked && address ? {
      channel: channel, language: $("a-notify-lang").value,
      email: channel === "email" ? address : null, phone: channel === "email" ? null : address
    } : null;
    state.items.push({
      meeting: state.current, status: "pending", code: null, error: null,
      body: { id: uuid(), category: $("a-cat").value, summary: val("a-sum"),
              public_summary: val("a-pub") || "", description: val("a-desc") || "",
              urgency: $("a-urgent").checked ? "high" : "normal", confidential: $("a-conf").checked,
              raised_by: by || contact ? { name: by || "-", kind: "person", contact: contact } : null,
              notify: notify,
              photos: photoId ? [{ id: photoId, "public": photoPublic }] : [],
              backing: { count: backing ? parseInt(backing, 10) : 0, groups: [] } },
      photos: photoId ? [photoId] : [], sentPhotos: []
    });
    ["a-sum", "a-pub", "a-desc", "a-by", "a-contact", "a-back", "a-notify-address", "a-photo"].forEach(function (f) { $(f).value = ""; });
    $("a-urgent").checked = false; $("a-conf").checked = false; $("a-notify").checked = false;
    $("a-photo-public").checked = false;
    publicSummaryRule();
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
      // photos first: an aspiration goes out once the photos it names are stored
      var uploads = Promise.resolve();
      state.items.forEach(function (item) {
        if (item.status !== "pending") return;
        (item.photos || []).forEach(function (id) {
          if ((item.sentPhotos || []).indexOf(id) >= 0) return;
          uploads = uploads.then(function () { if (item.status === "pending") return uploadPhoto(item, id); });
        });
      });
      return uploads;
    });
    chain = chain.then(function () {
      // Freeze pending items into batches (one per meeting); a batch keeps its key forever.
      state.items.forEach(function (item, index) {
        var m = state.meetings[item.meeting];
        if (item.status !== "pending" || !m || !m.sent || !photosSent(item)) return;
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
  // kelurahan; the chosen region's code narrows the next field, and the deepest chosen
  // code goes with the meeting). The unit's own kabupaten/kota (every kecamatan and
  // kelurahan/desa in it) is fetched once and kept in localStorage, so those suggest with
  // no signal; other lists already fetched are kept too. Names are compared as the server
  // does (shared/regions/names.py): case, diacritics, punctuation, spaces and kind words
  // ("Kab.", "Kabupaten", "Kota", "Kec.", "Desa") ignored.
  var AREA_KEY = "ka-area-v1:" + (cfg.unit || "");
  var AREA_MAX_AGE = 7 * 24 * 3600 * 1000;
  var KIND_WORDS = {
    kabupaten: [["kabupaten", "administrasi"], ["kab", "administrasi"], ["kab", "adm"], ["kota", "administrasi"],
                ["kota", "adm"], ["kabupaten"], ["kab"], ["kotamadya"], ["kodya"], ["kota"], ["kot"]],
    kecamatan: [["kecamatan"], ["kec"]],
    kelurahan: [["kelurahan"], ["kel"], ["desa"], ["ds"]]
  };
  function words(text) {
    var plain = (text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/['\u2019`\u02bc]/g, "");
    return plain.match(/[a-z0-9]+/g) || [];
  }
  function split(level, text) {  // [kind word or null, key]
    var w = words(text), prefixes = KIND_WORDS[level] || [];
    for (var i = 0; i < prefixes.length; i++) {
      var p = prefixes[i];
      if (w.length > p.length && p.every(function (x, j) { return w[j] === x; })) {
        return [p[0].indexOf("kab") === 0 ? "kabupaten" : p[0].indexOf("ko") === 0 ? "kota" : null, w.slice(p.length).join("")];
      }
    }
    return [null, w.join("")];
  }
  function loadArea() {
    try { return JSON.parse(localStorage.getItem(AREA_KEY)); } catch (e) { return null; }
  }
  function prefetchArea() {
    var area = loadArea();
    if (!navigator.onLine || (area && Date.now() - area.fetchedAt < AREA_MAX_AGE)) { return; }
    fetch("/catat/api/regions/area", { credentials: "same-origin" }).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (data) {
      if (!data || !data.regency) { return; }
      data.fetchedAt = Date.now();
      try { localStorage.setItem(AREA_KEY, JSON.stringify(data)); } catch (e) { /* full */ }
    }).catch(function () { /* offline: tried again next time the page opens */ });
  }
  function localSuggestions(level, typed, parent) {
    var area = loadArea();
    if (!area || !area.regency) { return []; }
    var pool = level === "kabupaten" ? [area.regency] : level === "kecamatan" ? area.districts : level === "kelurahan" ? area.villages : [];
    if (parent) { pool = pool.filter(function (r) { return r.parent_code === parent; }); }
    var t = split(level, typed), kind = t[0], prefix = t[1];
    var last = words(typed).slice(-1)[0] || "";
    var found = pool.filter(function (r) {
      if (kind && split("kabupaten", r.name)[0] !== kind) { return false; }
      var key = split(level, r.name)[1];
      return !prefix || key.indexOf(prefix) === 0 || words(r.name).some(function (w) { return w.indexOf(last) === 0; });
    });
    found.sort(function (a, b) {
      var pa = split(level, a.name)[1].indexOf(prefix) === 0 ? 0 : 1, pb = split(level, b.name)[1].indexOf(prefix) === 0 ? 0 : 1;
      return pa - pb || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
    return found.slice(0, 10);
  }
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
      var exact = items.filter(function (r) { return split(level, r.name)[1] === split(level, q)[1] && q; })[0];
      if (exact) { input.setAttribute("data-code", exact.code); } else { input.removeAttribute("data-code"); }
    }
    var local = localSuggestions(level, q, parent);
    var cached = localStorage.getItem(cacheKey);
    if (local.length) { fill(local); } else if (cached) { fill(JSON.parse(cached)); } else if (!navigator.onLine) { fill([]); }
    if (!navigator.onLine || (!q && !parent)) { return; }
    fetch("/catat/api/regions?" + query, { credentials: "same-origin" }).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (data) {
      if (!data) { return; }
      try { localStorage.setItem(cacheKey, JSON.stringify(data.items)); } catch (e) { /* full */ }
      fill(data.items.length || !local.length ? data.items : local);
    }).catch(function () { /* offline: the kept lists stay */ });
  }
  function chosenCode() {  // the deepest place chosen from the suggestions, if any
    var ids = ["m-kel", "m-kec", "m-kab"];
    for (var i = 0; i < ids.length; i++) {
      var code = $(ids[i]).getAttribute("data-code");
      if (code) { return code; }
    }
    return null;
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[data-level]"), function (input) {
    var timer = null;
    input.addEventListener("input", function () {
      // a changed kabupaten or kecamatan makes the places chosen below it stale
      var below = document.querySelector("input[data-parent='" + input.id + "']");
      while (below) {
        below.removeAttribute("data-code");
        below = document.querySelector("input[data-parent='" + below.id + "']");
      }
      clearTimeout(timer);
      timer = setTimeout(function () { suggestRegions(input); }, 200);
    });
  });
  prefetchArea();

  $("meeting-form").addEventListener("submit", startMeeting);
  $("asp-form").addEventListener("submit", addAspiration);
  $("a-cat").addEventListener("change", publicSummaryRule);
  $("a-conf").addEventListener("change", publicSummaryRule);
  publicSummaryRule();
  $("send-now").addEventListener("click", function () { flush(); });
  $("new-meeting").addEventListener("click", function () { state.current = null; save(); });
  window.addEventListener("online", function () { render(); flush(); prefetchArea(); });
  window.addEventListener("offline", render);
  setInterval(flush, 15000);
  if (!$("m-held").value) {
    var now = new Date(Date.now() + 7 * 3600 * 1000);
    $("m-held").value = now.toISOString().slice(0, 16);
  }
  render();
  flush();
})();
