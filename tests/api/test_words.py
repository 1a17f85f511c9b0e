"""Each product's own words over the API (issue 14, item 2): `GET .../schema` returns the
words the admin UI and the CSV exports use, per workspace; the OpenAPI descriptions stay
product-neutral."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, make_tenant


def _words(api: Api, preset: str) -> dict[str, Any]:
    t = make_tenant(api, preset)
    r = t.api.get(t.url("/schema"))
    assert r.status_code == 200, r.text
    words: dict[str, Any] = r.json()["words"]
    return words


def test_T3_telephony_words_are_standard_custom_and_license(api: Api) -> None:
    w = _words(api, "telephony")
    assert (w["role_type"], w["system_role"], w["custom_role"], w["level"]) == ("Type", "Standard", "Custom", "License")
    assert w["system_roles"] == "Standard roles"


def test_C2_customersuccessbox_words_call_a_role_a_profile(api: Api) -> None:
    w = _words(api, "customersuccessbox")
    assert (w["role"], w["roles"], w["roles_page"]) == ("Profile", "Profiles", "Team Profiles")


def test_K1_catalyst_words_are_system_default_roles_and_access_level(api: Api) -> None:
    w = _words(api, "catalyst")
    assert (w["system_roles"], w["level"]) == ("System default roles", "Access level")


def test_N1_natero_words_are_seats_and_rolegates_own_elsewhere(api: Api) -> None:
    w = _words(api, "natero")
    assert (w["seat"], w["seats"]) == ("Seat", "Seats")
    assert (w["role"], w["level"], w["roles_page"]) == ("Role", "Level", "Roles & Permissions")


def test_E2_email_marketing_words_are_system_default_and_custom_roles(api: Api) -> None:
    w = _words(api, "email_marketing")
    assert (w["system_roles"], w["custom_roles"]) == ("System default roles", "Custom roles")


def test_the_openapi_description_of_the_words_is_product_neutral(api: Api) -> None:
    doc = api.get("/openapi.json").json()
    text = doc["components"]["schemas"]["SchemaOut"]["properties"]["words"]["description"]
    assert "Standard" not in text
    assert "Catalyst" not in text
