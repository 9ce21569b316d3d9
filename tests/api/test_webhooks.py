"""Webhooks against a real local receiver: signatures, retries, order per object, the log.

Events are queued with ``events.emit`` and sent by calling ``deliver_due``
directly, with its clock set a year ahead (``LATER``) and the events dated
then: the app's own dispatcher, on the real clock, leaves them to the test, and
retries and giving up are reached by moving that clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from matching.embedder import SentenceTransformerEmbedder
from schemas.webhooks import MAX_WEBHOOKS_PER_KEY, WebhookEvent
from service.config import Settings
from service.models import WebhookDelivery, utcnow
from service.webhooks import delivery, events
from service.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    sign,
    verify,
)
from tests.access_helpers import as_key, make_key
from tests.conftest import admin_client, wait_ready
from tests.factories import organization

LATER = utcnow().replace(microsecond=0) + timedelta(days=365)
SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def document(self) -> dict[str, Any]:
        """The JSON body."""
        return dict(json.loads(self.body))

    @property
    def label(self) -> str:
        """The ``label`` the test put into the event's data."""
        data = self.document["data"]
        return str(data.get("label", self.document["event"]))


class Receiver:
    """A real HTTP server on 127.0.0.1 that records every request and answers 200, or
    500 for the labels still in ``failures`` (label -> how many times to fail)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.failures: dict[str, int] = {}
        self.delay = 0.0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(receiver.delay)
                status = receiver._record(
                    Received({k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _record(self, received: Received) -> int:
        with self._lock:
            self.requests.append(received)
            label = received.label
            if self.failures.get(label, 0) > 0:
                self.failures[label] -= 1
                return 500
            return 200

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def labels(self) -> list[str]:
        """The labels of the requests, in the order they arrived."""
        with self._lock:
            return [received.label for received in self.requests]

    def wait_for(self, count: int, timeout: float = 15.0) -> None:
        """Wait until ``count`` requests have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"only {len(self.requests)} requests arrived"
            time.sleep(0.02)

    def close(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver, stopped after the test."""
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def hooks(settings: Settings, embedder: SentenceTransformerEmbedder) -> Iterator[TestClient]:
    """The app as the bootstrap admin, allowing webhooks on this machine, retrying fast."""
    allowed = settings.model_copy(
        update={"webhook_allow_private_urls": True, "webhook_retry_seconds": 0.05}
    )
    with admin_client(allowed, embedder) as test_client:
        wait_ready(test_client)
        yield test_client


def _register(client: TestClient, url: str, *names: str) -> dict[str, Any]:
    body = {"url": url, "events": list(names or ("match.created",))}
    response = client.post("/api/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _emit(
    client: TestClient,
    label: str,
    object_id: int = 1,
    *,
    event: WebhookEvent = "match.created",
    owners: frozenset[int] = frozenset(),
    dated: bool = True,
) -> int:
    """Queue an event about (match_run, ``object_id``) with ``label`` in its data, dated
    at ``LATER`` unless ``dated`` is off; returns how many deliveries it made."""
    with Session(client.app.state.db_engine) as session:
        queued = events.emit(
            session, event, "match_run", object_id, {"label": label, "run_id": object_id}, owners
        )
        for row in session.new:
            if dated and isinstance(row, WebhookDelivery):
                row.created_at = row.next_attempt_at = LATER
        session.commit()
    return queued


def _deliver(client: TestClient, at: timedelta = timedelta(0), **changes: Any) -> int:
    settings: Settings = client.app.state.settings.model_copy(update=changes)
    return delivery.deliver_due(client.app.state.db_engine, settings, now=LATER + at)


def _log(client: TestClient, webhook_id: int) -> dict[str, dict[str, Any]]:
    """The delivery log by the label of each delivery's data (newest first)."""
    response = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    with Session(client.app.state.db_engine) as session:
        labels = {
            row.id: row.payload["label"]
            for row in session.exec(
                select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
            )
        }
    return {labels[item["id"]]: item for item in items}


def test_a_delivery_is_signed_with_the_secret_of_the_answer(
    hooks: TestClient, receiver: Receiver
) -> None:
    response = hooks.post(
        "/api/v1/webhooks", json={"url": receiver.url, "events": ["match.created"]}
    )
    assert response.status_code == 201, response.text
    hook = response.json()
    assert response.headers["Location"] == f"/api/v1/webhooks/{hook['id']}"
    secret = hook["secret"]
    assert secret.startswith("whsec_")
    assert "secret" not in hooks.get(f"/api/v1/webhooks/{hook['id']}").json()
    assert all("secret" not in item for item in hooks.get("/api/v1/webhooks").json()["items"])

    assert _emit(hooks, "signed", 7) == 1
    assert _deliver(hooks) == 1

    [received] = receiver.requests
    [logged] = _log(hooks, hook["id"]).values()
    assert received.headers["content-type"] == "application/json"
    assert received.headers[EVENT_HEADER.lower()] == "match.created"
    assert received.headers[DELIVERY_HEADER.lower()] == str(logged["id"])
    assert received.document["id"] == logged["id"]
    assert received.document["event"] == "match.created"
    assert received.document["data"] == {"label": "signed", "run_id": 7}
    header = received.headers[SIGNATURE_HEADER.lower()]
    assert header.startswith("t=")
    assert verify(secret, header, received.body)
    assert not verify("whsec_" + "0" * 48, header, received.body)
    assert not verify(secret, header, received.body.replace(b"signed", b"forged"))
    assert not verify(secret, header, received.body, now=time.time() + 3600)  # replayed later
    assert logged["status"] == "delivered"
    assert logged["attempts"] == 1
    assert logged["last_status_code"] == 200
    assert logged["delivered_at"] is not None


def test_sign_and_verify_agree_and_reject_malformed_headers() -> None:
    header = sign("s3cret", 1_700_000_000, b"{}")
    assert verify("s3cret", header, b"{}", now=1_700_000_100)
    assert not verify("s3cret", header, b"{}", now=1_700_000_400)
    fullwidth = "\uff11\uff17"  # digits, but not ASCII ones
    for broken in ("", "t=abc,v1=00", "v1=00", "t=1700000000", f"t={fullwidth},v1=ab"):
        assert not verify("s3cret", broken, b"{}", now=1_700_000_000)
    assert not verify("s3cret", "t=1700000000,v1=\u00e9", b"{}", now=1_700_000_000)


def test_a_failed_delivery_is_retried_with_backoff_until_accepted(
    hooks: TestClient, receiver: Receiver
) -> None:
    hook = _register(hooks, receiver.url)
    receiver.failures["flaky"] = 1
    _emit(hooks, "flaky")

    assert _deliver(hooks) == 1
    first = _log(hooks, hook["id"])["flaky"]
    assert first["status"] == "pending"
    assert first["attempts"] == 1
    assert first["last_status_code"] == 500
    assert "500" in first["last_error"]
    assert _deliver(hooks) == 0  # not due again before its backoff (0.05 s)
    assert _deliver(hooks, SECOND) == 1

    assert [r.label for r in receiver.requests] == ["flaky", "flaky"]
    assert receiver.requests[0].body == receiver.requests[1].body
    ids = {r.headers[DELIVERY_HEADER.lower()] for r in receiver.requests}
    assert ids == {str(first["id"])}
    done = _log(hooks, hook["id"])["flaky"]
    assert done["status"] == "delivered"
    assert done["attempts"] == 2
    assert done["last_status_code"] == 200
    assert done["last_error"] is None


def test_backoff_doubles_up_to_an_hour() -> None:
    settings = Settings(webhook_retry_seconds=30)
    waits = [delivery.backoff(settings, attempts).total_seconds() for attempts in (1, 2, 3, 8)]
    assert waits == [30, 60, 120, 3600]
    assert delivery.backoff(settings, 10_000) == timedelta(hours=1)


def test_order_per_object_is_kept_while_other_objects_go_on(
    hooks: TestClient, receiver: Receiver
) -> None:
    hook = _register(hooks, receiver.url)
    receiver.failures["A1"] = 1
    _emit(hooks, "A1", object_id=1)
    _emit(hooks, "A2", object_id=1)
    _emit(hooks, "B1", object_id=2)

    assert _deliver(hooks) == 2
    assert sorted(receiver.labels()) == ["A1", "B1"]
    log = _log(hooks, hook["id"])
    assert log["B1"]["status"] == "delivered"
    assert (log["A1"]["status"], log["A1"]["attempts"]) == ("pending", 1)
    assert (log["A2"]["status"], log["A2"]["attempts"]) == ("pending", 0)

    assert _deliver(hooks, SECOND) == 1  # A1 again; A2 waits for it
    assert _deliver(hooks, 2 * SECOND) == 1
    assert [label for label in receiver.labels() if label.startswith("A")] == ["A1", "A1", "A2"]
    assert {item["status"] for item in _log(hooks, hook["id"]).values()} == {"delivered"}


def test_a_delivery_is_given_up_after_the_retry_period_and_the_next_one_goes_on(
    hooks: TestClient, receiver: Receiver
) -> None:
    hook = _register(hooks, receiver.url)
    receiver.failures["doomed"] = 1_000
    _emit(hooks, "doomed", object_id=1)
    _emit(hooks, "next", object_id=1)

    assert _deliver(hooks) == 1
    assert _deliver(hooks, timedelta(hours=23)) == 1
    assert _log(hooks, hook["id"])["doomed"]["status"] == "pending"
    assert receiver.labels() == ["doomed", "doomed"]

    assert _deliver(hooks, timedelta(hours=24, minutes=1)) == 1
    log = _log(hooks, hook["id"])
    assert (log["doomed"]["status"], log["doomed"]["attempts"]) == ("failed", 3)
    assert _deliver(hooks, timedelta(hours=24, minutes=2)) == 1
    assert receiver.labels() == ["doomed", "doomed", "doomed", "next"]
    assert _log(hooks, hook["id"])["next"]["status"] == "delivered"
    assert _deliver(hooks, timedelta(hours=48)) == 0  # a failed delivery is not tried again
    failed = hooks.get(f"/api/v1/webhooks/{hook['id']}/deliveries", params={"status": "failed"})
    assert [item["id"] for item in failed.json()["items"]] == [log["doomed"]["id"]]


def test_a_replay_sends_the_event_again_as_a_new_delivery(
    hooks: TestClient, receiver: Receiver
) -> None:
    hook = _register(hooks, receiver.url)
    _emit(hooks, "again", object_id=3)
    assert _deliver(hooks) == 1
    original = _log(hooks, hook["id"])["again"]

    response = hooks.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{original['id']}/replay")
    assert response.status_code == 201, response.text
    copy = response.json()
    assert copy["id"] != original["id"]
    assert (copy["status"], copy["attempts"]) == ("pending", 0)
    assert (copy["event"], copy["object_type"], copy["object_id"]) == (
        "match.created",
        "match_run",
        3,
    )

    # Dated now: sent by this call, or by the app's own dispatcher if it got there first.
    delivery.deliver_due(hooks.app.state.db_engine, hooks.app.state.settings)
    receiver.wait_for(2)
    again = receiver.requests[1]
    assert again.headers[DELIVERY_HEADER.lower()] == str(copy["id"])
    assert again.document["data"] == receiver.requests[0].document["data"]
    items = hooks.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["items"]
    assert [item["id"] for item in items] == [copy["id"], original["id"]]  # newest first

    missing = hooks.post(f"/api/v1/webhooks/{hook['id']}/deliveries/999999/replay")
    assert missing.status_code == 404


def _dead_url() -> str:
    """A URL on a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def test_a_dead_receiver_never_slows_the_api(hooks: TestClient) -> None:
    hook = _register(hooks, _dead_url())
    _emit(hooks, "waiting")

    started = time.monotonic()
    response = hooks.post("/api/v1/organizations", json=organization(name="Quick Firm s.r.o."))
    assert response.status_code == 201, response.text
    assert time.monotonic() - started < 30
    # The request did not try the receiver: only the dispatcher ever does.
    pending = _log(hooks, hook["id"])["waiting"]
    assert (pending["status"], pending["attempts"]) == ("pending", 0)

    assert _deliver(hooks) == 1
    tried = _log(hooks, hook["id"])["waiting"]
    assert (tried["status"], tried["attempts"]) == ("pending", 1)
    assert tried["last_status_code"] is None
    assert "ConnectError" in tried["last_error"]


def test_a_receiver_that_never_answers_times_out(hooks: TestClient) -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        hook = _register(hooks, f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        _emit(hooks, "silence")
        started = time.monotonic()
        assert _deliver(hooks, webhook_timeout_seconds=0.5) == 1
        assert time.monotonic() - started < 20
    tried = _log(hooks, hook["id"])["silence"]
    assert (tried["status"], tried["attempts"]) == ("pending", 1)
    assert tried["last_error"].startswith("no answer within 0.5 s")


def test_two_workers_do_not_send_the_same_delivery(hooks: TestClient, receiver: Receiver) -> None:
    _register(hooks, receiver.url)
    _emit(hooks, "once")
    receiver.delay = 0.3
    counts: list[int] = []
    workers = [threading.Thread(target=lambda: counts.append(_deliver(hooks))) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert receiver.labels() == ["once"]
    assert sorted(counts) == [0, 0, 1]


def test_the_running_dispatcher_delivers(hooks: TestClient, receiver: Receiver) -> None:
    _register(hooks, receiver.url)
    _emit(hooks, "live", dated=False)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    dispatcher = delivery.run_dispatcher(
        hooks.app.state.db_engine, hooks.app.state.settings, stop, interval=0.05
    )
    thread = threading.Thread(target=loop.run_until_complete, args=(dispatcher,))
    thread.start()
    try:
        receiver.wait_for(1)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join()
        loop.close()
    assert receiver.labels() == ["live"]


def test_events_go_to_the_owners_and_admins_webhooks_that_subscribed(
    hooks: TestClient, receiver: Receiver
) -> None:
    partner = make_key(hooks, "integration")
    other = make_key(hooks, "integration")
    mine = _register(as_key(hooks, partner["key"]), receiver.url)
    _register(as_key(hooks, other["key"]), receiver.url)
    admins = _register(hooks, receiver.url, "match.created", "opportunity.status_changed")
    _register(hooks, receiver.url, "opportunity.status_changed")

    assert _emit(hooks, "m", owners=frozenset({partner["id"]})) == 2  # the partner's + admin's
    assert _emit(hooks, "s", event="opportunity.status_changed") == 2  # both admin webhooks
    with Session(hooks.app.state.db_engine) as session:
        targets = session.exec(
            select(WebhookDelivery.webhook_id).where(WebhookDelivery.event == "match.created")
        ).all()
    assert sorted(targets) == sorted([mine["id"], admins["id"]])

    assert hooks.delete(f"/api/v1/keys/{partner['id']}").status_code == 204
    assert _emit(hooks, "m2", owners=frozenset({partner["id"]})) == 1  # a revoked key's stop


def test_a_key_sees_and_manages_only_its_own_webhooks(
    hooks: TestClient, receiver: Receiver
) -> None:
    owner_key = make_key(hooks, "integration")
    owner = as_key(hooks, owner_key["key"])
    stranger = as_key(hooks, make_key(hooks, "integration")["key"])
    hook = _register(owner, receiver.url)
    assert _emit(hooks, "private", owners=frozenset({owner_key["id"]})) == 1
    _deliver(hooks)
    [logged] = _log(owner, hook["id"]).values()
    base = f"/api/v1/webhooks/{hook['id']}"

    assert stranger.get("/api/v1/webhooks").json()["items"] == []
    assert stranger.get(base).status_code == 404
    assert stranger.get(f"{base}/deliveries").status_code == 404
    assert stranger.post(f"{base}/deliveries/{logged['id']}/replay").status_code == 404
    assert stranger.delete(base).status_code == 404
    assert [item["id"] for item in owner.get("/api/v1/webhooks").json()["items"]] == [hook["id"]]
    assert [item["id"] for item in hooks.get("/api/v1/webhooks").json()["items"]] == [hook["id"]]

    assert owner.delete(base).status_code == 204
    assert owner.get(base).status_code == 404
    with Session(hooks.app.state.db_engine) as session:
        left = session.exec(select(func.count()).select_from(WebhookDelivery)).one()
    assert left == 0


@pytest.mark.parametrize("role", ["widget", "advisor"])
def test_other_roles_may_not_use_webhooks(client: TestClient, role: str) -> None:
    caller = as_key(client, make_key(client, role)["key"])
    body = {"url": "https://example.com/hook", "events": ["match.created"]}
    assert caller.post("/api/v1/webhooks", json=body).status_code == 403
    assert caller.get("/api/v1/webhooks").status_code == 403
    assert caller.get("/api/v1/webhooks/1/deliveries").status_code == 403
    assert as_key(client, None).get("/api/v1/webhooks").status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        "https://no-such-host.invalid/x",
    ],
)
def test_urls_that_do_not_reach_a_public_address_are_refused(client: TestClient, url: str) -> None:
    response = client.post("/api/v1/webhooks", json={"url": url, "events": ["match.created"]})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["pointer"] for error in response.json()["errors"]] == ["#/url"]


def test_a_public_address_is_accepted(client: TestClient) -> None:
    body = {"url": "https://93.184.215.14/hooks?team=7", "events": ["opportunity.status_changed"]}
    response = client.post("/api/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["url"] == body["url"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"url": "ftp://example.com/x", "events": ["match.created"]}, "#/url"),
        ({"url": "https://user:pw@example.com/x", "events": ["match.created"]}, "#/url"),
        ({"url": "https://exa mple.com/x", "events": ["match.created"]}, "#/url"),
        ({"url": "https://example.com:99999/x", "events": ["match.created"]}, "#/url"),
        ({"url": "https://" + "a" * 2048 + ".com", "events": ["match.created"]}, "#/url"),
        ({"url": "https://example.com/x", "events": []}, "#/events"),
        ({"url": "https://example.com/x", "events": ["match.created"] * 2}, "#/events"),
        ({"url": "https://example.com/x", "events": ["match.deleted"]}, "#/events/0"),
        ({"url": "https://example.com/x", "events": ["match.created"], "x": 1}, "#/x"),
    ],
)
def test_invalid_registrations_name_the_field(
    client: TestClient, body: dict[str, Any], pointer: str
) -> None:
    response = client.post("/api/v1/webhooks", json=body)
    assert response.status_code == 422, response.text
    assert pointer in [error["pointer"] for error in response.json()["errors"]]


def test_a_key_may_register_a_limited_number_of_webhooks(
    hooks: TestClient, receiver: Receiver
) -> None:
    for _ in range(MAX_WEBHOOKS_PER_KEY):
        _register(hooks, receiver.url)
    response = hooks.post(
        "/api/v1/webhooks", json={"url": receiver.url, "events": ["match.created"]}
    )
    assert response.status_code == 409, response.text


def test_nothing_more_is_begun_once_the_dispatcher_stops(
    hooks: TestClient, receiver: Receiver
) -> None:
    hook = _register(hooks, receiver.url)
    _emit(hooks, "held")
    settings = hooks.app.state.settings
    engine = hooks.app.state.db_engine
    assert delivery.deliver_due(engine, settings, now=LATER, stopping=lambda: True) == 0
    assert receiver.requests == []
    assert _log(hooks, hook["id"])["held"]["attempts"] == 0
    assert _deliver(hooks) == 1


def test_real_events_reach_the_partner_that_registered_the_organisation(
    hooks: TestClient, receiver: Receiver
) -> None:
    partner = as_key(hooks, make_key(hooks, "integration")["key"])
    stranger = as_key(hooks, make_key(hooks, "integration")["key"])
    secret = partner.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "events": ["match.created", "opportunity.status_changed"]},
    ).json()["secret"]
    stranger.post(
        "/api/v1/webhooks", json={"url": receiver.url + "/s", "events": ["match.created"]}
    )
    firm = partner.post("/api/v1/organizations", json=organization(name="Partner firm")).json()
    lab = hooks.post(
        "/api/v1/organizations",
        json=organization(kind="research", name="Lab", nace=["72.19"]),
    ).json()
    run = partner.post("/api/v1/matches", json={"profile_id": firm["profiles"][0]["id"]}).json()
    advisor = as_key(hooks, make_key(hooks, "advisor", regions=["CZ080"])["key"])
    opened = advisor.post(
        "/api/v1/opportunities",
        json={"profile_ids": [firm["profiles"][0]["id"], lab["profiles"][0]["id"]]},
    ).json()
    moved = advisor.patch(
        f"/api/v1/opportunities/{opened['id']}",
        json={"status": "contacted"},
        headers={"If-Match": '"1"'},
    )
    assert moved.status_code == 200
    delivery.deliver_due(hooks.app.state.db_engine, hooks.app.state.settings, now=LATER)
    receiver.wait_for(2)
    got = {r.document["event"]: r for r in receiver.requests}
    assert set(got) == {"match.created", "opportunity.status_changed"}  # not the stranger's
    for received in got.values():
        assert verify(secret, received.headers[SIGNATURE_HEADER.lower()], received.body, now=None)
    created = got["match.created"].document["data"]
    assert created["run_id"] == run["run_id"]
    assert created["profile_id"] == firm["profiles"][0]["id"]
    assert [r["rank"] for r in created["results"]] == [r["rank"] for r in run["results"]]
    assert "explanation" not in json.dumps(created)  # ids and scores, not texts
    changed = got["opportunity.status_changed"].document["data"]
    assert changed == {
        "opportunity_id": opened["id"],
        "from": "new",
        "to": "contacted",
        "organization_ids": [firm["id"], lab["id"]],
    }


def test_a_match_reaches_the_partner_that_registered_a_result(
    hooks: TestClient, receiver: Receiver
) -> None:
    partner = as_key(hooks, make_key(hooks, "integration")["key"])
    partner.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["match.created"]})
    lab = partner.post(
        "/api/v1/organizations",
        json=organization(kind="research", name="Partner lab", nace=["72.19"]),
    ).json()
    firm = hooks.post("/api/v1/organizations", json=organization(name="Admin firm")).json()
    run = hooks.post("/api/v1/matches", json={"profile_id": firm["profiles"][0]["id"]}).json()
    assert lab["profiles"][0]["id"] in [r["profile_id"] for r in run["results"]]
    delivery.deliver_due(hooks.app.state.db_engine, hooks.app.state.settings, now=LATER)
    receiver.wait_for(1)
    [received] = receiver.requests
    assert received.document["event"] == "match.created"
    assert received.document["data"]["run_id"] == run["run_id"]
