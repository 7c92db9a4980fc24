// Swagger UI on the local OpenAPI spec (an external file, so the page works under script-src 'self').
window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
