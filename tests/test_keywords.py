"""Keywords: first word(s), case-, accent- and punctuation-insensitive, with synonyms per language."""

import pytest

from hotline.engine import KeywordTable, normalize, reserved_word

TABLE = KeywordTable({
    "en": {"ice": ["ICE"], "menu": ["MENU"], "hello": ["HELLO", "HI"]},
    "es": {"ice": ["ICE", "MIGRA"], "menu": ["MENÚ"], "hello": ["HOLA", "AYUDA"]},
    "vi": {"hello": ["XIN CHÀO", "CHÀO"]},
    "ar": {"hello": ["مرحبا", "مساعدة"]},
})


@pytest.mark.parametrize("text", ["ice", "ICE!", " Ice.", "ÍCE", "ice please help", "¡ICE!", "ICE\n"])
def test_ice_is_recognised_however_it_is_typed(text):
    match = TABLE.match(text, allowed={"ice"})
    assert match and match.keyword == "ice"


def test_whole_message_or_first_word():
    assert TABLE.match("ICE").whole
    assert not TABLE.match("ice agents are here").whole


def test_words_in_the_middle_do_not_count():
    assert TABLE.match("the ice cream truck") is None


def test_synonyms_carry_their_language():
    assert TABLE.match("migra", allowed={"ice"}).language == "es"
    assert TABLE.match("Hola!").language == "es"
    assert TABLE.match("menu").keyword == "menu"
    assert TABLE.match("MENÚ", prefer_language="es").language == "es"


def test_multi_word_keywords_match_longest_first():
    match = TABLE.match("Xin chào, tôi cần giúp")
    assert (match.keyword, match.language, match.length) == ("hello", "vi", 2)


def test_arabic_keywords_match_with_or_without_marks():
    assert TABLE.match("مَرْحَبًا").language == "ar"
    assert TABLE.match("مساعدة").keyword == "hello"


def test_only_allowed_keywords_and_languages():
    assert TABLE.match("ICE", allowed={"menu"}) is None
    assert TABLE.match("HOLA", languages={"en"}) is None


@pytest.mark.parametrize("text,word", [("STOP", "STOP"), ("stop", "STOP"), (" Stop. ", "STOP"), ("unsubscribe", "UNSUBSCRIBE"),
                                       ("Start", "START"), ("HELP", "HELP"), ("info", "INFO"), ("yes", "YES")])
def test_twilio_reserved_words_as_the_whole_message(text, word):
    assert reserved_word(text) == word


@pytest.mark.parametrize("text", ["stop by the office", "help me", "", "STOPP"])
def test_reserved_words_only_count_alone(text):
    assert reserved_word(text) is None


def test_normalize_keeps_burmese_vowel_signs():
    # Dropping Myanmar vowel signs would make different words equal.
    assert normalize("မင်္ဂလာပါ") != normalize("မငဂလပ")


def test_digits_from_any_script_answer_a_menu():
    from hotline.engine.validators import Answer, Limits, choice, phone

    limits = Limits({}, ["1", "2", "3"])
    assert choice(Answer("၂"), limits).value == "2"          # Burmese / Karen keyboards
    assert choice(Answer("٣"), limits).value == "3"          # Arabic-Indic
    assert phone(Answer("٧٢٠٥٥٥٠١٧٧"), limits).value == "+17205550177"


@pytest.mark.parametrize("typed", ["DUNG", "dung", "Đúng", "ĐÚNG", "đung"])
def test_vietnamese_d_with_stroke_matches_without_diacritics(typed):
    table = KeywordTable({"vi": {"yes": ["ĐÚNG"], "ack": ["ĐÃ NHẬN"]}})
    assert table.match(typed).keyword == "yes"
    assert table.match("da nhan 101").keyword == "ack"
    assert normalize("Đã nhận") == "da nhan"
