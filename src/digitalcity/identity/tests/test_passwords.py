"""Password rules of a GB/T 22239-2019 level-3 system."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from digitalcity.identity.models import PasswordHistory
from digitalcity.identity.passwords import CharacterClassValidator

from .factories import PASSWORD, Personas

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("password", ["abcdefghij1", "ABCDEFGH12", "abcdefgh#$", "%%%%%%11111"])
def test_it_refuses_passwords_of_two_classes(password: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        CharacterClassValidator().validate(password)
    assert "大写字母、小写字母、数字、特殊符号中的 3 类" in excinfo.value.messages[0]


@pytest.mark.parametrize("password", ["Abcdefgh12", "abcdefgh1#", "ABCDEFG#12", "Ab#cdefghi"])
def test_it_accepts_passwords_of_three_classes(password: str) -> None:
    CharacterClassValidator().validate(password)


def test_the_full_rule_set_refuses_short_and_common_passwords_in_chinese() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_password("Ab1#")
    assert "密码：长度至少为 10 个字符" in excinfo.value.messages


def test_it_refuses_reuse_of_the_last_passwords(personas: Personas, settings: object) -> None:
    settings.DC_PASSWORD_HISTORY = 3  # type: ignore[attr-defined]
    user = personas.citizen
    passwords = ["First#2026pw", "Second#2026pw", "Third#2026pw"]
    for password in passwords:
        validate_password(password, user)
        user.set_password(password)
        user.save()
    for used in passwords:
        with pytest.raises(ValidationError) as excinfo:
            validate_password(used, user)
        assert "不得与最近 3 次使用过的密码相同" in excinfo.value.messages[0]
    # The factory's password is the fourth most recent: out of the window of three.
    validate_password(PASSWORD, user)
    user.set_password("Fourth#2026pw")
    user.save()
    validate_password("First#2026pw", user)
    with pytest.raises(ValidationError):
        validate_password("Second#2026pw", user)
    assert PasswordHistory.objects.filter(user=user).count() == 3


def test_setting_a_password_stamps_when(personas: Personas) -> None:
    user = personas.citizen
    before = user.password_changed_at
    user.set_password("Another#2026pw")
    assert before is not None
    assert user.password_changed_at is not None
    assert user.password_changed_at >= before


def test_the_change_page_refuses_a_recent_password_in_chinese(
    personas: Personas, client: object
) -> None:
    from django.urls import reverse

    client.force_login(personas.citizen)  # type: ignore[attr-defined]
    response = client.post(  # type: ignore[attr-defined]
        reverse("identity:password_change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "不得与最近" in response.content.decode()
