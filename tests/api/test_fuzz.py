"""Property-based fuzzing of every operation the app's own OpenAPI description lists.

Whatever a client sends (a malformed key, junk or deeply nested JSON, a huge
body, wrong parameter types), the answer is a client error rendered as RFC 9457
problem details, never a 500. The operations are read from ``/openapi.json`` at
run time, so a new endpoint is fuzzed without changing this file.
"""

from __future__ import annotations

import json
import re
import string
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import hypothesis
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from matching.embedder import SentenceTransformerEmbedder
from schemas.limits import MAX_BODY_BYTES, MAX_ID
from service.config import Settings
from tests.conftest import ADMIN_KEY, admin_client, wait_ready

PROBLEM = "application/problem+json"
BODY_METHODS = {"post", "put", "patch"}
MIB = 1024 * 1024
PARAM = re.compile(r"\{([^}/]+)\}")


def fuzz(max_examples: int) -> hypothesis.settings:
    """Deterministic settings that share the function-scoped app between examples."""
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,  # write no .hypothesis folder into the repository
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- the operations, from the app's OpenAPI description ------------------------------------


@dataclass(frozen=True)
class Operation:
    """One method on one path template, with what its OpenAPI entry says."""

    method: str
    path: str
    parameters: tuple[dict[str, Any], ...]
    body_fields: frozenset[str] | None  # None: the operation takes no body

    @property
    def guarded(self) -> bool:
        """True for the API proper (a key is needed), False for health checks."""
        return self.path.startswith("/api/")

    def query(self) -> list[dict[str, Any]]:
        """Its query parameters."""
        return [p for p in self.parameters if p["in"] == "query"]

    def path_params(self) -> list[dict[str, Any]]:
        """Its path parameters."""
        return [p for p in self.parameters if p["in"] == "path"]

    def url(self, values: dict[str, str]) -> str:
        """The path with each ``{name}`` replaced by its (percent-encoded) value."""
        return PARAM.sub(lambda m: quote(values[m.group(1)], safe=""), self.path)


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _body_fields(spec: dict[str, Any], operation: dict[str, Any]) -> frozenset[str] | None:
    if "requestBody" not in operation:
        return None
    names: set[str] = set()
    for media in operation["requestBody"].get("content", {}).values():
        schema = _resolve(spec, media.get("schema", {}))
        for part in [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]:
            names.update(_resolve(spec, part).get("properties", {}))
    return frozenset(names)


def operations_of(client: TestClient) -> list[Operation]:
    """Every operation of the running app's OpenAPI description."""
    spec = client.get("/openapi.json").json()
    found = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            found.append(
                Operation(
                    method=method,
                    path=path,
                    parameters=tuple(operation.get("parameters", [])),
                    body_fields=_body_fields(spec, operation),
                )
            )
    assert len(found) >= 25, f"the OpenAPI description lists only {len(found)} operations"
    return found


# --- requests and checks --------------------------------------------------------------------


