/* geotarget map runtime: draws the layers described by the page's data (see geotarget/render/maps).
 * Every string in the data is plain text, and is put on the page as text: with textContent (el), as a
 * DOM element given to Leaflet (tooltips, popups, labels, markers, search tips), as layer names in
 * TextLayers (the layer control with text labels) or, for the one Leaflet API that takes only HTML
 * (the attribution line), through htmlText. Never innerHTML; tests/test_safe_outputs.py checks this. */
(function () {
  "use strict";

  var GT = (window.geotarget = window.geotarget || {});
  var NF = {};

  function el(tag, text, cls, parent) {
    var node = document.createElement(tag);
    if (text !== null && text !== undefined) { node.textContent = text; }
    if (cls) { node.className = cls; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  /* Text as HTML that shows it as written: only for Leaflet APIs that take nothing but HTML. */
  function htmlText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  }
  GT.htmlText = htmlText;

  /* Leaflet's layer control, with each layer's name put in as text (Leaflet's own sets it as HTML).
   * Overlays in an exclusive group (layer.gtSpec.exclusive, e.g. the decile layers) are radio buttons
   * under the group's name, with a "none" choice: one of them is shown at a time. The list is kept
   * clear of the overview map (bottom right): it scrolls rather than run under it. */
  var TextLayers = L.Control.Layers.extend({
    _addItem: function (obj) {
      var label = L.Control.Layers.prototype._addItem.call(this, L.extend({}, obj, {name: ""}));
      var spans = label.getElementsByTagName("span");
      spans[spans.length - 1].textContent = " " + obj.name;
      var group = obj.overlay && obj.layer.gtSpec ? obj.layer.gtSpec.exclusive : null;
      if (group) {
        var input = label.getElementsByTagName("input")[0];
        input.type = "radio";
        input.name = "gt-group-" + L.stamp(this) + "-" + group;
        label.gtGroup = group;
        L.DomUtil.addClass(label, "gt-group-item");
      }
      return label;
    },
    _update: function () {
      L.Control.Layers.prototype._update.call(this);
      if (!this._overlaysList) { return this; }
      var self = this, map = this._map, seen = {};
      Array.prototype.slice.call(this._overlaysList.children).forEach(function (label, k, all) {
        var group = label.gtGroup;
        if (!group) { return; }
        if (!seen[group]) {
          seen[group] = true;
          self._overlaysList.insertBefore(el("div", group, "gt-group-title"), label);
        }
        var next = all[k + 1];
        if (next && next.gtGroup === group) { return; }
        var members = self._layers.filter(function (o) { return o.layer.gtSpec && o.layer.gtSpec.exclusive === group; });
        var none = el("label", null, "gt-group-item gt-group-none");
        var span = el("span", null, null, none);
        var input = el("input", null, "leaflet-control-layers-selector", span);
        input.type = "radio";
        input.name = "gt-group-" + L.stamp(self) + "-" + group;
        input.checked = !members.some(function (o) { return map.hasLayer(o.layer); });
        el("span", " none", null, span);
        L.DomEvent.on(input, "click", function () {
          members.forEach(function (o) { if (map.hasLayer(o.layer)) { map.removeLayer(o.layer); } });
        });
        self._overlaysList.insertBefore(none, next || null);
      });
      this._fit();
      return this;
    },
    expand: function () {
      L.Control.Layers.prototype.expand.call(this);
      this._fit();
      return this;
    },
    /* Let the list scroll so the control ends above the overview map (or the map's foot). */
    _fit: function () {
      if (!this._map || !this._section) { return; }
      var section = this._section, map = this._map;
      section.style.height = "";
      var mapBox = map.getContainer().getBoundingClientRect();
      var limit = mapBox.bottom - 24;  // above the attribution line
      var mini = map.getContainer().querySelector(".leaflet-control-minimap");
      if (mini && mini.offsetParent !== null) { limit = mini.getBoundingClientRect().top; }
      var top = section.getBoundingClientRect().top;
      var pad = this._container.getBoundingClientRect().bottom - section.getBoundingClientRect().bottom;
      var room = Math.max(80, Math.floor(limit - 10 - pad - top));
      section.style.maxHeight = room + "px";
      L.DomUtil.addClass(section, "gt-scroll");
    }
  });
  GT.TextLayers = TextLayers;

  function numberFormat(digits, fixed) {
    var key = digits + ":" + fixed;
    if (!NF[key]) {
      NF[key] = new Intl.NumberFormat("en-GB", {
        maximumFractionDigits: digits, minimumFractionDigits: fixed ? digits : 0
      });
    }
    return NF[key];
  }

  /* Format a value: t text, i whole number, n number (<= 3 dp), f3 fixed 3 dp, p1 percent 1 dp. */
  function fmt(value, code) {
    if (value === null || value === undefined || value === "") { return "–"; }
    if (code === "i") { return numberFormat(0, false).format(value); }
    if (code === "n") { return numberFormat(3, false).format(value); }
    if (code === "f3") { return numberFormat(3, true).format(value); }
    if (code === "p1") { return numberFormat(1, true).format(100 * value) + "%"; }
    return String(value);
  }
  GT.fmt = fmt;

  /* The content of a tooltip or popup for row i (a DOM element). */
  function tipContent(spec, cols, i) {
    var box = el("div");
    if (spec.head) {
      var head = el("div", null, "gt-tip-head", box);
      spec.head.forEach(function (c, k) {
        if (k > 0) { head.appendChild(document.createTextNode(" ")); }
        el(k === 0 ? "b" : "span", cols[c][i], null, head);
      });
    }
    (spec.fields || []).forEach(function (f) {
      var row = el("div", null, "gt-tip-field", box);
      if (f[0]) { el("span", f[0] + ": ", "gt-tip-label", row); }
      el("span", fmt(cols[f[1]][i], f[2]), null, row);
    });
    if (spec.table) {
      var table = el("table", null, null, box);
      var tr = el("tr", null, null, table);
      spec.table.header.forEach(function (h) { el("th", h, null, tr); });
      spec.table.rows.forEach(function (r) {
        var row = el("tr", null, null, table);
        el("td", r[0], null, row);
        r.slice(1).forEach(function (cell) {
          el("td", cell === null ? "–" : fmt(cols[cell[0]][i], cell[1]), null, row);
        });
      });
    }
    return box;
  }

  /* Copy text to the clipboard (navigator.clipboard where the page may use it, else the selection). */
  function copyText(text, node) {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      return navigator.clipboard.writeText(text);
    }
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  GT.copyText = copyText;

  /* The popup of a clicked area: the same text as its tooltip, selectable, and a Copy button that puts
   * the text on the clipboard (one "label: value" line per field, table cells tab-separated). */
  function areaPopup(spec, cols, i) {
    var box = el("div", null, "gt-area-popup");
    var content = tipContent(spec, cols, i);
    content.className = "gt-popup-text";
    box.appendChild(content);
    var button = el("button", "Copy", "gt-copy", box);
    button.type = "button";
    button.title = "Copy this area's details";
    L.DomEvent.on(button, "click", function (e) {
      L.DomEvent.stop(e);
      var text = content.innerText.replace(/\n{2,}/g, "\n").trim();
      copyText(text, content).then(function () { button.textContent = "Copied"; },
                                   function () { button.textContent = "Select and copy the text"; });
    });
    return box;
  }

  /* The shared-border geometry (see geotarget/render/maps/encode.py): arcs from one stream of
   * coordinate steps; areas as counts and arc references (0 = next unused arc, else
   * 2 * steps back + 1 if reversed). */
  function decodeArcs(t) {
    var c = t.coords, lengths = t.lengths, s = t.scale, x = t.origin[0], y = t.origin[1], k = 0;
    var arcs = new Array(lengths.length);
    for (var a = 0; a < lengths.length; a++) {
      var pts = new Array(lengths[a]);
      for (var j = 0; j < lengths[a]; j++) {
        x += c[k++];
        y += c[k++];
        pts[j] = L.latLng(y * s, x * s);  // shared by every ring that uses the arc
      }
      arcs[a] = pts;
    }
    return arcs;
  }
  /* Each area as Leaflet polygon lat/lngs: [polygon][ring][point], or null. */
  function decodeGeometries(obj, arcs) {
    var refs = obj.refs, pos = 0, next = obj.first, out = new Array(obj.n);
    function ring() {
      var pts = [], n = refs[pos++];
      for (var a = 0; a < n; a++) {
        var code = refs[pos++], arc, j;
        if (code === 0) { arc = arcs[next++]; } else { arc = arcs[next - (code >> 1)]; }
        if (code & 1) {
          for (j = arc.length - (pts.length ? 2 : 1); j >= 0; j--) { pts.push(arc[j]); }
        } else {
          for (j = pts.length ? 1 : 0; j < arc.length; j++) { pts.push(arc[j]); }
        }
      }
      return pts;
    }
    for (var f = 0; f < obj.n; f++) {
      var polygons = [], np = refs[pos++];
      for (var p = 0; p < np; p++) {
        var rings = [], nr = refs[pos++];
        for (var r = 0; r < nr; r++) { rings.push(ring()); }
        polygons.push(rings);
      }
      out[f] = np === 0 ? null : polygons;
    }
    return out;
  }
  function shapeOf(latlngs) { return latlngs.length === 1 ? latlngs[0] : latlngs; }

  function decodeData(node) {
    var text = node.textContent;
    if (node.type === "application/json") { return Promise.resolve(JSON.parse(text)); }
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot open compressed maps (needs DecompressionStream)"));
    }
    var bin = atob(text.trim());
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  /* Entry point: read the data element and draw the map. */
  GT.load = function (map, dataId) {
    var node = document.getElementById(dataId);
    var container = map.getContainer();
    L.DomUtil.addClass(container, "gt-loading");
    var t0 = performance.now();
    GT.ready = decodeData(node).then(function (spec) {
      var t1 = performance.now();
      var state = render(map, spec);
      state.timings = {decode: t1 - t0, render: performance.now() - t1};
      L.DomUtil.removeClass(container, "gt-loading");
      L.DomUtil.addClass(container, "gt-ready");
      GT.state = state;
      return state;
    }).catch(function (err) {
      var box = el("div", "This map could not be drawn: " + err.message, "gt-error");
      container.appendChild(box);
      throw err;
    });
    return GT.ready;
  };

  function render(map, spec) {
    var cols = spec.columns;
    var state = {map: map, spec: spec, layers: {}, legends: [], geometry: {}, labelGroups: []};
    // Explicit zoom limits on the map itself: marker clustering needs a maxZoom whatever the base layer.
    if (spec.maxZoom !== undefined) { map.setMaxZoom(spec.maxZoom); }
    if (spec.minZoom !== undefined) { map.setMinZoom(spec.minZoom); }
    ["gtAreas", "gtOutlines", "gtLabels", "gtHighlight"].forEach(function (name, k) {
      var pane = map.createPane(name);
      pane.style.zIndex = 400 + 10 * k;
      if (name !== "gtAreas") { pane.style.pointerEvents = "none"; }
    });
    var areaRenderer = L.canvas({pane: "gtAreas", padding: 0.3, tolerance: 0});

    var arcs = null;
    function geometries(g) {
      if (!state.geometry[g]) {
        arcs = arcs || decodeArcs(spec.topology);
        state.geometry[g] = decodeGeometries(spec.topology.objects["g" + g], arcs);
      }
      return state.geometry[g];
    }
    /* Leaflet polygons of a layer's rows, each knowing its row (path.gtRow). */
    function polygons(layer, options) {
      var geoms = geometries(layer.geom), rows = layer.rows, out = [];
      var n = rows ? rows.length : geoms.length;
      for (var i = 0; i < n; i++) {
        var g = geoms[rows ? rows[i] : i];
        if (!g) { continue; }
        var path = L.polygon(shapeOf(g), options(i));
        path.gtRow = i;
        out.push(path);
      }
      return out;
    }

    /* Layers are built when first shown, so a map of 30,000 areas opens fast. */
    function lazy(build) {
      var group = L.featureGroup();
      var built = false;
      group.on("add", function () {
        if (!built) { built = true; build(group); }
      });
      return group;
    }
    function bindTip(group, tip) {
      if (!tip) { return; }
      group.bindTooltip(function (path) { return tipContent(tip, cols, path.gtRow); },
                        {sticky: true, className: "gt-tooltip"});
      // A click opens the same text as a popup that stays, to select and copy (not while measuring).
      group.on("click", function (e) {
        if (state.measure && state.measure._measuring) { return; }
        var path = e.propagatedFrom || e.layer;
        group.closeTooltip();
        L.popup({className: "gt-popup gt-area", maxWidth: 360, autoPanPaddingTopLeft: [60, 60]})
          .setLatLng(e.latlng).setContent(function () { return areaPopup(tip, cols, path.gtRow); }).openOn(map);
      });
    }

    function fillLayer(spec_) {
      var classes = spec_.cls === null ? null : cols[spec_.cls];
      var base = spec_.base || 0;
      var opacity = spec_.opacity === undefined ? 0.75 : spec_.opacity;
      function style(i) {
        var c = classes === null ? base : classes[i];
        var fill = c === null || c === undefined ? spec.noData : spec_.colors[c - base];
        return {fillColor: fill, fillOpacity: opacity, color: "#ffffff", weight: 0.6, opacity: 0.9,
                renderer: areaRenderer, pane: "gtAreas"};
      }
      var group = lazy(function (group) {
        polygons(spec_, style).forEach(function (path) { group.addLayer(path); });
      });
      bindTip(group, spec_.tooltip);
      group.on("mouseover", function (e) {
        var path = e.propagatedFrom || e.layer;
        path.setStyle({weight: 2.5, color: "#000000"});
        path.bringToFront();
      });
      group.on("mouseout", function (e) {
        var path = e.propagatedFrom || e.layer;
        path.setStyle(style(path.gtRow));
      });
      return group;
    }

    function outlineLayer(spec_) {
      var labels = spec_.labels;
      var labelClass = "gt-label gt-label-" + spec_.name.replace(/[^A-Za-z0-9]+/g, "-");
      var style = L.extend({pane: "gtOutlines", interactive: !!spec_.tooltip,
                            className: spec_.tooltip ? "gt-outline-interactive" : ""}, spec_.style);
      var group = lazy(function (group) {
        var paths = polygons(spec_, function () { return style; });
        paths.forEach(function (path) { group.addLayer(path); });
        if (labels) {
          var text = cols[labels.text], lat = cols[labels.lat], lon = cols[labels.lon];
          var area = {};  // rows' extent (degrees squared): larger areas' labels are placed first
          paths.forEach(function (path) {
            var b = path.getBounds();
            area[path.gtRow] = (b.getNorth() - b.getSouth()) * (b.getEast() - b.getWest());
          });
          group.gtLabels = [];
          for (var i = 0; i < text.length; i++) {
            if (!text[i]) { continue; }
            var span = el("span", text[i]);
            span.style.fontSize = labels.size + "px";
            var marker = L.marker([lat[i], lon[i]], {
              pane: "gtLabels", interactive: false, keyboard: false,
              icon: L.divIcon({className: labelClass, html: span, iconSize: null})
            });
            group.gtLabels.push({marker: marker, span: span, size: labels.size, area: area[i] || 0,
                                 minZoom: labels.minZoom});
            group.addLayer(marker);
          }
        }
      });
      if (labels) {
        state.labelGroups.push(group);
        group.on("add remove", function () { placeLabels(); });
      }
      bindTip(group, spec_.tooltip);
      if (spec_.tooltip) {
        // The areas below are drawn on a canvas, which does not see the pointer move onto
        // this line: end their hover (highlight and tooltip) so only one tooltip shows.
        group.on("mouseover", function (e) {
          if (areaRenderer._hoveredLayer) { areaRenderer._handleMouseOut(e.originalEvent); }
        });
      }
      return group;
    }

    /* Show the labels of the shown outline layers that fit: bigger type first, then larger areas;
     * a label whose box would touch one already placed is hidden (until a zoom makes room), as is
     * every label of a layer below its minZoom. Runs after every move, zoom and layer change. */
    function placeLabels() {
      if (map._animatingZoom) { return; }  // placed again when the zoom ends (moveend)
      var size = map.getSize(), zoom = map.getZoom(), items = [];
      state.labelGroups.forEach(function (g) {
        if (!g.gtLabels) { return; }
        var on = map.hasLayer(g);
        g.gtLabels.forEach(function (lab) {
          if (on && !(lab.minZoom && zoom < lab.minZoom)) { items.push(lab); } else { lab.span.style.display = "none"; }
        });
      });
      var unmeasured = items.filter(function (lab) { return lab.w === undefined; });
      unmeasured.forEach(function (lab) { lab.span.style.display = ""; });
      unmeasured.forEach(function (lab) { lab.w = lab.span.offsetWidth; lab.h = lab.span.offsetHeight; });
      items.sort(function (a, b) { return b.size - a.size || b.area - a.area; });
      var cell = 64, grid = {}, pad = 3;
      function collides(box, add) {
        var hit = false;
        for (var cx = Math.floor(box[0] / cell); cx <= Math.floor(box[2] / cell); cx++) {
          for (var cy = Math.floor(box[1] / cell); cy <= Math.floor(box[3] / cell); cy++) {
            var key = cx + ":" + cy, list = grid[key];
            if (add) { (grid[key] = list || []).push(box); continue; }
            for (var k = 0; list && k < list.length && !hit; k++) {
              var o = list[k];
              hit = box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3];
            }
          }
        }
        return hit;
      }
      items.forEach(function (lab) {
        var p = map.latLngToContainerPoint(lab.marker.getLatLng());
        var box = [p.x - lab.w / 2 - pad, p.y - lab.h / 2 - pad, p.x + lab.w / 2 + pad, p.y + lab.h / 2 + pad];
        var inView = box[2] > 0 && box[3] > 0 && box[0] < size.x && box[1] < size.y;
        var show = inView && !collides(box, false);
        if (show) { collides(box, true); }
        lab.span.style.display = show ? "" : "none";
      });
    }
    state.placeLabels = placeLabels;
    map.on("moveend resize", placeLabels);

    function pointLayer(spec_) {
      var lat = cols[spec_.lat], lon = cols[spec_.lon];
      var classes = spec_.cls === null ? null : cols[spec_.cls];
      var names = spec_.label !== undefined ? cols[spec_.label] : null;
      var group = spec_.cluster ? L.markerClusterGroup({
        showCoverageOnHover: false, maxClusterRadius: 40, chunkedLoading: true,
        iconCreateFunction: function (cluster) {
          var span = el("span", String(cluster.getChildCount()));
          return L.divIcon({className: "gt-cluster", html: span, iconSize: L.point(32, 32)});
        }
      }) : L.featureGroup();
      var markers = [];
      for (var i = 0; i < lat.length; i++) {
        var c = classes === null ? 0 : classes[i];
        var known = c !== null && c !== undefined;
        var fill = known ? spec_.colors[c] : spec.noData;
        var icon = el("div", known ? spec_.icons[c] : "", "gt-marker-symbol");
        icon.style.background = fill;
        icon.style.color = known ? spec_.textColors[c] : "#000000";
        var marker = L.marker([lat[i], lon[i]], {
          icon: L.divIcon({className: "gt-marker", html: icon, iconSize: L.point(22, 22)}),
          keyboard: true, title: names ? names[i] : ""
        });
        if (names) { marker.bindTooltip(el("span", names[i]), {direction: "top", offset: [0, -10]}); }
        if (spec_.popup) {
          (function (row) {
            marker.bindPopup(function () { return tipContent(spec_.popup, cols, row); }, {className: "gt-popup"});
          })(i);
        }
        markers.push(marker);
      }
      if (spec_.cluster) { group.addLayers(markers); } else { markers.forEach(function (m) { group.addLayer(m); }); }
      group.gtMarkers = markers;
      return group;
    }

    /* Base layers: OpenStreetMap tiles (when allowed) and a blank one. */
    var bases = {};
    if (spec.tiles) {
      bases.OpenStreetMap = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
        maxZoom: spec.maxZoom || 19, minZoom: spec.minZoom || 0, attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
      });
    }
    // A blank base layer. Without tiles no layer states a zoom range: the map's own limits (set above)
    // are what marker clustering reads.
    bases["No basemap"] = L.layerGroup([], {minZoom: spec.minZoom || 0, maxZoom: spec.maxZoom || 19});
    bases[spec.tiles ? "OpenStreetMap" : "No basemap"].addTo(map);

    var overlays = {};
    spec.layers.forEach(function (layer) {
      var made = layer.kind === "fill" ? fillLayer(layer)
        : layer.kind === "outline" ? outlineLayer(layer) : pointLayer(layer);
      made.gtSpec = layer;
      overlays[layer.name] = made;
      state.layers[layer.name] = made;
    });
    /* Layers of one exclusive group (the deciles) are alternatives: showing one hides the others. */
    spec.layers.forEach(function (layer) {
      if (!layer.exclusive) { return; }
      overlays[layer.name].on("add", function () {
        spec.layers.forEach(function (other) {
          if (other.exclusive === layer.exclusive && other.name !== layer.name && map.hasLayer(overlays[other.name])) {
            map.removeLayer(overlays[other.name]);
          }
        });
      });
    });

    /* Title box: title, vintage, notes, parameters. */
    var title = L.control({position: "topright"});
    title.onAdd = function () {
      var box = el("div", null, "gt-box gt-title");
      el("h1", spec.title, null, box);
      if (spec.vintage) { el("div", spec.vintage, "gt-vintage", box); }
      if (spec.notes) { el("div", spec.notes, "gt-notes", box); }
      if (spec.parameters.length) {
        var list = el("div", null, "gt-parameters", box);
        spec.parameters.forEach(function (p) { el("div", p[0] + ": " + p[1], null, list); });
      }
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    title.addTo(map);

    state.layerControl = new TextLayers(bases, overlays, {collapsed: false, position: "topright"}).addTo(map);

    /* One legend panel; each section is shown while one of its layers is on the map. */
    var legendControl = L.control({position: "bottomleft"});
    legendControl.onAdd = function () {
      var panel = el("div", null, "gt-box gt-legend");
      spec.legends.forEach(function (lg) {
        var section = el("div", null, "gt-legend-section", panel);
        section.setAttribute("data-layers", JSON.stringify(lg.layers));
        var single = lg.items.length === 1 && lg.items[0][2] === lg.title;
        var heading = el("div", lg.title, "gt-legend-title" + (single ? " gt-legend-title-only" : ""), section);
        lg.items.forEach(function (item) {
          var row = el("div", null, "gt-legend-row" + (single ? " gt-legend-single" : ""), section);
          var kind = item[0].split(":")[0];
          var swatch = el("span", null, "gt-swatch gt-swatch-" + kind, row);
          if (kind === "line") {
            swatch.style.borderTopColor = item[1];
            if (item[0].indexOf(":") > 0) { swatch.style.borderTopStyle = "dashed"; }
          } else {
            swatch.style.background = item[1];
          }
          row.appendChild(document.createTextNode(item[2]));
        });
        var layers = lg.layers.map(function (name) { return state.layers[name]; });
        var update = function () {
          var on = layers.some(function (layer) { return map.hasLayer(layer); });
          section.style.display = on ? "" : "none";
          if (lg.titles) {  // name the layer shown (e.g. which decile layer)
            for (var k = 0; k < layers.length; k++) {
              if (map.hasLayer(layers[k])) { heading.textContent = lg.titles[k]; break; }
            }
          }
          var any = Array.prototype.some.call(panel.children, function (s) { return s.style.display !== "none"; });
          panel.style.display = any ? "" : "none";
        };
        layers.forEach(function (layer) { layer.on("add remove", update); });
        state.legends.push({section: section, layers: lg.layers, update: update});
      });
      L.DomEvent.disableClickPropagation(panel);
      L.DomEvent.disableScrollPropagation(panel);
      return panel;
    };
    legendControl.addTo(map);
    L.control.scale({position: "bottomleft", imperial: false}).addTo(map);

    if (map.attributionControl) {
      map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
      map.attributionControl.addAttribution(htmlText(spec.attribution));
    }

    /* Tools: fullscreen, measure, print, search, minimap. */
    if (L.Control.FullScreen) {
      new L.Control.FullScreen({position: "topleft", title: "Full screen", titleCancel: "Exit full screen"}).addTo(map);
    }
    if (L.control.polylineMeasure) {
      state.measure = L.control.polylineMeasure({position: "topleft", unit: "kilometres", showBearings: false,
                                 clearMeasurementsOnStop: false, showClearControl: true,
                                 measureControlTitleOn: "Measure a distance",
                                 measureControlTitleOff: "Stop measuring"}).addTo(map);
    }
    var print = L.control({position: "topleft"});
    print.onAdd = function () {
      var bar = el("div", null, "leaflet-bar gt-print");
      var a = el("a", null, "gt-print-button", bar);
      a.href = "#";
      a.title = "Print this view";
      a.setAttribute("role", "button");
      L.DomEvent.on(a, "click", function (e) { L.DomEvent.preventDefault(e); window.print(); });
      L.DomEvent.disableClickPropagation(bar);
      return bar;
    };
    print.addTo(map);
    state.search = searchControl(map, spec, cols, state, geometries);

    var mini = null;
    if (L.Control.MiniMap) {
      var miniLayers = L.layerGroup();
      if (spec.tiles) {
        miniLayers.addLayer(L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {maxZoom: 19}));
      }
      var firstOutline = spec.layers.filter(function (l) { return l.kind === "outline"; }).pop();
      if (firstOutline) {
        polygons(firstOutline, function () {
          return {color: "#333333", weight: 1, fill: false, interactive: false};
        }).forEach(function (path) { miniLayers.addLayer(path); });
      }
      mini = new L.Control.MiniMap(miniLayers, {position: "bottomright", toggleDisplay: true,
                                                width: 130, height: 130, zoomLevelOffset: -5,
                                                strings: {hideText: "Hide overview", showText: "Show overview"}});
      mini.addTo(map);
      mini.on("toggle", function () { state.layerControl._fit(); });
    }
    state.minimap = mini;

    map.fitBounds(spec.bounds, {animate: false});  // first, so the layers are projected once
    spec.layers.forEach(function (layer) { if (layer.show) { overlays[layer.name].addTo(map); } });
    state.legends.forEach(function (lg) { lg.update(); });
    map.on("resize", function () { state.layerControl._fit(); });
    state.layerControl._fit();
    placeLabels();
    return state;
  }

  /* Text as searched: upper case, without spaces. */
  function squash(text) { return String(text).toUpperCase().replace(/\s+/g, ""); }

  /* Search box over LSOAs, wards and named points (leaflet-search with our own index). */
  function searchControl(map, spec, cols, state, geometries) {
    if (!L.Control.Search) { return null; }
    var records = null, squashed = null, squashedOf = null;
    function searchKeys(all) {
      if (squashedOf !== all) {
        squashedOf = all;
        squashed = Object.keys(all).map(function (key) { return [key, squash(key)]; });
      }
      return squashed;
    }
    var highlight = L.layerGroup().addTo(map);
    function add(entry, target, n, where) {
      var texts = entry.text.map(function (c) { return cols[c]; });
      for (var i = 0; i < n; i++) {
        var words = texts.map(function (t) { return t[i]; }).filter(function (t) { return t; });
        if (!words.length) { continue; }
        var ll = where(i);
        if (!ll) { continue; }
        var base = words.join(" ") + " — " + entry.kind, key = base, k = 2;
        while (Object.prototype.hasOwnProperty.call(records, key)) { key = base + " (" + (k++) + ")"; }
        ll.gtTarget = target(i);
        records[key] = ll;
      }
    }
    function index() {
      if (records) { return records; }
      records = {};
      spec.layers.forEach(function (layer) {
        if (layer.search === null || layer.search === undefined) { return; }
        var entry = spec.search[layer.search];
        if (layer.kind === "points") {
          add(entry, function (i) { return {layer: layer, row: i}; }, cols[layer.lat].length, function (i) {
            return L.latLng(cols[layer.lat][i], cols[layer.lon][i]);
          });
        } else {
          var geoms = geometries(layer.geom);
          var n = layer.rows ? layer.rows.length : geoms.length;
          add(entry, function (i) {
            return {layer: layer, row: i, geometry: geoms[layer.rows ? layer.rows[i] : i]};
          }, n, function (i) {
            var g = geoms[layer.rows ? layer.rows[i] : i];
            return g ? L.latLngBounds(g.flat(2)).getCenter() : null;
          });
        }
      });
      spec.search.forEach(function (entry) {  // places to find that are not drawn (postcodes)
        if (entry.lat === undefined) { return; }
        add(entry, function (i) { return {kind: entry.kind, row: i}; }, cols[entry.lat].length, function (i) {
          return L.latLng(cols[entry.lat][i], cols[entry.lon][i]);
        });
      });
      return records;
    }
    function moveTo(latlng) {
      var t = latlng.gtTarget;
      highlight.clearLayers();
      if (t && t.geometry) {
        var shape = L.polygon(shapeOf(t.geometry), {pane: "gtHighlight", interactive: false,
                                                   color: "#ff00ff", weight: 4, fill: false});
        highlight.addLayer(shape);
        map.fitBounds(shape.getBounds(), {maxZoom: 16});
      } else if (t && !t.layer) {
        highlight.addLayer(L.circleMarker(latlng, {pane: "gtHighlight", radius: 9, color: "#ff00ff", weight: 3,
                                                   fill: false, interactive: false}));
        map.setView(latlng, 16);
      } else if (t) {
        var layer = state.layers[t.layer.name];
        if (!map.hasLayer(layer)) { layer.addTo(map); }
        var marker = layer.gtMarkers[t.row];
        if (layer.zoomToShowLayer) {
          layer.zoomToShowLayer(marker, function () { marker.openPopup(); });
        } else {
          map.setView(latlng, 16);
          marker.openPopup();
        }
      }
      state.lastSearch = !t ? null : t.layer ? {layer: t.layer.name, row: t.row} : {kind: t.kind, row: t.row};
    }
    var control = new L.Control.Search({
      position: "topleft",
      sourceData: function (text, callResponse) { callResponse(index()); return {abort: function () {}}; },
      formatData: function (data) { return data; },
      filterData: function (text, all) {
        // Case and spaces do not matter ("ts181au" finds "TS18 1AU"); matches at the start come first.
        var needle = squash(text);
        if (!needle) { return {}; }
        var keys = searchKeys(all), first = [], later = [];
        for (var k = 0; k < keys.length && first.length < 15; k++) {
          var at = keys[k][1].indexOf(needle);
          if (at === 0) { first.push(keys[k][0]); } else if (at > 0 && later.length < 15) { later.push(keys[k][0]); }
        }
        var found = {};
        first.concat(later).slice(0, 15).forEach(function (key) { found[key] = all[key]; });
        return found;
      },
      firstTipSubmit: true,  // Enter goes to the first suggestion unless the arrow keys chose another
      buildTip: function (text) { return el("a", text, "gt-search-tip"); },
      moveToLocation: moveTo,
      marker: false,
      initial: false,
      collapsed: false,
      autoCollapse: false,
      autoType: false,
      minLength: 2,
      delayType: 150,
      textPlaceholder: spec.search.some(function (e) { return e.lat !== undefined; })
        ? "Search LSOA, ward, place or postcode…" : "Search LSOA, ward or place…",
      textErr: "Not found",
      textCancel: "Clear"
    });
    control.addTo(map);
    return control;
  }
})();
