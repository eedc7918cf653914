from dangan.indexing.analyzer import (
    ANALYZER_VERSION,
    COMPOUND_JOINER,
    BigramTokenizer,
    normalize,
    normalize_keyword,
    normalize_with_offsets,
    positioned_terms,
    query_terms,
    streams,
    tokenize,
)


def terms(text, **kw):
    return [t.text for t in tokenize(text, **kw)]


def test_cjk_run_becomes_overlapping_bigrams_plus_unigrams():
    assert terms("暂停用电", unigrams=False) == ["暂停", "停用", "用电"]
    assert set(terms("暂停用电")) == {"暂停", "停用", "用电", "暂", "停", "用", "电"}


def test_single_cjk_char_is_its_own_term():
    assert terms("王", unigrams=False) == ["王"]


def test_digit_runs_and_latin_words_stay_whole_and_lower_case():
    assert "3401405288" in terms("户号3401405288号")
    assert "10kv" in terms("电压 10kV")


def test_full_width_is_normalised():
    assert terms("３４０１４０５２８８ ＡＢＣ") == terms("3401405288 abc")


def test_compound_archive_number_gives_whole_and_parts():
    got = terms("档号GD01-KH·2024-0001239")
    assert "gd01-kh-2024-0001239" in got
    for part in ["gd01", "kh", "2024", "0001239"]:
        assert part in got


def test_positions_are_token_positions_for_phrases():
    bigram_positions = [(t.text, t.position) for t in tokenize("供用电合同", unigrams=False)]
    assert bigram_positions == [("供用", 0), ("用电", 1), ("电合", 2), ("合同", 3)]
    assert query_terms("合同，3401") == [("合同", 0), ("3401", 1)]


def test_char_offsets_point_into_original_text():
    text = "户号：３４０１"
    term = next(t for t in tokenize(text) if t.text == "3401")
    assert text[term.start : term.end] == "３４０１"


def test_punctuation_is_dropped():
    assert terms("，。！？、") == []


def test_whoosh_tokenizer_matches_tokenize():
    whoosh_terms = [t.text for t in BigramTokenizer()("王建国 3401", positions=True)]
    assert whoosh_terms == terms("王建国 3401")


def test_keyword_normalisation_unifies_width_case_and_connectors():
    assert normalize_keyword("ＧＤ01－KH・2024") == normalize_keyword("gd01-kh·2024")
    assert isinstance(ANALYZER_VERSION, int)


def _random_texts(count: int, seed: int = 7):
    import random

    rng = random.Random(seed)
    alphabet = (
        list("暂停用电申请减容王建国户号供用电合同〇")
        + list("３４０ＡＢｃ：，（）－・")  # full-width forms NFKC folds
        + list("0123456789abcXYZ")
        + list("-·./_#‐–—−・ \n\t,:;!?'\"()[]")
        + ["é", "e\u0301", "ß", "İ", "Σ", "\u00b2", "ﬁ", "\U00020001", "\ufa6e", "_"]
    )
    for _ in range(count):
        yield "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))


def _reference(text):
    """What `tokenize` says, split the way `streams` splits it."""
    joined = [t for t in tokenize(text) if COMPOUND_JOINER in t.text]
    positioned = {(t.text, t.position) for t in tokenize(text) if COMPOUND_JOINER not in t.text}
    main = []
    for term in tokenize(text, unigrams=False):
        if COMPOUND_JOINER not in term.text and (not main or main[-1][1] != term.position):
            main.append((term.text, term.position))
    return main, positioned, sorted(t.text for t in joined)


def test_streams_are_tokenize_in_another_shape():
    for text in [*_random_texts(3000), "档号GD01-KH·2024-0001239，户号：３４０１４０５２８８ 10kV", "王", ""]:
        main, positioned, compounds = _reference(text)
        got = streams(text)
        assert list(enumerate(got.terms.split())) == [(p, t) for t, p in main], text
        assert set(positioned_terms(got.terms)) == positioned, text
        assert sorted(got.compounds.split()) == compounds, text
        assert got.normalized == normalize(text)


def test_fast_normalize_equals_the_character_by_character_one():
    for text in _random_texts(2000, seed=11):
        assert normalize(text) == normalize_with_offsets(text)[0]


def test_long_texts_have_the_terms_of_short_ones():
    """Terms of a long text are made as an array, of a short one run by run: the same terms."""
    from dangan.indexing.analyzer import _NON_TOKEN, ARRAY_TERMS_FROM, _array_terms, _run_terms

    texts = list(_random_texts(500, seed=5))
    long = "".join(texts)
    assert len(long) >= ARRAY_TERMS_FROM
    for text in [*texts, long, "24起执行", "王", "", "a\ud800王二 x"]:
        cleaned = _NON_TOKEN.sub(" ", normalize(text))
        assert _array_terms(cleaned).split() == _run_terms(cleaned).split(), text
