from shared.tracking_code import ALPHABET, is_valid, new_tracking_code, normalize


def test_new_codes_are_valid_and_use_only_unambiguous_characters():
    for _ in range(500):
        code = new_tracking_code()
        assert is_valid(code), code
        assert set(code[3:7] + code[8:]) <= set(ALPHABET)
        assert not set(code) & set("0O1IL5S2Z8BU")


def test_single_character_typo_is_caught_when_validating():
    code = new_tracking_code()
    body = code[3:7]
    swapped = ALPHABET[(ALPHABET.index(body[0]) + 1) % len(ALPHABET)] + body[1:]
    assert not is_valid(f"KA-{swapped}-{code[8:]}")


def test_code_typed_in_lower_case_without_dashes_is_normalized():
    code = new_tracking_code()
    assert normalize(code.lower().replace("-", " ")) == code
