from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.core.validators import (
    USCC_ALPHABET,
    InvalidIdNumber,
    InvalidPhone,
    InvalidUscc,
    ResidentId,
    age_on,
    is_valid_mainland_mobile,
    is_valid_resident_id,
    is_valid_uscc,
    normalize_mainland_mobile,
    parse_resident_id,
    parse_uscc,
    resident_id_check_char,
    uscc_check_char,
)

TODAY = date(2025, 6, 1)
ID_CHARS = "0123456789X"

# --- resident ID numbers -----------------------------------------------------------------------


def test_known_valid_id_number_parses_into_its_parts():
    assert parse_resident_id("11010519491231002X", today=TODAY) == ResidentId(
        number="11010519491231002X", division_code="110105", birth_date=date(1949, 12, 31), gender="female"
    )


def test_check_char_of_known_number_is_x():
    assert resident_id_check_char("11010519491231002") == "X"


def test_wrong_check_char_is_invalid_with_reason():
    with pytest.raises(InvalidIdNumber) as exc:
        parse_resident_id("110105194912310021", today=TODAY)
    assert exc.value.code == "invalid_id_number"
    assert exc.value.reason == "check_char"
    assert isinstance(exc.value, ValueError)


def test_lowercase_x_and_surrounding_spaces_are_accepted_and_canonicalised():
    assert parse_resident_id(" 11010519491231002x\n", today=TODAY).number == "11010519491231002X"


def test_odd_17th_digit_is_male():
    first17 = "44030419900101001"
    assert parse_resident_id(first17 + resident_id_check_char(first17), today=TODAY).gender == "male"


@pytest.mark.parametrize("birth", ["19990230", "20230229", "19991301", "19990100", "18991231"])
def test_impossible_or_too_old_birth_date_is_invalid(birth):
    first17 = "440304" + birth + "123"
    with pytest.raises(InvalidIdNumber) as exc:
        parse_resident_id(first17 + resident_id_check_char(first17), today=TODAY)
    assert exc.value.reason == "birth_date"


def test_birth_date_after_today_is_invalid():
    first17 = "44030420250602123"
    number = first17 + resident_id_check_char(first17)
    assert not is_valid_resident_id(number, today=TODAY)
    assert is_valid_resident_id(number, today=date(2025, 6, 2))


def test_birth_date_is_checked_against_the_real_today_by_default():
    first17 = "44030420990101123"
    assert not is_valid_resident_id(first17 + resident_id_check_char(first17))
    assert is_valid_resident_id("11010519491231002X")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "11010519491231002",  # 17 characters
        "11010519491231002XX",
        "1101051949123100X2",  # X not last
        "11010519491231002Y",
        "１１010519491231002X",  # full-width digits
        "110105 19491231002X",
        None,
        11010519491231002,
    ],
)
def test_malformed_id_numbers_are_invalid(value):
    assert not is_valid_resident_id(value, today=TODAY)
    with pytest.raises(InvalidIdNumber) as exc:
        parse_resident_id(value, today=TODAY)
    assert exc.value.reason == "format"


@pytest.mark.parametrize("value", ["1101051949123100", "1101051949123100a2", "11010519491231002X"])
def test_check_char_needs_exactly_17_digits(value):
    with pytest.raises(InvalidIdNumber):
        resident_id_check_char(value)


@st.composite
def valid_first17(draw):
    division = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return division + birth.strftime("%Y%m%d") + sequence


@given(valid_first17())
def test_any_real_date_with_computed_check_char_is_valid(first17):
    parsed = parse_resident_id(first17 + resident_id_check_char(first17), today=TODAY)
    assert parsed.number[:17] == first17
    assert parsed.birth_date.strftime("%Y%m%d") == first17[6:14]


@given(valid_first17(), st.integers(0, 17), st.sampled_from(ID_CHARS))
def test_any_single_character_substitution_is_invalid(first17, position, char):
    number = first17 + resident_id_check_char(first17)
    if number[position] == char:
        char = ID_CHARS[(ID_CHARS.index(char) + 1) % len(ID_CHARS)]
    altered = number[:position] + char + number[position + 1 :]
    assert not is_valid_resident_id(altered, today=TODAY)


