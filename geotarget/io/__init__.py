"""geotarget.io."""
