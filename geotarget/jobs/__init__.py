"""geotarget.jobs."""
