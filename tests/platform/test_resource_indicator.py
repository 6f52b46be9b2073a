"""RFC 8707 resource indicators: a token for another API, which the ATOM API must refuse."""

from __future__ import annotations

import httpx
import jwt


def _token(base_url: str, **extra: str) -> httpx.Response:
    return httpx.post(f"{base_url}/api/auth/token", auth=("sloguard-ci", "sloguard-ci-secret"),
                      data={"grant_type": "client_credentials", **extra})


def test_resource_names_the_audience_and_the_api_refuses_it(platform) -> None:
    response = _token(platform.base_url, resource="atom-analytics")
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == "atom-analytics"
    api = httpx.get(f"{platform.base_url}/api/slack/messages", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    own = _token(platform.base_url, resource="atom-api").json()["access_token"]
    ok = httpx.get(f"{platform.base_url}/api/slack/messages", headers={"Authorization": f"Bearer {own}"})
    assert ok.status_code == 200


def test_unknown_resource_is_invalid_target(platform) -> None:
    response = _token(platform.base_url, resource="https://evil.example")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
