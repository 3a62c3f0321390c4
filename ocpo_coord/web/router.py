"""GET /coord: the coordinators' page, and its script and style under /coord/static.

The page holds no data of its own. Its script asks for a bearer token, keeps it in
sessionStorage (never a cookie, so nothing is sent on the user's behalf by another site)
and reads everything through ``/graphql``: the sharing rule applies unchanged.
"""

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"

# The page's own policy (the security middleware keeps an HTML route's own CSP): its script,
# style and icon from this origin, requests to this origin, nothing inline, nothing else.
# form-action 'none': the sign-in form is handled by the script; were the script not to
# run, the browser must not submit it (the token would land in a URL).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)

_PAGE = (STATIC_DIR / "index.html").read_text(encoding="utf-8")


@router.get("/coord", response_class=HTMLResponse)
async def coordination_page() -> Response:
    """The page shell; the same for every user, so it may be cached and revalidated."""
    return HTMLResponse(
        _PAGE,
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
    )


_ROOT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>ocpo-coord</title></head>
<body>
<h1>ocpo-coord</h1>
<ul>
<li><a href="coord">/coord</a>: the coordinators' page (task board, responsibility matrix, deconfliction)</li>
<li><a href="graphql">/graphql</a>: GraphQL (GraphiQL in a browser where it is turned on)</li>
<li><a href="docs">/docs</a>: the REST API under /api/v1, described at /openapi.json</li>
</ul>
</body>
</html>
"""


@router.get("/", response_class=HTMLResponse)
async def root_page() -> Response:
    """Where to go from the root: the page, GraphQL and the REST description. Links are
    relative, so they hold under a root path too."""
    return HTMLResponse(_ROOT, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})


def install(app: FastAPI) -> None:
    """Adds the page and its static files to the service."""
    app.include_router(router)
    app.mount("/coord/static", StaticFiles(directory=STATIC_DIR), name="coord-static")
