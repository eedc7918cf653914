import datetime as dt

import pytest

from dangan.indexing.query import DateRange, FieldFilter, Not, Or, Phrase, QuerySyntaxError, Word, parse_query


def test_plain_words_phrases_or_and_exclusion_parse():
    ast = parse_query('暂停 "供用电合同" OR -销户')
    assert isinstance(ast, Or)
    assert ast.items[0].items == (Word("暂停"), Phrase("供用电合同"))
    assert ast.items[1] == Not(Word("销户"))


@pytest.mark.parametrize(
    "typed,field",
    [
        ("户号:3401405288", "account"),
        ("account:3401405288", "account"),
        ("业务:暂停", "business"),
        ("business:ZT", "business"),
        ("类型:HT", "type"),
        ("type:供用电合同", "type"),
        ("档号:GD01-KH·2024-0001239", "number"),
        ("户名:王", "name"),
        ("地址:人民路", "address"),
        ("工单:GD2024", "workorder"),
        ("位置:K1-A03", "location"),
        ("状态:passed", "qa"),
        ("qa:rescan", "qa"),
        ("户号：3401405288", "account"),  # full-width colon
    ],
)
def test_field_names_chinese_and_english(typed, field):
    assert parse_query(typed).field == field


def test_prefix_on_account_number():
    assert parse_query("户号:340140*") == FieldFilter("account", "340140", prefix=True)


def test_date_ranges_closed_open_and_partial():
    assert parse_query("日期:2024-01-01..2024-06-30") == DateRange(dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    assert parse_query("date:..2024-06-30") == DateRange(None, dt.date(2024, 6, 30))
    assert parse_query("日期:2024-02") == DateRange(dt.date(2024, 2, 1), dt.date(2024, 2, 29))


@pytest.mark.parametrize(
    "typed,column,words",
    [
        ('"供用电合同', 1, "unclosed quote"),
        ("暂停 foo:bar", 4, 'unknown field "foo"'),
        ("暂停 OR", 4, "OR needs a word"),
        ("日期:2024-13-45", 4, "not a valid calendar date"),
        ("日期:yesterday", 4, "not a date"),
        ("date:2024-06-01..2024-01-01", 6, "starts after it ends"),
        ("(暂停 减容", 1, 'missing ")"'),
        ("暂停)", 3, 'unexpected ")"'),
        ("户号:", 1, "needs a value"),
        ("34*01", 1, "only allowed at the end"),
    ],
)
def test_syntax_errors_say_where_and_what(typed, column, words):
    with pytest.raises(QuerySyntaxError) as err:
        parse_query(typed)
    assert err.value.column == column
    assert words in str(err.value)
    assert "^" in str(err.value)  # a caret under the problem


def test_empty_query_is_a_readable_error():
    with pytest.raises(QuerySyntaxError, match="empty query"):
        parse_query("   ")
