/* Start Swagger UI on the service's OpenAPI schema (geotarget; a file because the CSP allows no inline script).
   Unsafe requests need the session's CSRF token: it is read from GET /api/me and sent as X-CSRF-Token. */
(function () {
  "use strict";
  var token = null;
  function refreshToken() {
    return fetch("/api/me", {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (me) {
      token = me ? me.csrf_token : null;
    }).catch(function () { token = null; });
  }
  refreshToken();
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    requestInterceptor: function (req) {
      if (token && req.method && req.method.toUpperCase() !== "GET") {
        req.headers["X-CSRF-Token"] = token;
      }
      return req;
    },
    responseInterceptor: function (res) {
      if (res.url && /\/api\/(login|logout)$/.test(res.url)) {
        refreshToken();
      }
      return res;
    }
  });
}());
