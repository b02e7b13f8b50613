class CharacterClassValidator:
    def validate(self, password, user=None):  # type: ignore[no-untyped-def]
        return None

    def get_help_text(self) -> str:
        return ""


class PasswordHistoryValidator(CharacterClassValidator):
    pass
