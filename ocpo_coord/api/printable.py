"""Printable pages (handover report, case file) carry their one stylesheet inline.

The API's own policy forbids every style, so each page sends a policy admitting exactly
its stylesheet, by hash, and nothing else: no script, no other source, no framing.
"""

import base64
import hashlib


def style_only_csp(style: str) -> str:
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
    return (
        "default-src 'none'; "
        f"style-src 'sha256-{digest}'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
