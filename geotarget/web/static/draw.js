/* Draw a site boundary on the screening form's map: click to add corners, click the first corner (or
   "Finish boundary") to close it. The polygon is written, as GeoJSON in WGS84 (longitude, latitude), into the
   form's hidden field `site_geojson`. A boundary kept from a previous attempt (the form shown again after an
   error) is drawn back from that field. No HTML is built from strings here: only text and Leaflet layers.
   Written here (about 100 lines on Leaflet's own layers) rather than vendoring a drawing plugin such as
   Leaflet.draw or Leaflet-Geoman: the service needs one operation (click the corners of one polygon), and a
   plugin would add a second vendored library, its CSS and its licence to keep up to date for it. */
(function () {
  "use strict";
  var el = document.getElementById("draw-map");
  if (!el || !window.L) { return; }
  var field = document.getElementById("site_geojson");
  var status = document.getElementById("draw-status");
  var finishBtn = document.getElementById("draw-finish");
  var undoBtn = document.getElementById("draw-undo");
  var clearBtn = document.getElementById("draw-clear");
  var RED = "#d4351c";

  var map = L.map(el, {doubleClickZoom: false});
  var bounds = JSON.parse(el.getAttribute("data-bounds"));
  map.fitBounds(bounds);
  L.tileLayer(el.getAttribute("data-tiles"), {
    maxZoom: 19, attribution: "\u00a9 OpenStreetMap contributors"
  }).addTo(map);

  // Ward outlines under the drawing: the site can be found without background tiles (offline).
  fetch(el.getAttribute("data-areas"), {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (!data) { return; }
      L.geoJSON(data, {
        style: {color: "#1d70b8", weight: 1, opacity: 0.8, fill: true, fillOpacity: 0},
        onEachFeature: function (f, layer) {
          var label = document.createElement("span");
          label.textContent = f.properties.label;
          layer.bindTooltip(label, {sticky: true});
        }
      }).addTo(map).bringToBack();
      el.setAttribute("data-areas-loaded", String(data.features.length));
    })
    .catch(function () { el.setAttribute("data-areas-loaded", "0"); });

  var points = [];        // L.LatLng corners, in drawing order
  var closed = false;     // true once the boundary is finished
  var corners = L.layerGroup().addTo(map);
  var line = L.polyline([], {color: RED, weight: 3, dashArray: "6 4", interactive: false}).addTo(map);
  var shape = L.polygon([], {color: RED, weight: 3, fillOpacity: 0.15, interactive: false}).addTo(map);

  function say(text) { status.textContent = text; }

  function toGeoJSON() {
    var ring = points.map(function (p) { return [round(p.lng), round(p.lat)]; });
    ring.push(ring[0]);
    return JSON.stringify({type: "Polygon", coordinates: [ring]});
  }

  function round(x) { return Math.round(x * 1e7) / 1e7; }

  function redraw() {
    corners.clearLayers();
    points.forEach(function (p, i) {
      var m = L.circleMarker(p, {radius: i === 0 && !closed ? 8 : 5, color: RED, weight: 2, fillColor: "#fff",
                                 fillOpacity: 1, bubblingMouseEvents: false});
      if (i === 0) {
        m.on("click", function () { if (!closed && points.length >= 3) { finish(); } });
      }
      m.addTo(corners);
    });
    if (closed) {
      line.setLatLngs([]);
      shape.setLatLngs(points);
      field.value = toGeoJSON();
      say("Boundary drawn with " + points.length + " corners. It will be screened when you press Screen this site.");
    } else {
      shape.setLatLngs([]);
      line.setLatLngs(points);
      field.value = "";
      if (points.length === 0) {
        say("No boundary drawn. Click on the map to place the first corner.");
      } else if (points.length < 3) {
        say(points.length + (points.length === 1 ? " corner" : " corners") +
            " placed. A boundary needs at least 3.");
      } else {
        say(points.length + " corners placed. Click the first corner or press Finish boundary to close it.");
      }
    }
    finishBtn.disabled = closed || points.length < 3;
    undoBtn.disabled = points.length === 0;
    clearBtn.disabled = points.length === 0;
  }

  function finish() { closed = true; redraw(); }

  map.on("click", function (e) {
    if (closed) { return; }
    points.push(e.latlng);
    redraw();
  });
  finishBtn.addEventListener("click", function () { if (points.length >= 3) { finish(); } });
  undoBtn.addEventListener("click", function () {
    if (closed) { closed = false; } else { points.pop(); }
    redraw();
  });
  clearBtn.addEventListener("click", function () { points = []; closed = false; redraw(); });

  // A boundary kept from the last attempt.
  if (field.value) {
    try {
      var g = JSON.parse(field.value);
      var ring = (g.type === "Feature" ? g.geometry : g).coordinates[0];
      points = ring.slice(0, -1).map(function (c) { return L.latLng(c[1], c[0]); });
      closed = points.length >= 3;
      if (closed) { map.fitBounds(L.latLngBounds(points).pad(0.5)); }
    } catch (err) {
      points = [];
      closed = false;
    }
  }
  redraw();
  el.setAttribute("data-ready", "1");
  window.hiaDrawMap = map;  // for the browser tests
}());
