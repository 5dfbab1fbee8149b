"""geotarget.hia.screen."""
