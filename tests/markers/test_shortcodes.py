"""Short codes: what a person may type is read as the printed code, nothing else is."""

import pytest

from markers import shortcodes


def test_new_codes_are_six_characters_of_the_alphabet_and_vary():
    codes = {shortcodes.new_code() for _ in range(200)}
    assert len(codes) > 195
    assert all(len(c) == 6 and set(c) <= set(shortcodes.ALPHABET) for c in codes)


def test_display_groups_the_code():
    assert shortcodes.display("KM74QX") == "KM7-4QX"


@pytest.mark.parametrize(
    "typed",
    ["KM7-4QX", "km7-4qx", " km7 4qx ", "KM74QX", "km7–4qx", "KM7_4QX", "kM7.4Qx"],
)
def test_typed_forms_read_as_the_code(typed):
    assert shortcodes.normalize(typed) == "KM74QX"


def test_letters_people_confuse_read_as_digits():
    assert shortcodes.normalize("oIl-0i1") == "011011"


@pytest.mark.parametrize(
    "typed",
    ["", "KM7", "KM7-4QXX", "KM7-4QU", "<script>", "KM7\x004QX", "Ä" * 6, "1" * 40, None, 42],
)
def test_anything_else_is_no_code(typed):
    assert shortcodes.normalize(typed) is None
