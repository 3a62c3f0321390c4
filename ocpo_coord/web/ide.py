"""GraphiQL at /graphql, Swagger UI at /docs and ReDoc at /redoc, from the package alone.

A mission's network is usually closed: no page may load anything from a CDN. GraphiQL's
files are vendored under ``static/ide`` (npm's published files, licences beside them);
Swagger UI's and ReDoc's come from the ``fastapi-offline`` package. The pages hold no
inline script or style, so their Content-Security-Policy allows scripts and styles from
'self' only (ReDoc excepted: it styles itself at run time, see ``redoc_policy``).
Script and stylesheet tags keep the published files' SHA-384 digests (``integrity``):
a changed file is refused by the browser.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
IDE_STATIC = "/static/ide"
DOCS_STATIC = "/static/docs"
VENDOR_STATIC = "/static/swagger-ui"

# The digests strawberry-graphql pins for the same files on unpkg.
_IDE_FILES = {
    "react.production.min.js": "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    "react-dom.production.min.js": "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    "graphiql.min.css": "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    "plugin-explorer.css": "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    "graphiql.min.js": "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    "plugin-explorer.umd.js": "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
}


def _script(name: str) -> str:
    return f'<script src="static/ide/{name}" integrity="{_IDE_FILES[name]}"></script>'


def _style(name: str) -> str:
    return f'<link rel="stylesheet" href="static/ide/{name}" integrity="{_IDE_FILES[name]}" />'


# Links are relative to the page (/graphql, /docs, /redoc): they hold under a root path.
GRAPHIQL_PAGE = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>ocpo-coord GraphiQL</title>
    <link rel="icon" href="coord/static/icon.svg" />
    {_style("graphiql.min.css")}
    {_style("plugin-explorer.css")}
    <link rel="stylesheet" href="static/ide/graphiql.css" />
  </head>
  <body>
    <div id="graphiql">Loading...</div>
    {_script("react.production.min.js")}
    {_script("react-dom.production.min.js")}
    {_script("graphiql.min.js")}
    {_script("plugin-explorer.umd.js")}
    <script src="static/ide/graphiql.js"></script>
  </body>
</html>
"""

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>ocpo-coord - Swagger UI</title>
    <link rel="icon" href="static/swagger-ui/favicon.png" />
    <link rel="stylesheet" href="static/swagger-ui/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="static/swagger-ui/swagger-ui-bundle.js"></script>
    <script src="static/docs/swagger.js" data-openapi-url="openapi.json"></script>
  </body>
</html>
"""

REDOC_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>ocpo-coord - ReDoc</title>
    <link rel="icon" href="static/swagger-ui/favicon.png" />
  </head>
  <body>
    <redoc spec-url="openapi.json"></redoc>
    <script src="static/swagger-ui/redoc.standalone.js"></script>
  </body>
</html>
"""


def _policy(**directives: list[str]) -> str:
    base = {"default_src": ["'none'"], "base_uri": ["'none'"], "form_action": ["'self'"]}
    merged = {**base, **directives, "frame_ancestors": ["'none'"]}
    return "; ".join(f"{name.replace('_', '-')} {' '.join(values)}" for name, values in merged.items())


GRAPHIQL_POLICY = _policy(
    script_src=["'self'"],
    style_src=["'self'"],
    img_src=["'self'", "data:"],
    font_src=["data:"],  # graphiql.min.css embeds its fonts
    connect_src=["'self'"],  # operations go to this same URL
)
SWAGGER_POLICY = _policy(
    script_src=["'self'"],
    style_src=["'self'"],
    img_src=["'self'", "data:"],  # swagger-ui.css has data: icons
    connect_src=["'self'"],  # the OpenAPI document and "Try it out"
)
# ReDoc styles itself at run time (styled-components inserts <style> elements), so its
# styles need 'unsafe-inline'; its scripts are 'self' only, and it loads nothing else.
REDOC_POLICY = _policy(
    script_src=["'self'"],
    style_src=["'self'", "'unsafe-inline'"],
    img_src=["'self'", "data:"],
    connect_src=["'self'"],
    worker_src=["blob:"],  # its search index runs in a worker built from a blob
)


def install_docs(app: FastAPI, *, docs_url: str | None, redoc_url: str | None) -> None:
    """The description's pages and their static files."""
    vendor = files("fastapi_offline") / "static"
    app.mount(VENDOR_STATIC, StaticFiles(directory=str(vendor)), name="swagger-ui-static")
    app.mount(DOCS_STATIC, StaticFiles(directory=STATIC_DIR / "docs"), name="docs-static")

    async def swagger(_: Request) -> HTMLResponse:
        return HTMLResponse(SWAGGER_PAGE)

    async def redoc(_: Request) -> HTMLResponse:
        return HTMLResponse(REDOC_PAGE)

    if docs_url:
        app.add_route(docs_url, swagger, include_in_schema=False)
    if redoc_url:
        app.add_route(redoc_url, redoc, include_in_schema=False)


def install_ide(app: FastAPI) -> None:
    app.mount(IDE_STATIC, StaticFiles(directory=STATIC_DIR / "ide"), name="ide-static")
