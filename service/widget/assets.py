"""The widget's script and a demo host page, served without a key (they are public)."""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from matching.taxonomy import taxonomy

router = APIRouter(tags=["widget"])


FIELDS_SLOT = b"/*FIELDS*/ []"


@cache
def widget_script() -> bytes:
    """The widget's JavaScript as shipped in the package, with the fields of the
    taxonomy written in (the field filter needs no request of its own)."""
    script = resources.files("service.widget").joinpath("static/widget.js").read_bytes()
    fields = [field.as_dict() for field in taxonomy().fields.values()]
    return script.replace(FIELDS_SLOT, json.dumps(fields, ensure_ascii=False).encode(), 1)


@router.get(
    "/widget.js",
    response_class=Response,
    responses={200: {"content": {"text/javascript": {}}}},
    summary="The widget's script",
)
def script() -> Response:
    """One script tag embeds the widget (see the demo page); no key needed to load it."""
    return Response(
        widget_script(),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/widget/demo", response_class=HTMLResponse, summary="A demo host page")
def demo(
    request: Request,
    key: Annotated[str, Query(max_length=100, pattern=r"^pk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$")],
    lang: Annotated[str, Query(pattern="^(cs|en)$")] = "cs",
    region: Annotated[str | None, Query(pattern="^CZ0[0-9]{2}$")] = None,
) -> HTMLResponse:
    """A page embedding the widget with a widget key whose allowed origins include this
    service's own origin: ``/widget/demo?key=pk_…&lang=en&region=CZ064``."""
    src = html.escape(str(request.url_for("script")), quote=True)
    attributes = f'data-key="{html.escape(key)}" data-lang="{lang}"'
    if region:
        attributes += f' data-region="{region}"'
    return HTMLResponse(
        f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>partnermatch widget</title></head>
<body><h1>partnermatch</h1>
<div data-partnermatch></div>
<script src="{src}" {attributes} async></script>
</body></html>"""
    )
