"""The LLM seam against a real HTTP server on 127.0.0.1 that answers like an OpenAI server."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import pytest
from fake_openai_server import FakeOpenAIServer

from crs.llm import (
    Completion,
    FallbackBackend,
    LLMBackend,
    LLMError,
    StreamingLLMBackend,
    TemplateBackend,
    make_backend,
)
from crs.llm.openai_backend import OpenAIBackend
from crs.settings import Settings

SECRET = "my-private-user-text-7c1f"


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    srv = FakeOpenAIServer(reply="Try Ronin (1998).").start()
    yield srv
    srv.stop()


def backend_for(server: FakeOpenAIServer, timeout_s: float = 5.0) -> OpenAIBackend:
    return OpenAIBackend(base_url=server.base_url, model="tiny-model", api_key="sk-test", timeout_s=timeout_s)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_template_backend_declines() -> None:
    backend = TemplateBackend()
    assert isinstance(backend, LLMBackend) and isinstance(backend, StreamingLLMBackend)
    assert backend.name == "template"
    assert backend.complete("sys", "user") is None
    assert list(backend.stream("sys", "user")) == []


def test_completion_round_trip(server: FakeOpenAIServer) -> None:
    backend = backend_for(server)
    assert isinstance(backend, LLMBackend)
    result = backend.complete("You recommend movies.", "Something like Heat?", max_tokens=42)
    assert isinstance(result, Completion)
    assert result.text == "Try Ronin (1998)." and result.backend == "openai"
    assert (result.tokens_in, result.tokens_out) == (11, 3)
    assert result.latency_ms > 0
    [request] = server.requests
    assert request["model"] == "tiny-model"
    assert request["messages"] == [{"role": "system", "content": "You recommend movies."},
                                   {"role": "user", "content": "Something like Heat?"}]
    assert request["temperature"] == 0 and request["max_tokens"] == 42
    assert "response_format" not in request
    assert server.headers[0]["authorization"] == "Bearer sk-test"
    assert "sk-test" not in repr(backend)


def test_json_mode_sends_response_format_and_checks_json(server: FakeOpenAIServer) -> None:
    server.replies = ['{"order": ["3", "1"]}', "not json", "[1, 2]"]
    backend = backend_for(server)
    result = backend.complete("Rank these.", "ids", json_mode=True)
    assert json.loads(result.text) == {"order": ["3", "1"]}
    assert server.requests[0]["response_format"] == {"type": "json_object"}
    with pytest.raises(LLMError, match="not JSON"):
        backend.complete("Rank these.", "ids", json_mode=True)
    with pytest.raises(LLMError, match="not a JSON object"):
        backend.complete("Rank these.", "ids", json_mode=True)


def test_streaming(server: FakeOpenAIServer) -> None:
    server.reply = "You might enjoy Collateral tonight."
    chunks = list(backend_for(server).stream("sys", "user"))
    assert len(chunks) > 1 and "".join(chunks) == server.reply
    assert server.requests[0]["stream"] is True


@pytest.mark.parametrize("mode", ["error500", "garbage", "empty"])
def test_bad_answers_raise_llm_error(server: FakeOpenAIServer, mode: str) -> None:
    server.mode = mode
    with pytest.raises(LLMError):
        backend_for(server).complete("sys", "user")
    assert len(server.requests) == 1  # max_retries=0: one request, no retry storm


@pytest.mark.parametrize("mode", ["error500", "garbage", "empty"])
def test_bad_answers_fall_back_to_template(server: FakeOpenAIServer, mode: str,
                                           caplog: pytest.LogCaptureFixture) -> None:
    server.mode = mode
    backend = FallbackBackend(backend_for(server))
    with caplog.at_level(logging.DEBUG):
        assert backend.complete("sys", SECRET) is None
    assert backend.failures == 1 and backend.last_error
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "openai" in warnings[0].getMessage()
    assert not any(SECRET in r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)


def test_timeout_falls_back_within_the_timeout(server: FakeOpenAIServer) -> None:
    server.mode = "hang"
    backend = FallbackBackend(backend_for(server, timeout_s=0.5))
    start = time.perf_counter()
    assert backend.complete("sys", "user") is None
    elapsed = time.perf_counter() - start
    assert elapsed < 0.5 + 1.0, f"fallback took {elapsed:.2f}s"
    assert backend.failures == 1 and "Timeout" in backend.last_error
    # a per-call timeout overrides the default
    slow_default = FallbackBackend(backend_for(server, timeout_s=30))
    start = time.perf_counter()
    assert slow_default.complete("sys", "user", timeout_s=0.3) is None
    assert time.perf_counter() - start < 0.3 + 1.0


def test_server_down_falls_back() -> None:
    backend = FallbackBackend(OpenAIBackend(f"http://127.0.0.1:{closed_port()}/v1", "m", timeout_s=2))
    start = time.perf_counter()
    assert backend.complete("sys", "user") is None
    assert time.perf_counter() - start < 2.0
    assert backend.failures == 1 and "Connection" in backend.last_error
    assert list(backend.stream("sys", "user")) == []  # template stream: nothing to show
    assert backend.failures == 2


def test_fallback_passes_successes_through(server: FakeOpenAIServer) -> None:
    backend = FallbackBackend(backend_for(server))
    assert backend.name == "openai"
    assert backend.complete("sys", "user").text == "Try Ronin (1998)."
    assert "".join(backend.stream("sys", "user")) == "Try Ronin (1998)."
    assert backend.failures == 0 and backend.last_error is None


class _Broken:
    name = "broken"

    def complete(self, system: str, user: str, **_kw: object) -> Completion | None:
        raise RuntimeError("not an LLMError at all")


class _Canned:
    name = "canned"

    def complete(self, system: str, user: str, **_kw: object) -> Completion | None:
        return Completion(text="canned", backend=self.name, latency_ms=0.0)


def test_any_exception_falls_back_to_the_given_fallback() -> None:
    backend = FallbackBackend(_Broken(), fallback=_Canned())
    assert backend.complete("s", "u").text == "canned"
    assert "".join(backend.stream("s", "u")) == "canned"  # non-streaming backends stream one chunk
    assert backend.failures == 2 and backend.last_error.startswith("RuntimeError")
    assert FallbackBackend(_Broken(), fallback=_Broken()).complete("s", "u") is None


def test_factory_template() -> None:
    backend = make_backend(Settings(llm_backend="template"))
    assert isinstance(backend, FallbackBackend) and backend.name == "template"
    assert backend.complete("s", "u") is None


def test_factory_openai_talks_to_the_server(server: FakeOpenAIServer) -> None:
    settings = Settings(llm_backend="openai", llm_base_url=server.base_url, llm_model="m1", llm_timeout_s=3)
    backend = make_backend(settings, environ={"OPENAI_API_KEY": "sk-env"})
    assert backend.name == "openai"
    assert backend.complete("s", "u").text == "Try Ronin (1998)."
    assert server.requests[0]["model"] == "m1"
    assert server.headers[0]["authorization"] == "Bearer sk-env"
    explicit = make_backend(settings.model_copy(update={"llm_api_key": "sk-set"}), environ={"OPENAI_API_KEY": "sk-env"})
    explicit.complete("s", "u")
    assert server.headers[1]["authorization"] == "Bearer sk-set"


def test_factory_errors() -> None:
    with pytest.raises(ValueError, match="CRS_LLM_BASE_URL"):
        make_backend(Settings(llm_backend="openai", llm_base_url=None))
    with pytest.raises(ValueError, match="Unsupported LLM backend: 'llamacpp'"):
        make_backend(Settings.model_construct(llm_backend="llamacpp"))
    with pytest.raises(ValueError, match="timeout_s"):
        OpenAIBackend("http://127.0.0.1:1/v1", "m", timeout_s=0)
