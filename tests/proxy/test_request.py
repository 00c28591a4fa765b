"""Request construction (spec §6, §7): URLs, auth headers, header precedence, query, bodies."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.proxy._proxy_helpers import example

from appconnect.connectors.proxy.context import OPERATION_INPUTS, build_context, python_arg
from appconnect.connectors.proxy.request import (
    ProxyConfigError,
    build_request,
    encode_params,
    join_url,
)
from appconnect.connectors.proxy.template import UNDEFINED
from appconnect.store.users import User

CTX: dict[str, Any] = {
    "user": {"accessToken": "tok", "id": "u1"},
    "apiKey": "tok",
    "id": 7,
    "name": "Jane Doe",
    "missing": UNDEFINED,
    "nothing": None,
    "ids": [1, 2],
    "flag": True,
}


def headers_of(config: dict[str, Any], op: dict[str, Any], flow: str = "") -> dict[str, str]:
    request = build_request(config, op, CTX, flow)
    return {k.lower(): v for k, v in request.headers}


@pytest.mark.parametrize(
    ("base", "url", "joined"),
    [
        ("https://x.example/v2", "/people", "https://x.example/v2/people"),
        ("https://x.example/v2/", "/people", "https://x.example/v2/people"),
        ("https://x.example/v2/", "people", "https://x.example/v2/people"),
        ("https://x.example/v2", "people", "https://x.example/v2/people"),
        ("https://x.example/v2", "https://other.example/a", "https://other.example/a"),
        (
            "https://x.example/v2",
            "HTTPS://other.example/a",
            "https://x.example/v2/HTTPS://other.example/a",
        ),
        ("https://x.example/v2", None, "https://x.example/v2"),
        ("https://x.example/v2", UNDEFINED, "https://x.example/v2"),
        (None, "https://only.example/a", "https://only.example/a"),
    ],
)
def test_url_joining(base: Any, url: Any, joined: str) -> None:
    assert join_url(base, url) == joined


def test_whole_expression_url_missing_falls_back_to_base() -> None:
    config = {"requestDefaults": {"baseUrl": "https://x.example/v2"}}
    request = build_request(config, {"url": "{{missing}}"}, CTX)
    assert request.url == "https://x.example/v2"


def test_url_values_are_inserted_verbatim() -> None:
    request = build_request({}, {"url": "https://x.example/p/{{name}}?a=1"}, CTX)
    assert request.url == "https://x.example/p/Jane Doe?a=1"


# -- auth (§6.1) -----------------------------------------------------------------------------


def test_rule_2_credential_template_base64_by_default() -> None:
    config = {"auth": {"scheme": "Basic", "credentialTemplate": "{{apiKey}}:"}}
    expected = "Basic " + base64.b64encode(b"tok:").decode()
    assert headers_of(config, {}, "Bearer flow")["authorization"] == expected


@pytest.mark.parametrize("encode", [None, "base64", "yes", ""])
def test_any_encode_but_none_is_base64(encode: Any) -> None:
    auth: dict[str, Any] = {"credentialTemplate": "{{apiKey}}"}
    if encode is not None:
        auth["encode"] = encode
    assert headers_of({"auth": auth}, {})["authorization"] == base64.b64encode(b"tok").decode()


def test_encode_none_and_custom_header_name() -> None:
    auth = {"headerName": "X-Api-Key", "credentialTemplate": "{{apiKey}}", "encode": "none"}
    headers = headers_of({"auth": auth}, {}, "Basic flow")
    assert headers["x-api-key"] == "tok"
    assert "authorization" not in headers


def test_rule_3_flow_header_under_the_configured_name() -> None:
    headers = headers_of({"auth": {"headerName": "X-Auth"}}, {}, "Basic Zm9vOg==")
    assert headers["x-auth"] == "Basic Zm9vOg=="


def test_rule_4_oauth_without_flow_header_uses_the_access_token() -> None:
    assert headers_of({"auth": {"type": "oauth"}}, {})["authorization"] == "Bearer tok"
    config = {"auth": {"type": "oauth", "scheme": "Token"}}
    assert headers_of(config, {})["authorization"] == "Token tok"


def test_rule_5_no_header() -> None:
    assert "authorization" not in headers_of({"auth": {"type": "apiKey"}}, {})


def test_operation_auth_replaces_config_auth() -> None:
    config = {"auth": {"type": "apiKey", "headerName": "X-Key", "credentialTemplate": "a"}}
    op = {"auth": {"credentialTemplate": "{{id}}:", "encode": "none"}}
    headers = headers_of(config, op)
    assert headers["authorization"] == "7:"
    assert "x-key" not in headers


def test_bare_credential_template_that_is_not_text_cannot_be_base64_encoded() -> None:
    with pytest.raises(ProxyConfigError):
        build_request({"auth": {"credentialTemplate": "{{id}}"}}, {}, CTX)
    auth = {"credentialTemplate": "{{missing}}", "encode": "none", "scheme": "Bearer"}
    assert headers_of({"auth": auth}, {})["authorization"] == "Bearer undefined"


# -- headers (§6.2) --------------------------------------------------------------------------


def test_header_precedence_is_case_insensitive_and_auth_wins() -> None:
    config = {
        "auth": {"credentialTemplate": "{{apiKey}}", "encode": "none"},
        "requestDefaults": {
            "defaultHeaders": {"X-One": "default", "accept": "text/csv", "AUTHORIZATION": "x"}
        },
    }
    op = {"headers": {"x-one": "op-{{id}}"}}
    request = build_request(config, op, CTX)
    assert [(k, v) for k, v in request.headers if k.lower() != "content-type"] == [
        ("accept", "text/csv"),
        ("x-one", "op-7"),
        ("Authorization", "tok"),
    ]


def test_header_values() -> None:
    op = {
        "headers": {
            "Num": "{{id}}",
            "True": "{{flag}}",
            "False": False,
            "List": "{{ids}}",
            "Obj": "{{user}}",
            "Null": "{{nothing}}",
            "Undef": "{{missing}}",
            "Empty": "",
            "Injected": "a\r\nX-Evil: 1",
        }
    }
    headers = headers_of({}, op)
    assert headers["num"] == "7"
    assert headers["true"] == "true"
    assert headers["list"] == "1, 2"
    assert headers["obj"] == "[object Object]"
    assert headers["empty"] == ""
    assert headers["injected"] == "a  X-Evil: 1"
    for dropped in ("false", "null", "undef"):
        assert dropped not in headers
    assert headers["accept"] == "application/json, text/plain, */*"


# -- query (§7.1 step 6) ---------------------------------------------------------------------


def test_query_serialization() -> None:
    params = {
        "q": "a b:c$d,e/f?&=",
        "n": 5,
        "t": True,
        "empty": "",
        "null": None,
        "undef": UNDEFINED,
        "none": [],
        "ids": [1, "x"],
        "obj": {"sub": "v", "deep": {"k": 1}},
        "objs": [{"a": 1}, {"a": 2}],
        "é": "ü",
    }
    assert encode_params(params) == (
        "q=a+b:c$d,e%2Ff%3F%26%3D&n=5&t=true&empty=&ids[]=1&ids[]=x&obj[sub]=v&obj[deep][k]=1"
        "&objs[0][a]=1&objs[1][a]=2&%C3%A9=%C3%BC"
    )


def test_query_is_appended_to_an_existing_query_string() -> None:
    request = build_request({}, {"url": "https://x.example/a?x=1", "query": {"q": "{{id}}"}}, CTX)
    assert request.url == "https://x.example/a?x=1&q=7"
    request = build_request({}, {"url": "https://x.example/a", "query": {"q": "{{missing}}"}}, CTX)
    assert request.url == "https://x.example/a"


# -- bodies (§7.1 step 7, §4.6) --------------------------------------------------------------


def test_json_body_types_and_undefined() -> None:
    op = {
        "method": "post",
        "url": "https://x.example/a",
        "body": {
            "n": "{{id}}",
            "t": "{{flag}}",
            "null": "{{nothing}}",
            "gone": "{{missing}}",
            "list": ["{{missing}}", "{{id}}", "x{{id}}"],
            "nested": {"deep": [{"name": "{{name}}"}]},
            "ü": "é",
        },
    }
    request = build_request({}, op, CTX)
    assert request.method == "POST"
    assert request.header("content-type") == "application/json"
    assert request.content is not None
    assert json.loads(request.content) == {
        "n": 7,
        "t": True,
        "null": None,
        "list": [None, 7, "x7"],
        "nested": {"deep": [{"name": "Jane Doe"}]},
        "ü": "é",
    }


def test_get_sends_an_empty_json_object_like_the_reference() -> None:
    request = build_request({}, {"url": "https://x.example/a"}, CTX)
    assert (request.method, request.content) == ("GET", b"{}")
    assert request.header("content-type") == "application/json"


def test_form_body_when_the_content_type_says_so() -> None:
    op = {
        "method": "POST",
        "url": "https://x.example/a",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        "body": {"name": "{{name}}", "id": "{{id}}", "gone": "{{missing}}"},
    }
    request = build_request({}, op, CTX)
    assert request.content == b"name=Jane+Doe&id=7"
    assert [v for k, v in request.headers if k.lower() == "content-type"] == [
        "application/x-www-form-urlencoded"
    ]


def test_string_bodies_and_their_default_content_types() -> None:
    post = build_request({}, {"method": "PUT", "url": "https://x.example", "body": "a={{id}}"}, CTX)
    assert (post.content, post.header("content-type")) == (
        b"a=7",
        "application/x-www-form-urlencoded",
    )
    get = build_request({}, {"url": "https://x.example", "body": "raw"}, CTX)
    assert get.header("content-type") == "application/json"


def test_scalar_body_is_a_config_error() -> None:
    with pytest.raises(ProxyConfigError):
        build_request({}, {"url": "https://x.example", "body": "{{id}}"}, CTX)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [(20, 20.0), (0, 30.0), (None, 30.0), ("5", 5.0), ("x", 30.0), (-1, 30.0), (True, 30.0)],
)
def test_timeout(raw: Any, seconds: float) -> None:
    config = {"requestDefaults": {"timeoutSeconds": raw}}
    assert build_request(config, {"url": "https://x.example"}, CTX).timeout == seconds


# -- property: whole requests from arbitrary flow data ------------------------------------------

_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
_CONFIGS = {name: example(name) for name in ("nimbus", "kitchen")}
_OPERATIONS = [(c, op) for c, config in _CONFIGS.items() for op in config["operations"]]


@settings(max_examples=300, deadline=None)
@given(
    which=st.sampled_from(_OPERATIONS),
    inputs=st.dictionaries(
        st.sampled_from(sorted({n for names in OPERATION_INPUTS.values() for n in names})),
        _VALUE,
    ),
    info=st.dictionaries(st.sampled_from(["workspaceId", "tenant", "proxyId", "x"]), _VALUE),
    token=st.none() | st.text(max_size=12),
)
def test_requests_build_from_any_flow_data(
    which: tuple[str, str], inputs: dict[str, Any], info: dict[str, Any], token: str | None
) -> None:
    """The complete request (URL, query, headers, auth, body) of every operation of both example
    configs is built, never raised, whatever values the flow and the user row hold."""
    config_name, name = which
    config = _CONFIGS[config_name]
    user = User(id="u-1-x", access_token=token, platform_additional_info=info)
    kwargs = {python_arg(k): v for k, v in inputs.items()}
    context = build_context(name, kwargs, user=user, auth_header="Basic eA==", secret_key="s")
    request = build_request(config, config["operations"][name], context, "Basic eA==")
    assert request.method in {"GET", "POST", "PUT", "PATCH", "DELETE"}
    assert request.url.startswith("https://")
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in request.headers)
    assert request.content is None or isinstance(request.content, bytes)
