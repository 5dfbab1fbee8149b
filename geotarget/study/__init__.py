"""geotarget.study.schema."""
