"""geotarget.analysis."""
