/* The dashboard's map of sites: GeoJSON (WGS84) from the URL in the map's data-url, one feature per submission
   with properties {id, name, status, ward, url}. Popups are built as DOM nodes with textContent, so a site
   name is always text. */
(function () {
  "use strict";
  var el = document.getElementById("sites-map");
  if (!el || !window.L) { return; }
  var note = document.getElementById("sites-map-note");
  var COLOURS = {draft: "#505a5f", submitted: "#1d70b8", returned: "#f47738", accepted: "#00703c"};
  var map = L.map(el);
  map.fitBounds(JSON.parse(el.getAttribute("data-bounds")));
  L.tileLayer(el.getAttribute("data-tiles"), {
    maxZoom: 19, attribution: "\u00a9 OpenStreetMap contributors"
  }).addTo(map);

  // Ward outlines under the sites: the map reads without background tiles (offline).
  fetch(el.getAttribute("data-areas"), {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) {
      if (data) {
        L.geoJSON(data, {style: {color: "#1d70b8", weight: 1, opacity: 0.6, fill: false}, interactive: false})
          .addTo(map).bringToBack();
      }
    })
    .catch(function () { return null; });

  function popup(p) {
    var box = document.createElement("div");
    var a = document.createElement("a");
    a.href = p.url;
    a.textContent = p.name;
    var line = document.createElement("div");
    line.textContent = p.status + (p.ward ? " \u2013 " + p.ward : "");
    box.appendChild(a);
    box.appendChild(line);
    return box;
  }

  fetch(el.getAttribute("data-url"), {credentials: "same-origin", headers: {"Accept": "application/geo+json"}})
    .then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.json();
    })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        style: function (f) { return {color: COLOURS[f.properties.status] || "#0b0c0c", weight: 3, fillOpacity: 0.2}; },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {radius: 7, color: "#0b0c0c", weight: 1,
                                         fillColor: COLOURS[f.properties.status] || "#0b0c0c", fillOpacity: 0.9});
        },
        onEachFeature: function (f, l) { l.bindPopup(popup(f.properties)); }
      }).addTo(map);
      var n = data.features.length;
      if (n) { map.fitBounds(layer.getBounds().pad(0.2), {maxZoom: 14}); }
      note.textContent = n === 1 ? "1 site on the map." : n + " sites on the map.";
      el.setAttribute("data-features", String(n));
    })
    .catch(function (err) {
      note.textContent = "The map of sites could not be loaded (" + err.message + "). The tables below are complete.";
      el.setAttribute("data-features", "error");
    });
}());
