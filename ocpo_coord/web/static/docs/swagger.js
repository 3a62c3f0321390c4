// Swagger UI started from a file of the package (the page's CSP allows no inline script).
// The description's URL is the script element's data-openapi-url, relative to the page.
(function () {
  "use strict";
  const url = new URL(document.currentScript.dataset.openapiUrl, window.location.href).toString();
  window.ui = SwaggerUIBundle({
    url: url,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
