"""geotarget.core."""
