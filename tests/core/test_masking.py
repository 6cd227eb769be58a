import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.core.masking import mask_email, mask_id_number, mask_name, mask_phone

MASKERS = [mask_name, mask_phone, mask_id_number, mask_email]


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张", "*"),
        ("张三", "张*"),
        ("张小三", "张*三"),
        ("欧阳小锋", "欧**锋"),
        (" 司马相如 ", "司**如"),
        ("John Smith", "J*** S****"),
        ("Jean-Luc Picard", "J***-L** P*****"),
        ("阿依古丽·买买提", "阿***·买**"),
        ("Li Na", "L* N*"),
        ("J. Smith", "*. S****"),
    ],
)
def test_names_are_masked(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+86 138-0013-8000", "138****8000"),
        ("0755-12345678", "075*******678"),
        ("12345", "1***5"),
        ("110", "***"),
    ],
)
def test_phones_are_masked(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "1****************X"),
        ("110105491231002", "1*************2"),
        ("ABCD", "A**D"),
        ("ABC", "***"),
    ],
)
def test_id_numbers_show_first_and_last_character_only(number, masked):
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("zhangsan@example.com", "z*******@example.com"),
        ("a@example.com", "*@example.com"),
        ("@example.com", "*@example.com"),
        ("no-at-sign", "n*********"),
    ],
)
def test_emails_keep_first_character_and_domain(email, masked):
    assert mask_email(email) == masked


@pytest.mark.parametrize("mask", MASKERS)
@pytest.mark.parametrize("value", [None, "", "   ", 42, b"13800138000", ["x"]])
def test_empty_or_non_string_input_masks_to_empty(mask, value):
    assert mask(value) == ""


@pytest.mark.parametrize("mask", MASKERS)
@given(value=st.text(min_size=1).filter(lambda s: s.strip() and "*" not in s))
def test_masking_never_raises_and_always_hides_something(mask, value):
    masked = mask(value)
    assert isinstance(masked, str)
    assert "*" in masked
    assert masked != value.strip()
