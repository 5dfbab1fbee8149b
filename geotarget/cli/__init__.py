"""geotarget.cli.main."""
