"""geotarget's own JavaScript and CSS for the map page (package data)."""
