"""Vendored Leaflet and plugin JavaScript and CSS for the map page (package data; see ``MANIFEST.json``)."""
