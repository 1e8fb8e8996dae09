// Sortable tables: a header button per column; Enter/Space sorts, a second press reverses.
// Cells may carry data-sort (ISO time, number) so dates sort by time, not by their text.
(function () {
  "use strict";
  function key(cell) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null) raw = cell.textContent.trim().toLowerCase();
    var num = Number(raw);
    return raw !== "" && !isNaN(num) ? num : raw;
  }
  function sortBy(table, index, button) {
    var body = table.tBodies[0];
    var th = button.closest("th");
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index]), y = key(b.cells[index]);
      var order = x < y ? -1 : x > y ? 1 : 0;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  function enhance(root) {
    root.querySelectorAll("table.sortable").forEach(function (table) {
      if (table.dataset.sortReady) return;
      table.dataset.sortReady = "1";
      table.querySelectorAll("thead th").forEach(function (th, index) {
        if (!th.textContent.trim()) return;  // a column without a heading (actions) is not sorted
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort";
        button.textContent = th.textContent;
        button.addEventListener("click", function () { sortBy(table, index, button); });
        th.textContent = "";
        th.appendChild(button);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
})();

// Cement timers: count down to "no longer workable", then to "set", from the times the server computed.
// They run on the server's clock (data-now at page load), so a workstation whose clock is off shows the truth.
(function () {
  "use strict";
  var loaded = Date.now();
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function left(ms) { var s = Math.max(0, Math.round(ms / 1000)); return Math.floor(s / 60) + ":" + pad(s % 60); }
  function tick() {
    document.querySelectorAll(".cement-timer").forEach(function (el) {
      var now = Date.parse(el.dataset.now) + (Date.now() - loaded);
      var workable = Date.parse(el.dataset.workable), set = Date.parse(el.dataset.set);
      // The words come translated from the page (data-*-words), with {left} for the time remaining.
      if (now < workable) { el.textContent = el.dataset.workingWords.replace("{left}", left(workable - now)); el.className = "cement-timer working"; }
      else if (now < set) { el.textContent = el.dataset.settingWords.replace("{left}", left(set - now)); el.className = "cement-timer setting"; }
      else { el.textContent = el.dataset.doneWords; el.className = "cement-timer done"; }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();

// Repeating rows: only the rows in use and one spare show; "Add another" reveals the next spare row.
// Without JavaScript every row shows. The server marks a row in use (data-used) or holding an error.
(function () {
  "use strict";
  function enhance(root) {
    root.querySelectorAll("table[data-rows]").forEach(function (table) {
      if (table.dataset.rowsReady) return;
      table.dataset.rowsReady = "1";
      var spares = Array.prototype.filter.call(table.tBodies[0].rows, function (row) { return !row.hasAttribute("data-used"); });
      spares.slice(1).forEach(function (row) { row.hidden = true; });
      if (spares.length < 2) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "add-row";
      button.textContent = table.dataset.addWords;
      button.addEventListener("click", function () {
        var next = Array.prototype.find.call(table.tBodies[0].rows, function (row) { return row.hidden; });
        if (!next) return;
        next.hidden = false;
        var first = next.querySelector("input, select, textarea");
        if (first) first.focus();
        if (!Array.prototype.some.call(table.tBodies[0].rows, function (row) { return row.hidden; })) button.hidden = true;
      });
      table.insertAdjacentElement("afterend", button);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
})();

// Parts of a form that apply to one choice only (data-show-when="name=value"): shown while that choice is made.
(function () {
  "use strict";
  function update(form) {
    form.querySelectorAll("[data-show-when]").forEach(function (part) {
      var rule = part.dataset.showWhen.split("=");
      var chosen = form.querySelector('input[name="' + rule[0] + '"]:checked');
      part.hidden = !(chosen && chosen.value === rule[1]) && !part.querySelector(".error");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      if (!form.querySelector("[data-show-when]")) return;
      update(form);
      form.addEventListener("change", function () { update(form); });
    });
  });
})();

// The idle warning: a minute before the session's idle time runs out, ask; "Stay signed in" renews it, and at the
// end the page reloads (the server has signed the session out and asks to sign in again).
(function () {
  "use strict";
  var box = document.getElementById("idle-warning");
  if (!box) return;
  var total = Number(box.getAttribute("data-idle-seconds")) * 1000;
  var warnTimer = null, endTimer = null, typedSince = false;
  function renew() {
    fetch(box.getAttribute("data-keep-alive"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": box.getAttribute("data-csrf") }
    }).then(arm);
  }
  function arm() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    box.hidden = true;
    typedSince = false;
    warnTimer = setTimeout(function () {
      // Someone typing a long form (the call) is not idle: renew without asking.
      if (typedSince) { renew(); return; }
      box.hidden = false;
      document.getElementById("idle-stay").focus();
    }, Math.max(total - 60000, 0));
    endTimer = setTimeout(function () { window.location.reload(); }, total + 1000);
  }
  ["keydown", "input", "pointerdown"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (!box.contains(event.target)) typedSince = true;
    }, true);
  });
  document.getElementById("idle-stay").addEventListener("click", renew);
  document.body.addEventListener("htmx:afterRequest", arm);
  arm();
})();

// A patient's CD: a ZIP or the CD's folder, chosen or dragged onto the page, sent with a progress bar. The page
// answers with where to go next (the disc's preview) or the reason it was refused, shown beside the form.
(function () {
  "use strict";
  function readAll(reader) {
    return new Promise(function (done) {
      var all = [];
      (function more() {
        reader.readEntries(function (batch) {
          if (!batch.length) return done(all);
          all = all.concat(Array.prototype.slice.call(batch));
          more();
        }, function () { done(all); });
      })();
    });
  }
  function walk(entry, prefix, out) {
    if (entry.isFile) {
      return new Promise(function (done) {
        entry.file(function (file) { out.push([prefix + entry.name, file]); done(); }, function () { done(); });
      });
    }
    return readAll(entry.createReader()).then(function (children) {
      return Promise.all(children.map(function (child) { return walk(child, prefix + entry.name + "/", out); }));
    });
  }
  function setUp(form) {
    var zone = form.querySelector("[data-dropzone]");
    var box = form.querySelector("[data-progress]");
    var bar = box.querySelector("progress");
    var text = form.querySelector("[data-progress-text]");
    var error = form.querySelector("[data-upload-error]");
    var token = form.querySelector("[name=csrfmiddlewaretoken]").value;
    function fail(message) {
      box.hidden = true;
      error.hidden = false;
      error.textContent = message || form.getAttribute("data-failed");
    }
    function send(zip, files) {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", token);
      if (zip) {
        data.append("disc", zip);
      } else {
        var paths = [];
        files.forEach(function (pair) { data.append("folder", pair[1]); paths.push(pair[0]); });
        data.append("paths", JSON.stringify(paths));
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (!event.lengthComputable) return;
        var percent = Math.round((100 * event.loaded) / event.total);
        bar.value = percent;
        text.textContent = percent + "%";
      };
      xhr.onload = function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {}; }
        if (answer.next) { window.location.assign(answer.next); return; }
        fail(answer.error);
      };
      xhr.onerror = function () { fail(""); };
      error.hidden = true;
      box.hidden = false;
      bar.value = 0;
      text.textContent = "0%";
      xhr.send(data);
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var zip = form.querySelector("[name=disc]").files;
      var chosen = form.querySelector("[name=folder]").files;
      if (!zip.length && !chosen.length) { fail(form.getAttribute("data-choose")); return; }
      send(zip.length ? zip[0] : null, Array.prototype.map.call(chosen, function (file) {
        return [file.webkitRelativePath || file.name, file];
      }));
    });
    zone.addEventListener("dragover", function (event) { event.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("over");
      var items = Array.prototype.slice.call(event.dataTransfer.items || []);
      var entries = items.map(function (item) { return item.webkitGetAsEntry && item.webkitGetAsEntry(); })
        .filter(Boolean);
      var files = event.dataTransfer.files;
      if (files.length === 1 && /\.zip$/i.test(files[0].name) && (!entries.length || entries[0].isFile)) {
        send(files[0], null);
        return;
      }
      var out = [];
      Promise.all(entries.map(function (entry) { return walk(entry, "", out); })).then(function () {
        if (out.length) send(null, out); else fail(form.getAttribute("data-choose"));
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-cd-upload]").forEach(setUp);
  });
})();
