// heapgraph report: draws the dominator tree as a zoomable icicle, and sorts and filters the types table.
// Everything it needs is in the page (the JSON in #heapgraph-model); it loads nothing.
"use strict";

// A script error is written into the page, where a reader (and the tests) can see it.
window.addEventListener("error", function (event) {
  var p = document.getElementById("script-error") || document.createElement("p");
  p.id = "script-error";
  p.setAttribute("role", "alert");
  p.textContent = "This page's script failed: " + event.message;
  document.body.insertBefore(p, document.body.firstChild);
});

(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var model = JSON.parse(document.getElementById("heapgraph-model").textContent);

  function formatBytes(bytes) {
    var units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if (bytes < 1024) return bytes + " B";
    var value = bytes / 1024;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return value.toFixed(1) + " " + units[unit];
  }
  function formatCount(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function percent(share) {
    return (share * 100).toFixed(1) + "%";
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  // Dates of the dump, in the reader's time zone.
  document.querySelectorAll("time[data-unix]").forEach(function (t) {
    var d = new Date(parseFloat(t.getAttribute("data-unix")) * 1000);
    t.setAttribute("datetime", d.toISOString());
    t.textContent = d.toLocaleString() + " (" + d.toISOString() + ")";
  });

  // ---- The dominator tree as an icicle ----
  var reachable = model.dominators.report.reachable_bytes || 1;

  // The report's tree, with each node's folded children as one more node.
  function convert(node, parent, depth) {
    var n = {
      parent: parent,
      depth: depth,
      bytes: node.retained_bytes,
      object: node.object,
      path: node.path,
      folded: false,
      children: []
    };
    n.children = node.children.map(function (c) { return convert(c, n, depth + 1); });
    if (node.folded) {
      n.children.push({
        parent: n,
        depth: depth + 1,
        bytes: node.folded.retained_bytes,
        folded: node.folded.count,
        children: []
      });
    }
    return n;
  }
  var root = convert(model.dominators.report.tree, null, 0);

  // Where the suspects' memory accumulates: marked with ◆ in the picture too.
  var accumulations = new Set();
  model.suspects.report.suspects.forEach(function (s) {
    if (s.accumulation) accumulations.add(s.accumulation.address);
  });
  function isAccumulation(n) {
    return !!n.object && accumulations.has(n.object.address);
  }

  function label(n) {
    if (n.folded) return formatCount(n.folded) + " more";
    if (!n.object) return "all roots";
    return n.object.type_name + (n.object.preview ? " " + n.object.preview : "");
  }
  // A box's own text: its label, marked when a suspect's memory accumulates there.
  function marked(n) {
    return (isAccumulation(n) ? "◆ " : "") + label(n);
  }
  function describe(n) {
    return marked(n) + ", " + formatBytes(n.bytes) + ", " + percent(n.bytes / reachable) + " of the reachable heap";
  }
  function hue(name) {
    var h = 0;
    for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 360;
    return h;
  }
  function fill(n) {
    if (n.folded) return "url(#folded)";
    if (!n.object) return "#d9d9d9";
    return "hsl(" + hue(n.object.type_name) + ", 55%, 78%)";
  }

  var box = document.getElementById("icicle");
  var detail = document.getElementById("icicle-detail");
  var trail = document.getElementById("icicle-trail");
  var WIDTH = 1000;
  var ROW = 24;
  var focus = root;

  function show(n) {
    detail.textContent = "";
    var head = el("p");
    head.appendChild(el("strong", {}, marked(n)));
    if (n.object) head.appendChild(document.createTextNode(" " + n.object.address));
    detail.appendChild(head);
    var sizes = "retains " + formatBytes(n.bytes) + ", " + percent(n.bytes / reachable) + " of the reachable heap";
    if (n.object) sizes += "; shallow " + formatBytes(n.object.shallow_bytes);
    if (n.folded) sizes += "; objects too small to draw, folded together";
    if (isAccumulation(n)) sizes += "; a suspect's memory accumulates here";
    detail.appendChild(el("p", {}, sizes));
    if (n.path) detail.appendChild(el("p", { "class": "path-line" }, "path: " + n.path));
  }

  function depthBelow(n) {
    var d = 0;
    n.children.forEach(function (c) { d = Math.max(d, 1 + depthBelow(c)); });
    return d;
  }

  function draw(zoomTo, keepFocus) {
    focus = zoomTo;
    var rows = depthBelow(focus) + 1;
    var svg = svgEl("svg", {
      viewBox: "0 0 " + WIDTH + " " + rows * ROW,
      role: "group",
      "aria-label": "Dominator tree from " + label(focus)
    });
    var defs = svgEl("defs", {});
    var pattern = svgEl("pattern", { id: "folded", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" });
    pattern.appendChild(svgEl("rect", { width: 6, height: 6, fill: "#eee" }));
    pattern.appendChild(svgEl("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#888", "stroke-width": 2 }));
    defs.appendChild(pattern);
    svg.appendChild(defs);
    // The boxes drawn, by node: the arrow keys move between them. Only one box is a Tab stop at a time.
    var cells = new Map();
    function place(n, x, w) {
      if (w < 0.5) return;
      var y = (n.depth - focus.depth) * ROW;
      var g = svgEl("g", {
        "class": "cell" + (n.folded ? " folded" : "") + (n === focus ? " focus" : "") +
          (isAccumulation(n) ? " accumulation" : ""),
        tabindex: n === focus ? 0 : -1,
        role: "button",
        "aria-label": describe(n) + (n === focus ? " (zoomed in; press Enter to zoom out)" : "")
      });
      var title = svgEl("title", {});
      title.textContent = describe(n) + (n.path ? "\n" + n.path : "");
      g.appendChild(title);
      g.appendChild(svgEl("rect", { x: x, y: y, width: w, height: ROW - 1, fill: fill(n) }));
      var chars = Math.floor((w - 6) / 7.3);
      if (chars >= 3) {
        var text = marked(n) + " " + formatBytes(n.bytes);
        if (text.length > chars) text = text.slice(0, chars - 1) + "…";
        var t = svgEl("text", { x: x + 3, y: y + ROW / 2 + 4 });
        t.textContent = text;
        g.appendChild(t);
      }
      g.addEventListener("mouseenter", function () { show(n); });
      g.addEventListener("focus", function () { show(n); });
      var act = function () {
        if (!n.folded) draw(n === focus ? (n.parent || n) : n, true);
      };
      g.addEventListener("click", act);
      g.addEventListener("keydown", function (e) {
        var next = null;
        var siblings = n.parent ? n.parent.children : [n];
        var at = siblings.indexOf(n);
        if (e.key === "Enter" || e.key === " ") act();
        else if (e.key === "ArrowDown") next = n.children[0];
        else if (e.key === "ArrowUp") next = n.parent;
        else if (e.key === "ArrowRight") next = siblings[at + 1];
        else if (e.key === "ArrowLeft") next = siblings[at - 1];
        else return;
        e.preventDefault();
        if (next && cells.has(next)) {
          g.setAttribute("tabindex", "-1");
          cells.get(next).setAttribute("tabindex", "0");
          cells.get(next).focus();
        }
      });
      svg.appendChild(g);
      cells.set(n, g);
      var cx = x;
      n.children.forEach(function (c) {
        var cw = n.bytes > 0 ? w * c.bytes / n.bytes : 0;
        place(c, cx, cw);
        cx += cw;
      });
    }
    place(focus, 0, WIDTH);
    box.textContent = "";
    box.appendChild(svg);
    drawTrail();
    show(focus);
    if (keepFocus) cells.get(focus).focus();
  }

  function drawTrail() {
    trail.textContent = "";
    var chain = [];
    for (var n = focus; n; n = n.parent) chain.unshift(n);
    trail.appendChild(document.createTextNode("Zoomed into: "));
    chain.forEach(function (c) {
      var b = el("button", { type: "button" }, label(c));
      if (c === focus) b.setAttribute("aria-current", "true");
      b.addEventListener("click", function () { draw(c, true); });
      trail.appendChild(b);
    });
  }

  box.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && focus.parent) {
      e.preventDefault();
      draw(focus.parent, true);
    }
  });
  draw(root, false);

  // ---- The types table: sort by any column, filter by name ----
  var table = document.getElementById("types-table");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th, column) {
    th.querySelector("button").addEventListener("click", function () {
      var numeric = th.getAttribute("data-key") === "num";
      var descending = th.getAttribute("aria-sort") !== "descending";
      if (!numeric && th.getAttribute("aria-sort") !== "ascending") descending = false;
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-v");
        var y = b.cells[column].getAttribute("data-v");
        var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        return descending ? -order : order;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  var filter = document.getElementById("types-filter");
  var shown = document.getElementById("types-shown");
  function applyFilter() {
    var words = filter.value.toLowerCase();
    var n = 0;
    rows.forEach(function (r) {
      var hit = r.cells[0].getAttribute("data-v").toLowerCase().indexOf(words) >= 0;
      r.hidden = !hit;
      if (hit) n += 1;
    });
    shown.textContent = formatCount(n) + " of " + formatCount(rows.length) + " types shown";
  }
  filter.addEventListener("input", applyFilter);
  applyFilter();

  // A type's link opens its retainer tree: at once on a click, and when the page is opened at one.
  function openTarget(id) {
    var target = id && document.getElementById(id);
    for (var e = target; e; e = e.parentElement) {
      if (e.tagName === "DETAILS") e.open = true;
    }
  }
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a[href^='#']");
    if (link) openTarget(link.getAttribute("href").slice(1));
  });
  window.addEventListener("hashchange", function () { openTarget(location.hash.slice(1)); });
  openTarget(location.hash.slice(1));

  // Printing shows what is folded away on screen.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });

  document.documentElement.setAttribute("data-report-ready", "yes");
})();
