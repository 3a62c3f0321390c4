"""The Keycloak realm export that `docker compose --profile keycloak up` imports: what the
service needs from it to sign the demo's users in with no manual step."""

import json
from pathlib import Path
from typing import Any

import yaml

from ocpo_coord.models.enums import Role

ROOT = Path(__file__).resolve().parents[2]
REALM = ROOT / "keycloak" / "ocpo-realm.json"


def realm() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(REALM.read_text(encoding="utf-8"))
    return loaded


def test_the_realm_is_the_issuer_the_compose_service_trusts() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    settings = services["app-keycloak"]["environment"]
    assert settings["OCPO_OIDC_ISSUER"] == f"http://keycloak:8080/realms/{realm()['realm']}"
    assert realm()["enabled"] is True
    keycloak = services["keycloak"]
    assert "--import-realm" in keycloak["command"]
    assert any(
        volume.startswith("./keycloak/ocpo-realm.json:/opt/keycloak/data/import/")
        for volume in keycloak["volumes"]
    )


def test_access_tokens_carry_the_configured_audience() -> None:
    audience = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"][
        "app-keycloak"
    ]["environment"]["OCPO_JWT_AUDIENCE"]
    clients = {c["clientId"]: c for c in realm()["clients"]}
    client = clients[audience]
    assert client["enabled"] is True
    assert client["protocol"] == "openid-connect"
    # The demo signs in with a password from the command line, or in a browser with PKCE.
    assert client["directAccessGrantsEnabled"] is True
    assert client["publicClient"] is True
    mappers = [m for m in client["protocolMappers"] if m["protocolMapper"] == "oidc-audience-mapper"]
    assert len(mappers) == 1
    config = mappers[0]["config"]
    assert config["included.client.audience"] == audience
    assert config["access.token.claim"] == "true"
    # Only access tokens sign in; ID tokens need not name the API.
    assert config["id.token.claim"] == "false"


def test_every_product_role_is_a_realm_role() -> None:
    names = [r["name"] for r in realm()["roles"]["realm"]]
    assert sorted(names) == sorted(role.value for role in Role)


def test_every_demo_user_can_sign_in_with_their_roles() -> None:
    demo = json.loads((ROOT / "seed" / "demo.json").read_text(encoding="utf-8"))["users"]
    users = {u["username"]: u for u in realm()["users"]}
    assert sorted(users) == sorted(u["login"] for u in demo)
    for person in demo:
        user = users[person["login"]]
        assert user["enabled"] is True
        assert user["emailVerified"] is True
        assert user["firstName"]
        assert user["lastName"]
        assert [c["type"] for c in user["credentials"]] == ["password"]
        assert user["credentials"][0]["temporary"] is False
        assert sorted(user["realmRoles"]) == sorted(person["roles"])
