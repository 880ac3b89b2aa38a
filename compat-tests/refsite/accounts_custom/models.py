"""A custom AUTH_USER_MODEL (selected by AUTH_USER_TABLE=accounts_custom_customuser):
AbstractBaseUser with a username and an email, an integer `id`, and no
`is_active` column (AbstractBaseUser.is_active is the class attribute True)."""
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models


class CustomUserManager(BaseUserManager):
    def create_user(self, username, email='', password=None):
        user = self.model(username=username, email=self.normalize_email(email))
        user.set_password(password)
        user.save(using=self._db)
        return user


class CustomUser(AbstractBaseUser):
    username = models.CharField(max_length=150, unique=True)
    email = models.EmailField(blank=True)

    USERNAME_FIELD = 'username'
    EMAIL_FIELD = 'email'
    REQUIRED_FIELDS = []

    objects = CustomUserManager()
