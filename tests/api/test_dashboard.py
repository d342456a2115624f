"""Dashboard pages: sign-in with CSRF, roles, heatmap, drill-down, access log, sign-out."""
from __future__ import annotations

import re
from html import unescape

import pytest
from aggregate_helpers import RISING, results, store_results
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.dashboard.auth import SESSION_COOKIE
from api.security import revoke_key
from api.storage.access import recent_access


@pytest.fixture
def stored(app: FastAPI) -> None:
    store_results(app.state.sessions, results())


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def selected(page: str) -> int:
    return int(re.search(r"(\d+) documents selected", page).group(1))


def sign_in(client: TestClient, token: str) -> TestClient:
    form = client.get("/login")
    response = client.post("/login", data={"api_key": token, "csrf_token": csrf(form.text)},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    return client


def test_signed_out_visitors_go_to_the_sign_in_page(client: TestClient) -> None:
    for path in ("/", "/evidence?label=chronology:concern"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/login")


def test_sign_in_needs_the_form_token_and_a_valid_key(client: TestClient,
                                                      tokens: dict[str, str]) -> None:
    form = client.get("/login")
    assert client.post("/login", data={"api_key": tokens["qa_lead"], "csrf_token": "forged"},
                       follow_redirects=False).status_code == 403
    again = client.get("/login")
    wrong = client.post("/login", data={"api_key": "cl_nope_nope", "csrf_token": csrf(again.text)})
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.text
    fresh = TestClient(client.app)  # another browser: no form cookie to match the token
    stolen = fresh.post("/login", data={"api_key": tokens["qa_lead"],
                                        "csrf_token": csrf(form.text)}, follow_redirects=False)
    assert stolen.status_code == 403


def test_session_cookie_holds_no_key(client: TestClient, tokens: dict[str, str]) -> None:
    sign_in(client, tokens["qa_lead"])
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie and tokens["qa_lead"].split("_", 2)[2] not in cookie


def test_auditors_may_not_use_the_dashboard(client: TestClient, tokens: dict[str, str],
                                            stored: None) -> None:
    sign_in(client, tokens["auditor"])
    assert client.get("/").status_code == 403
    assert client.get("/evidence?label=chronology:concern").status_code == 403


def test_heatmap_cells_drill_down_to_evidence(app: FastAPI, client: TestClient,
                                              tokens: dict[str, str], stored: None) -> None:
    sign_in(client, tokens["admin"])
    page = client.get("/", params={"polarity": "concern"})
    assert page.status_code == 200
    assert 'class="heatmap"' in page.text and 'class="lines"' in page.text
    cells = re.findall(r'<a class="cell" href="([^"]+)" data-label="([^"]+)" '
                       r'data-period="([^"]+)"', page.text)
    assert {label for _, label, _ in cells} <= {"chronology:concern", "drift_delay:concern",
                                                 "recording:concern"}
    assert len({period for _, _, period in cells}) == 10
    href = next(h for h, label, period in cells if label == RISING and period == "2024-09")
    evidence = client.get(unescape(href))
    sentences = re.findall(r'<td class="sentence">([^<]+)</td>', evidence.text)
    assert sentences and all(s.startswith("Sentence about recording") for s in sentences)
    dates = re.findall(r"<td>(2024-\d\d-\d\d)</td>", evidence.text)
    assert dates and all(d.startswith("2024-09") for d in dates)
    with app.state.sessions() as session:
        logged = recent_access(session, limit=1)[0]
    assert logged.path == "/evidence" and len(logged.document_ids) == len(sentences)
    assert "Rising themes" in page.text and "flagged" in page.text


def test_filters_narrow_the_page(client: TestClient, tokens: dict[str, str],
                                 stored: None) -> None:
    sign_in(client, tokens["qa_lead"])
    everything = client.get("/").text
    narrowed = client.get("/", params={"service_area": "early_help", "team": "North"}).text
    assert selected(narrowed) < selected(everything) == 240
    assert "service_area=early_help" in narrowed and "team=North" in narrowed


def test_sign_out_needs_the_session_token_and_revocation_ends_sessions(
        app: FastAPI, client: TestClient, tokens: dict[str, str]) -> None:
    sign_in(client, tokens["qa_lead"])
    page = client.get("/")
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    out = client.post("/logout", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert out.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303
    sign_in(client, tokens["qa_lead"])
    with app.state.sessions() as session:
        revoke_key(session, tokens["qa_lead"].split("_")[1])
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
