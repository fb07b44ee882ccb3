from tools.search_docs import DocIndex, Section, default_index, load_sections, search_docs


def test_every_document_is_split_into_sections() -> None:
    sections = load_sections()
    docs = {s.doc for s in sections}
    assert len(docs) >= 10
    assert len(sections) > len(docs)


def test_ranks_the_relevant_policy_first() -> None:
    hits = default_index().search("refund window restocking fee for opened laptops")
    assert hits[0][0].doc == "refund-policy.md"
    assert hits == sorted(hits, key=lambda h: -h[1])


def test_unknown_words_find_nothing() -> None:
    index = DocIndex([Section("a.md", "A", "apples and pears"), Section("b.md", "B", "plums")])
    assert index.search("zebra") == []
    assert index.search("plums")[0][0].doc == "b.md"


async def test_tool_returns_sections_with_their_source() -> None:
    text = await search_docs.ainvoke({"query": "support first response time urgent"})
    assert "[support-sla.md |" in text
