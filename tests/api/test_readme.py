"""The README lists every route the API serves and every setting it reads, so neither is found only by accident."""

from __future__ import annotations

import re

from kb.config import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_lists_every_setting() -> None:
    missing = [f"KB_{name.upper()}" for name in Settings.model_fields if f"KB_{name.upper()}" not in README]
    assert not missing, f"README.md does not mention {missing}"


def test_the_readme_lists_every_route(client) -> None:
    listed = set(re.findall(r"^(?:GET|POST)\s+(/\S+?)(?:\?\S*)?(?:,| |$)", README, flags=re.MULTILINE))
    # /mcp is a plain ASGI endpoint, outside the OpenAPI schema.
    served = {*client.app.openapi()["paths"], "/mcp"}
    assert any(getattr(route, "path", None) == "/mcp" for route in client.app.router.routes)
    def shape(path: str) -> str:  # /services/{service_id} and /services/{id} are one route
        return re.sub(r"\{[^}]*\}", "{}", path)

    missing = sorted(path for path in served if shape(path) not in {shape(p) for p in listed})
    assert not missing, f"README.md's route list lacks {missing}"
