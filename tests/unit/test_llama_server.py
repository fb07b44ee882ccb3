import pytest

from serving.llama_server import parse_args, server_params

xlc = pytest.importorskip("xllamacpp")
KIND = xlc.common_speculative_type
BASE = ["--model", "large.gguf", "--alias", "m", "--port", "8090"]


def test_the_default_server_drafts_nothing() -> None:
    params = server_params(parse_args(BASE))
    assert params.speculative.types == [KIND.COMMON_SPECULATIVE_TYPE_NONE]
    assert (params.n_parallel, params.n_ctx) == (4, 4 * 8192)
    assert params.slot_prompt_similarity == pytest.approx(0.9)  # a C float


def test_a_draft_model_is_asked_for_tokens_not_only_loaded() -> None:
    params = server_params(parse_args([*BASE, "--draft", "small.gguf"]))
    assert params.speculative.types == [KIND.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE]
    assert params.speculative.draft.mparams.path == "small.gguf"


def test_lookup_drafts_from_the_prompt() -> None:
    params = server_params(parse_args([*BASE, "--lookup"]))
    assert params.speculative.types == [KIND.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]


def test_flash_attention_is_llama_cpps_choice_unless_set() -> None:
    kinds = xlc.llama_flash_attn_type
    assert server_params(parse_args(BASE)).flash_attn_type == kinds.LLAMA_FLASH_ATTN_TYPE_AUTO
    off = server_params(parse_args([*BASE, "--flash-attn", "off"]))
    assert off.flash_attn_type == kinds.LLAMA_FLASH_ATTN_TYPE_DISABLED
