"""Settings of the demo site: the package's demo project on Django 5.2,
configured from the environment that `run` sets (nothing here is secret)."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the site writes (media, collected static files, logs) lives here.
DATA_DIR = Path(os.environ.get("DEMO_DATA_DIR", BASE_DIR / ".data"))

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = os.environ.get("DEBUG", "False") == "True"
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "chunked_upload",
    # The Rust service's companion: `manage.py chunked_upload_env`, the md5
    # state table, completion md5 from the service's state.
    "chunked_upload_service",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the collected static files (jQuery File Upload, SparkMD5) under gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "demo_site.wsgi.application"

DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"])}
# No DEFAULT_AUTO_FIELD: the package's ChunkedUpload keeps the integer id of
# its own migration (startproject's BigAutoField would make Django want a new
# migration of the package's table). The demo app sets its own in DemoConfig.
SILENCED_SYSTEM_CHECKS = [
    "models.W042",  # the package's implicit AutoField
    # "the service cannot run on_completion": nginx sends only the upload URL
    # to the service, the complete URL stays here (run, nginx.conf).
    "chunked_upload_service.W003",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# The browser packages come from npm (package.json, `npm ci`), not from a copy
# in this repository.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/jquery", NODE_MODULES / "jquery" / "dist"),
    ("vendor/blueimp-file-upload", NODE_MODULES / "blueimp-file-upload" / "js"),
    ("vendor/spark-md5", NODE_MODULES / "spark-md5"),
]

MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # Says, on completion, whether the md5 came from the service's state.
    "loggers": {"chunked_upload_service": {"level": "INFO"}},
}
