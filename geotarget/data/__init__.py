"""geotarget.data."""
