from django.contrib.auth.backends import ModelBackend


class PasswordBackend(ModelBackend):
    pass


class SmsCodeBackend(ModelBackend):
    pass
