"""OpenAPI document with problem+json error responses, and a self-hosted Swagger UI under a strict CSP."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict

from service.errors import PROBLEM_JSON

DOCS_ASSETS = "/docs/assets"
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


class ProblemItem(BaseModel):
    """One field-level problem (a failed validation or a missing gate item)."""

    model_config = ConfigDict(extra="allow")

    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; extension members (e.g. current_stage) may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemItem] = []


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def declare_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every error as problem+json: 422 replaced, any other non-success status as `default`."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(Problem.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {}))
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    # FastAPI's HTTPValidationError describes a body this service never sends (RequestValidationError -> problem+json).
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = _problem_response("Ogiltiga uppgifter / Validation failed")
            responses["default"] = _problem_response("Fel som problem+json (401, 403, 404, 409, 413, 415, 428, 429, 503) / Error")
    return schema


def install_openapi(app: FastAPI) -> None:
    """Replace app.openapi with a cached generator that declares the problem+json responses."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_problems(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes,
                openapi_version=app.openapi_version, tags=app.openapi_tags,
            ))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _script_hashes(*pages: bytes) -> str:
    """CSP source expressions for the inline scripts of the pages (so no 'unsafe-inline' is needed)."""
    out = []
    for page in pages:
        for body in re.findall(rb"<script>(.*?)</script>", page, flags=re.S):
            out.append("'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'")
    return " ".join(out)


def install_docs(app: FastAPI, *, docs_url: str = "/docs") -> None:
    """Serve Swagger UI from the installed swagger-ui bundle: no request leaves for a CDN."""
    from swagger_ui_bundle import swagger_ui_path

    redirect_url = f"{docs_url}/oauth2-redirect"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} – API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png", oauth2_redirect_url=redirect_url,
        init_oauth=app.swagger_ui_init_oauth, swagger_ui_parameters=app.swagger_ui_parameters,
    ).body
    redirect = get_swagger_ui_oauth2_redirect_html().body
    # Swagger UI renders inline style attributes, hence 'unsafe-inline' for styles only, on these pages only.
    csp = (f"default-src 'none'; script-src 'self' {_script_hashes(page, redirect)}; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
           "form-action 'self'")
    headers = {"Content-Security-Policy": csp, "Cache-Control": "no-cache"}

    @app.get(docs_url, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    @app.get(redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return HTMLResponse(redirect, headers=headers)
