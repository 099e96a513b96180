/* scholar-stats dashboard: tooltips, sorting, filtering. The pages are complete without it. */
(function () {
  "use strict";

  function decode(list) {
    var out = [], base = 0;
    for (var i = 0; i < list.length; i++) {
      if (list[i] === null) { out.push(null); continue; }
      base += list[i];
      out.push(base);
    }
    return out;
  }

  function readSeries(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try {
      var data = JSON.parse(node.textContent);
      var values = {};
      for (var key in data.v) values[key] = decode(data.v[key]);
      return { t: decode(data.t), v: values, labels: data.labels || {}, sources: data.sources || [] };
    } catch (e) {
      return null;
    }
  }

  function fmt(n) {
    return n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US");
  }

  function day(seconds) {
    return new Date(seconds * 1000).toISOString().slice(0, 10);
  }

  function sourceAt(series, index) {
    var name = "";
    for (var i = 0; i < series.sources.length; i++) {
      if (series.sources[i][0] <= index) name = series.sources[i][1];
    }
    return name;
  }

  var tip = null;
  function tooltip() {
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "tooltip";
      tip.setAttribute("role", "status");
      tip.hidden = true;
      document.body.appendChild(tip);
    }
    return tip;
  }

  function attachChart(svg) {
    var series = readSeries(svg.getAttribute("data-series"));
    if (!series || !series.t.length) return;
    var keys = (svg.getAttribute("data-keys") || "").split(",");
    var t0 = +svg.getAttribute("data-t0"), t1 = +svg.getAttribute("data-t1");
    var x0 = +svg.getAttribute("data-x0"), x1 = +svg.getAttribute("data-x1");
    var ns = "http://www.w3.org/2000/svg";
    var cursor = document.createElementNS(ns, "line");
    cursor.setAttribute("class", "cursor");
    cursor.setAttribute("y1", "0");
    cursor.setAttribute("y2", svg.viewBox.baseVal.height);
    cursor.style.display = "none";
    svg.appendChild(cursor);

    function hide() { cursor.style.display = "none"; tooltip().hidden = true; }

    svg.addEventListener("pointerleave", hide);
    svg.addEventListener("pointermove", function (event) {
      var matrix = svg.getScreenCTM();
      if (!matrix) return;
      var point = svg.createSVGPoint();
      point.x = event.clientX; point.y = event.clientY;
      var x = point.matrixTransform(matrix.inverse()).x;
      if (x < x0 || x > x1) { hide(); return; }
      var t = t0 + (x - x0) / (x1 - x0) * (t1 - t0);
      var lo = 0, hi = series.t.length - 1;
      if (t < series.t[0]) { hide(); return; }
      while (lo < hi) {
        var mid = (lo + hi + 1) >> 1;
        if (series.t[mid] <= t) lo = mid; else hi = mid - 1;
      }
      var px = x0 + (series.t[lo] - t0) / (t1 - t0) * (x1 - x0);
      cursor.setAttribute("x1", px); cursor.setAttribute("x2", px);
      cursor.style.display = "";
      var parts = [day(series.t[lo])];
      for (var k = 0; k < keys.length; k++) {
        if (!series.v[keys[k]]) continue;
        var label = series.labels[keys[k]] || keys[k];
        /* "Since 2021": the year Scholar's since-numbers counted from in that snapshot. */
        if (keys[k] === "citations_since" && series.v.since_year && series.v.since_year[lo] !== null) {
          label += " " + series.v.since_year[lo];
        }
        parts.push(label + " " + fmt(series.v[keys[k]][lo]));
      }
      var source = sourceAt(series, lo);
      if (source) parts.push(source);
      var box = tooltip();
      box.textContent = parts.join(" · ");
      box.hidden = false;
      box.style.left = Math.max(4, Math.min(event.pageX + 12, document.documentElement.scrollWidth - box.offsetWidth - 4)) + "px";
      box.style.top = (event.pageY + 14) + "px";
    });
  }

  function cellValue(row, index, kind) {
    var cell = row.cells[index];
    if (!cell) return kind === "number" ? -Infinity : "";
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
    if (kind === "number") return raw === "" ? -Infinity : Number(raw);
    return raw.trim().toLowerCase();
  }

  function makeSortable(table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      var kind = th.getAttribute("data-sort");
      if (!kind) return;
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var descending = th.getAttribute("aria-sort") !== "descending";
        if (th.getAttribute("aria-sort") === null) descending = kind === "number";
        Array.prototype.forEach.call(heads, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var va = cellValue(a, index, kind), vb = cellValue(b, index, kind);
          var order = va < vb ? -1 : va > vb ? 1 : 0;
          return descending ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  function makeFilter() {
    var input = document.getElementById("pub-filter");
    var vanished = document.getElementById("pub-vanished");
    var table = document.getElementById("pubs");
    var count = document.getElementById("pub-count");
    if (!input || !table) return;
    input.parentNode.parentNode.hidden = false;
    function apply() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0, rows = table.tBodies[0].rows;
      for (var i = 0; i < rows.length; i++) {
        var text = (rows[i].cells[0].textContent + " " + rows[i].cells[1].textContent).toLowerCase();
        var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
        if (vanished && !vanished.checked && rows[i].classList.contains("vanished")) ok = false;
        rows[i].hidden = !ok;
        if (ok) shown++;
      }
      if (count) count.textContent = shown + " of " + rows.length + " shown";
    }
    input.addEventListener("input", apply);
    if (vanished) vanished.addEventListener("change", apply);
    apply();
  }

  function makeCardSort() {
    var select = document.getElementById("card-sort");
    var list = document.getElementById("cards");
    if (!select || !list) return;
    select.parentNode.parentNode.hidden = false;
    select.addEventListener("change", function () {
      var key = select.value;
      var cards = Array.prototype.slice.call(list.children);
      cards.sort(function (a, b) {
        if (key === "name") return a.getAttribute("data-name").localeCompare(b.getAttribute("data-name"));
        var va = a.getAttribute("data-" + key), vb = b.getAttribute("data-" + key);
        va = va === "" || va === null ? -Infinity : Number(va);
        vb = vb === "" || vb === null ? -Infinity : Number(vb);
        return vb - va;
      });
      cards.forEach(function (card) { list.appendChild(card); });
    });
  }

  function relativeTimes() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll("time[data-ago]"), function (node) {
      var when = Date.parse(node.getAttribute("datetime"));
      if (isNaN(when)) return;
      var days = Math.floor((now - when) / 86400000);
      var text = days <= 0 ? "today" : days === 1 ? "yesterday" : days + " days ago";
      node.title = node.textContent;
      node.textContent = node.textContent + " (" + text + ")";
    });
  }

  function start() {
    try {
      Array.prototype.forEach.call(document.querySelectorAll("svg[data-series]"), attachChart);
      Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
      makeFilter();
      makeCardSort();
      relativeTimes();
    } catch (e) {
      /* The page is complete without the script: never let an error show. */
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
