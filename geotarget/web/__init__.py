"""The HIA web service (``geotarget serve``): screen a site, complete the HUDU assessment, review and evaluate.

The layer above :mod:`geotarget.study` and below :mod:`geotarget.cli`: it uses the HIA screening,
its reports and the data loader, and nothing below imports it.
"""
