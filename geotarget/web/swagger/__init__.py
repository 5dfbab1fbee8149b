"""Vendored Swagger UI (npm ``swagger-ui-dist``, Apache-2.0) for the offline API page ``/docs`` (see ``MANIFEST.json``).

``init.js`` is geotarget's: it starts Swagger UI on ``/openapi.json`` (a file, as the service's CSP allows
no inline script). The source-map comments were removed from the bundle and the CSS (the maps are not shipped).
"""
