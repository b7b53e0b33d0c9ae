// Starts Swagger UI at /api/docs/ (templates/drf_spectacular/swagger_ui.html). This is
// drf-spectacular's swagger_ui.js (0.30) as a static file, so the page needs no inline script
// under the Content-Security-Policy; the values the original gets from its template are read from
// the data attributes of #swagger-ui.
"use strict";

(() => {
  const root = document.getElementById("swagger-ui");
  const data = root.dataset;
  const parse = (text, fallback) => (text ? JSON.parse(text) : fallback);

  const swaggerSettings = parse(data.settings, {});
  const schemaAuthNames = parse(data.schemaAuthNames, []);
  const oauth2Config = parse(data.oauth2Config, null);
  let schemaAuthFailed = false;
  const plugins = [];
  let ui;

  const reloadSchemaOnAuthChange = () => {
    const reloading = (ori) => (...args) => {
      schemaAuthFailed = false;
      setTimeout(() => ui.specActions.download());
      return ori(...args);
    };
    return {
      statePlugins: {
        auth: {
          wrapActions: {
            authorizeOauth2: reloading,
            authorize: reloading,
            logout: reloading,
          },
        },
      },
    };
  };

  if (schemaAuthNames.length > 0) {
    plugins.push(reloadSchemaOnAuthChange);
  }

  const isSchemaUrl = (url) => {
    if (ui === undefined) {
      return false;
    }
    return url === new URL(ui.getConfigs().url, document.baseURI).href;
  };

  const responseInterceptor = (response) => {
    if (!response.ok && isSchemaUrl(response.url)) {
      console.warn(
        "schema request received '" + response.status +
          "'. disabling credentials for schema till logout.",
      );
      if (!schemaAuthFailed) {
        // only retry once to prevent endless loop.
        schemaAuthFailed = true;
        setTimeout(() => ui.specActions.download());
      }
    }
    return response;
  };

  const injectAuthCredentials = (request) => {
    let authorized;
    if (ui !== undefined) {
      const state = ui.getState().get("auth").get("authorized");
      if (state !== undefined && Object.keys(state.toJS()).length !== 0) {
        authorized = state.toJS();
      }
    } else if (![undefined, "{}"].includes(localStorage.authorized)) {
      authorized = JSON.parse(localStorage.authorized);
    }
    if (authorized === undefined) {
      return;
    }
    for (const authName of schemaAuthNames) {
      const authDef = authorized[authName];
      if (authDef === undefined || authDef.schema === undefined) {
        continue;
      }
      if (authDef.schema.type === "http" && authDef.schema.scheme === "bearer") {
        request.headers["Authorization"] = "Bearer " + authDef.value;
        return;
      } else if (authDef.schema.type === "http" && authDef.schema.scheme === "basic") {
        request.headers["Authorization"] =
          "Basic " + btoa(authDef.value.username + ":" + authDef.value.password);
        return;
      } else if (authDef.schema.type === "apiKey" && authDef.schema.in === "header") {
        request.headers[authDef.schema.name] = authDef.value;
        return;
      } else if (authDef.schema.type === "oauth2" && authDef.token.token_type === "Bearer") {
        request.headers["Authorization"] = `Bearer ${authDef.token.access_token}`;
        return;
      }
    }
  };

  const requestInterceptor = (request) => {
    if (request.loadSpec && schemaAuthNames.length > 0 && !schemaAuthFailed) {
      try {
        injectAuthCredentials(request);
      } catch (e) {
        console.error("schema auth injection failed with error: ", e);
      }
    }
    // selectively omit adding headers to mitigate CORS issues.
    if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
      request.headers[data.csrfHeaderName] = data.csrfToken;
    }
    return request;
  };

  ui = SwaggerUIBundle({
    url: data.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    plugins,
    layout: "BaseLayout",
    requestInterceptor,
    responseInterceptor,
    // No badge from validator.swagger.io: it would send our schema's address to another site,
    // and the Content-Security-Policy refuses its image anyway. SWAGGER_UI_SETTINGS may set it.
    validatorUrl: null,
    ...swaggerSettings,
  });

  if (oauth2Config !== null) {
    ui.initOAuth(oauth2Config);
  }
})();
