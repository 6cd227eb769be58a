"""The character-bigram tokens behind substring search (pure part)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.textsearch import bigram, query_terms, tag_token, term_tokens, tokens


def test_tokens_are_bigrams_and_the_last_character_of_each_field():
    assert tokens(["合唱团"]) == {bigram("合", "唱"), bigram("唱", "团"), bigram("团", None)}
    # fields do not join: no bigram across them
    assert bigram("团", "环") not in tokens(["合唱团", "环保"])


def test_query_terms_split_on_whitespace_fold_case_and_drop_repeats():
    assert query_terms("  环保  U站 u站\u3000合唱 ") == ["环保", "u站", "合唱"]
    assert query_terms("") == []


def test_a_long_term_needs_a_bounded_number_of_lookups():
    term = "深圳市龙华区民治街道党群服务中心志愿服务U站"
    grams = term_tokens(query_terms(term)[0])
    assert len(grams) == 4
    assert grams[0] == bigram("深", "圳") and grams[-1] == bigram("u", "站")


def test_tags_never_meet_bigrams():
    assert tag_token("急救") < 0 and tag_token(" 急救 ") == tag_token("急救")
    assert tag_token("First Aid") == tag_token("first aid")


alphabet = st.sampled_from(list("合唱环保志愿服务社区U站abc 的"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet, min_size=1, max_size=30), st.data())
def test_every_substring_has_its_tokens_in_the_text(text, data):
    """What the search relies on: any substring's lookup tokens are among the text's tokens."""
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    term = text[start:end].casefold()
    have = tokens([text])
    if len(term) == 1:
        assert any(t // 0x110000 == ord(term) for t in have)
    else:
        assert set(term_tokens(term)) <= have