def send(client: TestClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request; a server exception becomes a failure naming the request."""
    try:
        return client.request(method.upper(), url, follow_redirects=False, **kwargs)
    except Exception as exc:
        raise AssertionError(
            f"{method.upper()} {url} raised in the app:\n{traceback.format_exc()}"
        ) from exc


def describe(method: str, url: str, response: httpx.Response) -> str:
    """The request and an excerpt of the answer, for assertion messages."""
    return (
        f"{method.upper()} {url[:200]} -> {response.status_code} "
        f"[{response.headers.get('content-type')}] {response.text[:400]!r}"
    )


def assert_problem(method: str, url: str, response: httpx.Response) -> None:
    """An error answer is problem+json whose ``status`` is the HTTP status."""
    where = describe(method, url, response)
    assert response.status_code != 500, f"server error: {where}"
    assert response.headers.get("content-type", "").startswith(PROBLEM), f"not {PROBLEM}: {where}"
    body = response.json()
    assert isinstance(body, dict), f"problem is not an object: {where}"
    assert body.get("status") == response.status_code, f"'status' differs: {where}"
    assert isinstance(body.get("title"), str), f"no 'title': {where}"
    assert body["title"], f"empty 'title': {where}"
    if response.status_code == 422:
        assert isinstance(body.get("errors"), list), f"422 without an 'errors' list: {where}"


def assert_client_error(method: str, url: str, response: httpx.Response) -> None:
    """A 4xx answer in problem+json."""
    where = describe(method, url, response)
    assert 400 <= response.status_code < 500, f"expected a 4xx: {where}"
    assert_problem(method, url, response)


def assert_no_server_error(method: str, url: str, response: httpx.Response) -> None:
    """Below 500, and problem+json if it is an error."""
    where = describe(method, url, response)
    assert response.status_code < 500, f"server error: {where}"
    if response.status_code >= 400:
        assert_problem(method, url, response)


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def known(client: TestClient, world: dict[str, dict[str, Any]]) -> Callable[[Operation], str]:
    """A URL per operation whose path parameters name things that exist."""
    organization = world["Ostrava Castings a.s."]
    profile_id = organization["profiles"][0]["id"]
    run = client.post("/api/v1/matches", json={"profile_id": profile_id, "limit": 3})
    assert run.status_code == 201, run.text
    opened = client.post(
        "/api/v1/opportunities", json={"match_run_id": run.json()["run_id"], "rank": 1}
    )
    assert opened.status_code == 201, opened.text
    alliance = client.post("/api/v1/alliances", json={"size_min": 2, "size_max": 3})
    assert alliance.status_code == 201, alliance.text
    key = client.post("/api/v1/keys", json={"name": "fuzz", "role": "integration"})
    assert key.status_code == 201, key.text
    values = {
        "organization_id": str(organization["id"]),
        "profile_id": str(profile_id),
        "opportunity_id": str(opened.json()["id"]),
        "key_id": str(key.json()["id"]),
        "code": "CZ064",
    }
    match_run, alliance_run = str(run.json()["run_id"]), str(alliance.json()["run_id"])

    def url(operation: Operation) -> str:
        run_id = alliance_run if operation.path.startswith("/api/v1/alliance-runs") else match_run
        names = {p["name"] for p in operation.path_params()} | set(PARAM.findall(operation.path))
        return operation.url({name: values.get(name, run_id) for name in names})

    return url


@pytest.fixture
def lenient_client(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> Iterator[TestClient]:
    """An app that allows a million wrong-key attempts a minute, so every one gets its 401."""
    relaxed = settings.model_copy(update={"failed_auth_per_minute": 1_000_000})
    with admin_client(relaxed, embedder) as test_client:
        wait_ready(test_client)
        yield test_client


# --- strategies -----------------------------------------------------------------------------

PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
VISIBLE = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
# What an HTTP field value may carry (RFC 9110): HTAB, SP, VCHAR and obs-text.
FIELD_BYTES = st.lists(
    st.sampled_from([0x09, *range(0x20, 0x7F), *range(0x80, 0x100)]), max_size=300
).map(bytes)
LOWER_DIGITS = st.text(string.ascii_lowercase + string.digits, min_size=12, max_size=12)
URLSAFE = st.text(string.ascii_letters + string.digits + "-_", min_size=43, max_size=43)
WELL_FORMED_KEYS = st.builds(
    lambda kind, public, secret: f"{kind}_{public}_{secret}",
    st.sampled_from(["sk", "pk"]),
    LOWER_DIGITS,
    URLSAFE,
)
SCHEMES = st.sampled_from(["Bearer", "bearer", "BEARER", "bEaReR"])
OTHER_SCHEMES = st.sampled_from(["Basic", "Digest", "Token", "ApiKey", "Negotiate", "Bearer:", "B"])


def _long_junk(n: int, fill: str) -> str:
    return (fill * n)[:n]


MANGLED_ADMIN_KEYS = st.sampled_from(
    [
        ADMIN_KEY[:-1],
        ADMIN_KEY + "k",
        ADMIN_KEY.upper(),
        "x" + ADMIN_KEY[1:],
        ADMIN_KEY[: len(ADMIN_KEY) // 2],
        f"{ADMIN_KEY} {ADMIN_KEY}",
        f"{ADMIN_KEY},{ADMIN_KEY}",
    ]
)

AUTHORIZATION: st.SearchStrategy[str | bytes] = st.one_of(
    st.text(PRINTABLE, max_size=80),  # anything at all, including ""
    st.sampled_from(
        ["Bearer", "Bearer ", "bearer", "Bearer\t", "Bearer  ", "Bearer null", "Bearer undefined"]
    ),
    st.builds(lambda s, t: f"{s} {t}", SCHEMES, st.text(PRINTABLE, min_size=1, max_size=300)),
    st.builds(
        lambda s, n, fill: f"{s} {_long_junk(n, fill)}",
        SCHEMES,
        st.integers(200, 8192),
        st.text(VISIBLE, min_size=1, max_size=8),
    ),
    st.builds(lambda s, t: f"{s} {t}", OTHER_SCHEMES, st.text(PRINTABLE, max_size=100)),
    st.builds(lambda s, k: f"{s} {k}", OTHER_SCHEMES, st.just(ADMIN_KEY)),
    st.builds(lambda s, k: f"{s} {k}", SCHEMES, WELL_FORMED_KEYS),
    st.builds(lambda s, k: f"{s} {k}", SCHEMES, MANGLED_ADMIN_KEYS),
    st.builds(lambda k: f"Bearer{k}", st.just(ADMIN_KEY)),  # no space
    FIELD_BYTES,
    st.builds(lambda b: b"Bearer " + b, FIELD_BYTES),
    st.builds(
        lambda t: ("Bearer " + t).encode("latin-1"),
        st.text(st.characters(min_codepoint=0xA0, max_codepoint=0xFF), min_size=1, max_size=64),
    ),
    st.builds(
        lambda t: ("Bearer " + t).encode("utf-8"),
        st.text(st.characters(min_codepoint=0xA0, max_codepoint=0x2FFF), min_size=1, max_size=64),
    ),
)

# Path parameter values: any integer, or any text that is a single path segment
# (not empty, "." or "..", which would turn the URL into another one).
PATH_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        ["0", "-1", str(MAX_ID + 1), "1e3", "1.0", "0x1", "nan", "CZ064", "cz064", "ZZ999"]
    ),
    st.text(min_size=1, max_size=40).filter(lambda s: s.strip(".") != ""),
)

LONG_TEXTS = st.sampled_from([101, 201, 257, 301, 2_049, 10_001, 100_000]).map(lambda n: "é" * n)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    LONG_TEXTS,
    st.sampled_from(
        [
            "",
            " ",
            "CZ064",
            "CZ",
            "28.41",
            "2030-01-31",
            "2030-01-31T00:00:00Z",
            "company",
            "research",
            "admin",
            "widget",
            "new",
            "won",
            "https://example.cz",
            "a@b.cz",
        ]
    ),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
RAW_JUNK = st.sampled_from(
    [
        b"",
        b"[]",
        b"null",
        b"0",
        b"-1",
        b'"text"',
        b"true",
        b"1e999",
        b"NaN",
        b"-Infinity",
        b"{",
        b"}",
        b"{}}",
        b'{"a":1,}',
        b"{'a': 1}",
        b'{"a" 1}',
        b"\xef\xbb\xbf[]",
        b"\xff\xfe{\x00}\x00",
        b'{"name": "\xc3\x28"}',
        b'{"name": "\\ud800"}',
        b"9" * 5_000,
        b"[" + b"9" * 5_000 + b"]",
        b"\x00" * 64,
        b"a=1&b=2",
    ]
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "application/merge-patch+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ]
)


def junk_bodies(operation: Operation) -> st.SearchStrategy[bytes]:
    """Wrong JSON (its own field names with wrong values, random keys, wrong top-level
    types) and bytes that are not JSON."""
    names = sorted(operation.body_fields or {"x"})
    fielded = st.dictionaries(
        st.sampled_from(names) | st.text(max_size=12), JSON_VALUES, min_size=1, max_size=6
    )
    as_json = st.builds(
        lambda value, ascii_only: json.dumps(value, ensure_ascii=ascii_only).encode(),
        fielded | JSON_VALUES,
        st.booleans(),
    )
    return st.one_of(as_json, RAW_JUNK, st.binary(max_size=200))


def could_be_valid(operation: Operation, body: bytes) -> bool:
    """True if the body is an object of only the operation's own fields: such a body may
    be accepted (e.g. ``{}`` for a PATCH), so only 'no server error' is required."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and set(value) <= (operation.body_fields or set())


# --- 1. malformed keys ----------------------------------------------------------------------


@fuzz(max_examples=50)
@given(authorization=AUTHORIZATION, path_value=PATH_VALUES)
@example(authorization="Bearer", path_value="1")
@example(authorization="Bearer " + "x" * 8192, path_value="1")
@example(authorization="Basic dXNlcjpwYXNz", path_value="1")
@example(authorization="Bearer sk_abcdefghijkl_" + "A" * 43, path_value="1")
@example(authorization=b"Bearer \xe9\xff\x80", path_value="1")
def test_a_malformed_or_unknown_key_gets_401_everywhere(
    lenient_client: TestClient, authorization: str | bytes, path_value: str
) -> None:
    """Every operation refuses a malformed, foreign-scheme or unknown key with a 401
    problem (and WWW-Authenticate); the health checks never fail with a 500."""
    headers = {"Authorization": authorization}
    for operation in operations_of(lenient_client):
        url = operation.url(dict.fromkeys(PARAM.findall(operation.path), path_value))
        body = {} if operation.body_fields is not None else None
        response = send(lenient_client, operation.method, url, headers=headers, json=body)
        where = describe(operation.method, url, response)
        if not operation.guarded:
            assert_no_server_error(operation.method, url, response)
            continue
        assert response.status_code == 401, f"Authorization {authorization!r:.120}: {where}"
        assert_problem(operation.method, url, response)
        assert response.headers.get("www-authenticate") == "Bearer", where


def test_too_many_wrong_keys_get_429_not_500(client: TestClient) -> None:
    """Past the per-address budget of wrong keys the answer is 429 problem+json."""
    statuses = []
    for n in range(40):
        response = client.get("/api/v1/organizations", headers={"Authorization": f"Bearer no-{n}"})
        assert response.status_code in {401, 429}, describe(
            "get", "/api/v1/organizations", response
        )
        assert_problem("get", "/api/v1/organizations", response)
        statuses.append(response.status_code)
    assert 429 in statuses, statuses
    assert client.get("/healthz", headers={"Authorization": "Bearer no"}).status_code < 500


# --- 2. junk bodies -------------------------------------------------------------------------


@fuzz(max_examples=80)
@given(data=st.data())
def test_junk_bodies_get_a_client_error(
    client: TestClient, known: Callable[[Operation], str], data: st.DataObject
) -> None:
    """Every POST/PATCH answers wrong JSON and non-JSON bytes with a 4xx problem."""
    for operation in operations_of(client):
        if operation.method not in BODY_METHODS:
            continue
        body = data.draw(junk_bodies(operation), label=f"{operation.method} {operation.path}")
        content_type = data.draw(CONTENT_TYPES, label="content-type")
        if operation.path_params() and data.draw(st.booleans(), label="random path"):
            value = data.draw(PATH_VALUES, label="path value")
            url = operation.url(dict.fromkeys(PARAM.findall(operation.path), value))
        else:
            url = known(operation)
        response = send(
            client, operation.method, url, content=body, headers={"content-type": content_type}
        )
        if could_be_valid(operation, body):
            assert_no_server_error(operation.method, url, response)
        else:
            assert_client_error(operation.method, url, response)


# --- 3. deeply nested JSON ------------------------------------------------------------------


def nested(shape: str, depth: int, field: str) -> bytes:
    """``depth`` levels of nesting, built as bytes (json.dumps would recurse)."""
    if shape == "lists":
        return b"[" * depth + b"]" * depth
    if shape == "objects":
        return b'{"a":' * depth + b"1" + b"}" * depth
    if shape == "mixed":
        half = depth // 2
        return b'[{"a":' * half + b"null" + b"}]" * half
    if shape == "unclosed":
        return b'{"a":[' * (depth // 2)
    assert shape == "in-a-field"
    return b'{"' + field.encode() + b'":' + b"[" * depth + b"]" * depth + b"}"


SHAPES = st.sampled_from(["lists", "objects", "mixed", "unclosed", "in-a-field"])


@fuzz(max_examples=10)
@given(shape=SHAPES, depth=st.integers(1_000, 100_000))
@example(shape="lists", depth=100_000)
@example(shape="objects", depth=100_000)
@example(shape="in-a-field", depth=100_000)
@example(shape="objects", depth=990)
def test_deeply_nested_json_gets_a_client_error(
    client: TestClient, known: Callable[[Operation], str], shape: str, depth: int
) -> None:
    """Every POST/PATCH answers deeply nested JSON with a 4xx problem (400, 413 or 422)."""
    for operation in operations_of(client):
        if operation.method not in BODY_METHODS:
            continue
        field = min(operation.body_fields or {"x"})
        url = known(operation)
        response = send(
            client,
            operation.method,
            url,
            content=nested(shape, depth, field),
            headers={"content-type": "application/json"},
        )
        assert_client_error(operation.method, url, response)


# --- 4. huge bodies -------------------------------------------------------------------------


def big_json(size: int) -> bytes:
    """A valid JSON object of exactly ``size`` bytes."""
    return b'{"a":"' + b"x" * (size - 8) + b'"}'


def chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The body in pieces, so httpx sends it chunked, without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


@fuzz(max_examples=6)
@given(size=st.integers(MAX_BODY_BYTES + 1, 6 * MIB), chunked=st.booleans())
@example(size=MAX_BODY_BYTES + 1, chunked=False)
@example(size=MAX_BODY_BYTES + 1, chunked=True)
@example(size=5 * MIB, chunked=False)
@example(size=5 * MIB, chunked=True)
def test_bodies_over_1_mib_get_413(
    client: TestClient, known: Callable[[Operation], str], size: int, chunked: bool
) -> None:
    """Every operation answers a body over its limit (1 MiB; imports their own) with a 413
    problem: by its Content-Length, or (for operations that read a body) while it streams
    in without one. An import under its limit but not a form gets another 4xx."""
    body = big_json(size)
    import_limit = client.app.state.settings.max_import_bytes  # type: ignore[attr-defined]
    for operation in operations_of(client):
        if chunked and operation.method not in BODY_METHODS:
            continue  # an operation that reads no body need not notice one it never reads
        url = known(operation)
        content: bytes | Iterator[bytes] = chunks(body) if chunked else body
        response = send(
            client,
            operation.method,
            url,
            content=content,
            headers={"content-type": "application/json"},
        )
        where = describe(operation.method, url, response)
        if operation.path == "/api/v1/imports" and size <= import_limit:
            assert 400 <= response.status_code < 500, where
        else:
            assert response.status_code == 413, f"{size} bytes, chunked={chunked}: {where}"
        assert_problem(operation.method, url, response)


# --- 5. wrong parameter types ---------------------------------------------------------------

BOOL_WORDS = {"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"}
NO_DIGITS = st.text(max_size=30).filter(lambda s: not any(c.isdigit() for c in s))


def _types(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a parameter schema."""
    options = schema.get("anyOf", [schema])
    return [option for option in options if option.get("type") != "null"]


def bad_values(param: dict[str, Any]) -> st.SearchStrategy[tuple[str, bool]]:
    """(value, must_fail): a value for the parameter, and whether it is surely invalid."""
    schema = (_types(param["schema"]) or [{}])[0]
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    kind = schema.get("type")
    if kind == "integer":
        low, high = schema.get("minimum", -(2**63)), schema.get("maximum", 2**63)
        invalid = st.one_of(
            st.integers(max_value=low - 1).map(str),
            st.integers(min_value=high + 1, max_value=high + 2**70).map(str),
            st.sampled_from(["abc", "1.5", "1e3", "0x10", "nan", "inf", "1e309", "9" * 5_000]),
            NO_DIGITS,
        )
        return invalid.map(lambda v: (v, True))
    if kind == "boolean":
        invalid = st.text(max_size=20).filter(lambda s: s.strip().lower() not in BOOL_WORDS)
        return invalid.map(lambda v: (v, True))
    if "enum" in schema:
        allowed = set(schema["enum"])
        return st.text(max_size=30).filter(lambda s: s not in allowed).map(lambda v: (v, True))
    if schema.get("format") == "date-time":
        return st.one_of(
            NO_DIGITS.map(lambda v: (v, True)),
            st.sampled_from(
                [
                    "2024-02-30T00:00:00",
                    "2024-13-01T00:00:00",
                    "2024-01-01T25:00:00",
                    "10000-01-01T00:00:00",
                    "2024-01-01T00:00:00+25:00",
                ]
            ).map(lambda v: (v, True)),
            # numbers are read as Unix times: huge ones must not overflow into a 500
            st.sampled_from(["9" * 30, "-" + "9" * 30, "1e400", str(2**64), "-1"]).map(
                lambda v: (v, False)
            ),
        )
    if param["name"] == "cursor":
        return st.text(min_size=1, max_size=600).map(lambda v: (v, True))
    too_long = None
    if "maxLength" in schema:
        n = schema["maxLength"] + 1
        too_long = st.integers(n, n + 1_000).map(lambda k: ("y" * k, True))
    free = st.text(max_size=300).map(lambda v: (v, False))
    return free if too_long is None else st.one_of(free, too_long)


def path_values(param: dict[str, Any]) -> st.SearchStrategy[tuple[str, bool]]:
    """Wrong values for a path parameter (never empty, "." or "..": those change the URL)."""
    return st.one_of(bad_values(param), PATH_VALUES.map(lambda v: (v, False))).filter(
        lambda pair: pair[0].strip(".") != ""
    )


@fuzz(max_examples=60)
@given(data=st.data())
def test_wrong_parameters_of_get_operations_get_a_client_error(
    client: TestClient, known: Callable[[Operation], str], data: st.DataObject
) -> None:
    """Every GET answers wrong query and path parameter values (wrong types, out of range,
    huge, random cursors) with a 4xx problem, and any value at all without a 500."""
    for operation in operations_of(client):
        if operation.method != "get" or not operation.parameters:
            continue
        label = f"{operation.method} {operation.path}"
        params: list[tuple[str, str]] = []
        must_fail = False
        query = operation.query()
        if query:
            chosen = data.draw(
                st.lists(
                    st.sampled_from(query), min_size=1, max_size=3, unique_by=lambda p: p["name"]
                ),
                label=f"{label} parameters",
            )
            for param in chosen:
                value, fails = data.draw(bad_values(param), label=param["name"])
                params.append((param["name"], value))
                must_fail = must_fail or fails
        url = known(operation)
        if operation.path_params() and (not query or data.draw(st.booleans(), label="bad path")):
            values = {}
            for param in operation.path_params():
                values[param["name"]], fails = data.draw(path_values(param), label=param["name"])
                must_fail = must_fail or fails
            url = operation.url(values)
        response = send(client, "get", url, params=params)
        shown = f"{url}?{httpx.QueryParams(params)}"
        if must_fail:
            assert_client_error("get", shown, response)
        else:
            assert_no_server_error("get", shown, response)
