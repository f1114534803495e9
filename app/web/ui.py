"""The browser pages built from `frontend/` (Vite) into `app/static/dist`: the dashboard at
/dashboard, GraphiQL on a browser's GET /graphql, and their scripts and styles under /ui/.
Everything comes from the package, so the pages work offline. A checkout whose bundle was not
built (`make frontend`) answers 503 with a text that says so, instead of failing."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

BUNDLE_DIR = Path(__file__).parent.parent / "static" / "dist"
NOT_BUILT = (
    "The dashboard and GraphiQL pages are not built in this checkout: run `make frontend` "
    "(npm ci, codegen and vite build into app/static/dist). "
    "The API at /graphql works without them.\n"
)


def page(request: Request, name: str) -> Response:
    """One of the built HTML pages (`dashboard.html`, `graphiql.html`), or the 503."""
    path: Path = request.app.state.bundle_dir / name
    try:
        html = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PlainTextResponse(NOT_BUILT, status_code=503)
    # A rebuilt bundle has new asset names: the page itself is never cached.
    return HTMLResponse(html, headers={"cache-control": "no-cache"})


async def dashboard(request: Request) -> Response:
    return page(request, "dashboard.html")


class BundleAssets(StaticFiles):
    """The bundle's files, named by content hash (cached for good); 503 when not built."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, check_dir=False)
        self.bundle_dir = directory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.bundle_dir.is_dir():
            await PlainTextResponse(NOT_BUILT, status_code=503)(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if response.status_code == 200 and Path(full_path).parent.name == "assets":
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response
