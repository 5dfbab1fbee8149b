"""geotarget.render."""