# --- age ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2015, 6, 1), date(2025, 6, 1), 10),
        (date(2015, 6, 2), date(2025, 6, 1), 9),
        (date(2015, 6, 1), date(2015, 6, 1), 0),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
    ],
)
def test_age_counts_completed_years(birth, day, age):
    assert age_on(birth, day) == age


def test_age_before_birth_is_an_error():
    with pytest.raises(ValueError):
        age_on(date(2020, 1, 2), date(2020, 1, 1))


# --- unified social credit codes ---------------------------------------------------------------


def test_known_valid_uscc_parses_into_its_parts():
    parsed = parse_uscc("91350100M000100Y43")
    assert (parsed.registration_dept, parsed.org_type) == ("9", "1")
    assert parsed.division_code == "350100"
    assert parsed.org_code == "M000100Y4"
    assert not parsed.is_civil_affairs
    assert parsed.civil_affairs_kind is None


@pytest.mark.parametrize(
    ("org_type", "kind"),
    [
        ("1", "social_group"),
        ("2", "private_non_enterprise"),
        ("3", "foundation"),
        ("9", "other"),
        ("4", None),
    ],
)
def test_civil_affairs_codes_expose_the_organisation_form(org_type, kind):
    first17 = f"5{org_type}440304MJL12345A"
    parsed = parse_uscc(first17 + uscc_check_char(first17))
    assert parsed.is_civil_affairs
    assert parsed.civil_affairs_kind == kind


def test_uscc_lower_case_is_accepted_and_canonicalised():
    assert parse_uscc(" 91350100m000100y43 ").code == "91350100M000100Y43"


def test_uscc_wrong_check_char_is_invalid_with_reason():
    with pytest.raises(InvalidUscc) as exc:
        parse_uscc("91350100M000100Y44")
    assert exc.value.code == "invalid_uscc"
    assert exc.value.reason == "check_char"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "91350100M000100Y4",
        "91350100M000100Y433",
        "9135010OM000100Y43",  # O is not in the alphabet
        "913501I0M000100Y43",
        "91A50100M000100Y43",  # division code must be digits
        "91350100S000100Y43",
        None,
    ],
)
def test_malformed_usccs_are_invalid(value):
    assert not is_valid_uscc(value)


@st.composite
def valid_uscc17(draw):
    head = draw(st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2))
    division = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    org = draw(st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9))
    return head + division + org


@given(valid_uscc17())
def test_any_uscc_with_computed_check_char_is_valid(first17):
    assert is_valid_uscc(first17 + uscc_check_char(first17))


@given(valid_uscc17(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_any_single_uscc_substitution_is_invalid(first17, position, char):
    code = first17 + uscc_check_char(first17)
    if code[position] == char:
        char = USCC_ALPHABET[(USCC_ALPHABET.index(char) + 1) % len(USCC_ALPHABET)]
    assert not is_valid_uscc(code[:position] + char + code[position + 1 :])


# --- mobile numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13800138000",
        "+86 138 0013 8000",
        "8613800138000",
        "008613800138000",
        "138-0013-8000",
        "(+86) 138 0013 8000",
        "１３８００１３８０００",
        " 13800138000 ",
    ],
)
def test_typed_mobile_numbers_normalise_to_11_digits(value):
    assert normalize_mainland_mobile(value) == "13800138000"


@pytest.mark.parametrize(
    "value",
    ["", "12800138000", "1380013800", "138001380001", "+1 138 0013 8000", "86138001380", "1380013800O", None],
)
def test_non_mobile_numbers_are_refused_with_invalid_phone(value):
    with pytest.raises(InvalidPhone) as exc:
        normalize_mainland_mobile(value)
    assert exc.value.code == "invalid_phone"


@pytest.mark.parametrize(
    ("value", "valid"),
    [("13800138000", True), ("19912345678", True), ("12800138000", False), ("+8613800138000", False)],
)
def test_is_valid_mobile_takes_only_the_bare_form(value, valid):
    assert is_valid_mainland_mobile(value) is valid


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_every_bare_mobile_is_its_own_normal_form(number):
    assert is_valid_mainland_mobile(number)
    assert normalize_mainland_mobile("+86 " + number) == number
