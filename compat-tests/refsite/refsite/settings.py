"""
Django settings for refsite project (the compat-test reference site).

This is what `django-admin startproject` writes, changed only where noted:
every deployment-dependent setting is read from the same environment
variables as the Rust service (see /work/shared/CONTRACT.md). The file works
unchanged under Django 3.2, 4.2, 5.2, 6.0 and 6.1.
"""
import json
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import django

# Build paths inside the project like this: BASE_DIR / 'subdir'.
BASE_DIR = Path(__file__).resolve().parent.parent


def _env_list(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == '':
        return list(default)
    raw = raw.strip()
    if raw.startswith('['):
        return [str(x) for x in json.loads(raw)]
    return [x.strip() for x in raw.split(',') if x.strip()]


def _env_bool(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == '':
        return default
    v = raw.strip().lower()
    if v in ('true', '1', 'yes', 'on'):
        return True
    if v in ('false', '0', 'no', 'off'):
        return False
    raise ValueError('%s: %r is not a boolean' % (name, raw))


def _env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == '' or raw.strip() == 'None':
        return default
    return int(raw)


def _env_octal(name, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == '':
        return default
    raw = raw.strip()
    if raw == 'None':
        return None
    if raw.startswith('0o'):
        raw = raw[2:]
    return int(raw, 8)


def _database_from_url(url):
    parts = urlsplit(url)
    # Changed: sqlite:////absolute/path (the dj-database-url form), for the
    # companion app's chunked_upload_env tests.
    if parts.scheme == 'sqlite':
        return {'ENGINE': 'django.db.backends.sqlite3', 'NAME': unquote(parts.path[1:])}
    if parts.scheme not in ('postgres', 'postgresql', 'pgsql'):
        raise ValueError('DATABASE_URL must be a postgres:// URL')
    options = dict(parse_qsl(parts.query))
    return {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': unquote(parts.path.lstrip('/')),
        'USER': unquote(parts.username or ''),
        'PASSWORD': unquote(parts.password or ''),
        'HOST': unquote(parts.hostname or ''),
        'PORT': str(parts.port or ''),
        'OPTIONS': options,
    }


# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = os.environ['SECRET_KEY']
if django.VERSION >= (4, 1):
    SECRET_KEY_FALLBACKS = _env_list('SECRET_KEY_FALLBACKS', [])

# SECURITY WARNING: don't run with debug turned on in production!
DEBUG = False

ALLOWED_HOSTS = _env_list('ALLOWED_HOSTS', ['*'])

# Changed: behind a proxy. SECURE_PROXY_SSL_HEADER is `HEADER,value` or a JSON
# array of two strings.
if os.environ.get('SECURE_PROXY_SSL_HEADER', '').strip():
    SECURE_PROXY_SSL_HEADER = tuple(_env_list('SECURE_PROXY_SSL_HEADER', []))
    if len(SECURE_PROXY_SSL_HEADER) != 2:
        raise ValueError('SECURE_PROXY_SSL_HEADER: want two values, got %r' % (SECURE_PROXY_SSL_HEADER,))
USE_X_FORWARDED_HOST = _env_bool('USE_X_FORWARDED_HOST', False)
USE_X_FORWARDED_PORT = _env_bool('USE_X_FORWARDED_PORT', False)

# Changed: APPEND_SLASH, and the service's TRAILING_SLASH (read by urls.py):
# `optional` = the demo's `^api/chunked_upload/?$`, `required` = `path('api/chunked_upload/')`.
APPEND_SLASH = _env_bool('APPEND_SLASH', True)
TRAILING_SLASH = (os.environ.get('TRAILING_SLASH') or 'optional').strip()
if TRAILING_SLASH not in ('optional', 'required'):
    raise ValueError('TRAILING_SLASH: %r is neither optional nor required' % TRAILING_SLASH)


# Application definition

INSTALLED_APPS = [
    'django.contrib.admin',
    'django.contrib.auth',
    'django.contrib.contenttypes',
    'django.contrib.sessions',
    'django.contrib.messages',
    'django.contrib.staticfiles',
    'chunked_upload',
    # Changed: AbstractChunkedUpload subclasses, used when CHUNKED_UPLOAD_TABLE
    # names their table (see urls.py).
    'custom_upload',
]

# Changed: AUTH_USER_TABLE (the candidate's name for it) selects the user model.
AUTH_USER_TABLE = os.environ.get('AUTH_USER_TABLE') or 'auth_user'
if AUTH_USER_TABLE == 'accounts_custom_customuser':
    INSTALLED_APPS.append('accounts_custom')
    AUTH_USER_MODEL = 'accounts_custom.CustomUser'
elif AUTH_USER_TABLE != 'auth_user':
    raise ValueError('AUTH_USER_TABLE: the refsite has no user model in table %r' % AUTH_USER_TABLE)

MIDDLEWARE = [
    'django.middleware.security.SecurityMiddleware',
    'django.contrib.sessions.middleware.SessionMiddleware',
    'django.middleware.common.CommonMiddleware',
    'django.middleware.csrf.CsrfViewMiddleware',
    'django.contrib.auth.middleware.AuthenticationMiddleware',
    'django.contrib.messages.middleware.MessageMiddleware',
    'django.middleware.clickjacking.XFrameOptionsMiddleware',
]

# Changed: AUTH_REQUIRED=False is a site without AuthenticationMiddleware
# (request.user never exists: uploads are anonymous, user_id NULL).
if not _env_bool('AUTH_REQUIRED', True):
    MIDDLEWARE.remove('django.contrib.auth.middleware.AuthenticationMiddleware')
    # admin.E408: the admin wants AuthenticationMiddleware; this site has no use for it.
    SILENCED_SYSTEM_CHECKS = ['admin.E408']

ROOT_URLCONF = 'refsite.urls'

TEMPLATES = [
    {
        'BACKEND': 'django.template.backends.django.DjangoTemplates',
        'DIRS': [BASE_DIR / 'templates'],
        'APP_DIRS': True,
        'OPTIONS': {
            'context_processors': [
                'django.template.context_processors.debug',
                'django.template.context_processors.request',
                'django.contrib.auth.context_processors.auth',
                'django.contrib.messages.context_processors.messages',
            ],
        },
    },
]

WSGI_APPLICATION = 'refsite.wsgi.application'


# Database

DATABASES = {
    'default': _database_from_url(os.environ['DATABASE_URL']),
}


# Password validation

AUTH_PASSWORD_VALIDATORS = [
    {
        'NAME': 'django.contrib.auth.password_validation.UserAttributeSimilarityValidator',
    },
    {
        'NAME': 'django.contrib.auth.password_validation.MinimumLengthValidator',
    },
    {
        'NAME': 'django.contrib.auth.password_validation.CommonPasswordValidator',
    },
    {
        'NAME': 'django.contrib.auth.password_validation.NumericPasswordValidator',
    },
]

# Changed: a fast hasher first, so test logins are quick.
PASSWORD_HASHERS = [
    'django.contrib.auth.hashers.MD5PasswordHasher',
    'django.contrib.auth.hashers.PBKDF2PasswordHasher',
]


# Internationalization

LANGUAGE_CODE = 'en-us'

TIME_ZONE = os.environ.get('TIME_ZONE') or 'UTC'

USE_I18N = True

if django.VERSION < (4, 0):
    USE_L10N = True

USE_TZ = _env_bool('USE_TZ', True)


# Static files (CSS, JavaScript, Images)

STATIC_URL = '/static/'

# Default primary key field type

DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'


# Changed: deployment settings from the environment (CONTRACT.md).

MEDIA_ROOT = os.environ['MEDIA_ROOT']

FILE_UPLOAD_PERMISSIONS = _env_octal('FILE_UPLOAD_PERMISSIONS', 0o644)
FILE_UPLOAD_DIRECTORY_PERMISSIONS = _env_octal('FILE_UPLOAD_DIRECTORY_PERMISSIONS', None)

DATA_UPLOAD_MAX_MEMORY_SIZE = _env_int('DATA_UPLOAD_MAX_MEMORY_SIZE', 2621440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = _env_int('DATA_UPLOAD_MAX_NUMBER_FIELDS', 1000)
DATA_UPLOAD_MAX_NUMBER_FILES = _env_int('DATA_UPLOAD_MAX_NUMBER_FILES', 100)

SESSION_ENGINE = os.environ.get('SESSION_ENGINE') or 'django.contrib.sessions.backends.db'
SESSION_COOKIE_NAME = os.environ.get('SESSION_COOKIE_NAME') or 'sessionid'
SESSION_COOKIE_AGE = _env_int('SESSION_COOKIE_AGE', 1209600)
SESSION_CACHE_ALIAS = os.environ.get('SESSION_CACHE_ALIAS') or 'default'
# None = Django's default (tempfile.gettempdir()).
SESSION_FILE_PATH = os.environ.get('SESSION_FILE_PATH') or None


def _caches_from_env(raw):
    """CACHES: Django's own dict as JSON, or a URL for alias `default`:
    redis://[:pw@]host:port/db?BACKEND=<dotted>&KEY_PREFIX=<s>&VERSION=<n>
    (LOCATION = the URL without its query string)."""
    raw = raw.strip()
    if raw.startswith('{'):
        caches = json.loads(raw)
        if not isinstance(caches, dict):
            raise ValueError('CACHES: the JSON form must be an object')
        return caches
    parts = urlsplit(raw)
    if parts.scheme not in ('redis', 'rediss', 'unix'):
        raise ValueError('CACHES: %r is neither JSON nor a redis:// URL' % raw)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(query) - {'BACKEND', 'KEY_PREFIX', 'VERSION'}
    if unknown:
        raise ValueError('CACHES: unknown URL parameter(s) %s' % ', '.join(sorted(unknown)))
    cache = {
        'BACKEND': query.get('BACKEND') or 'django.core.cache.backends.redis.RedisCache',
        'LOCATION': urlunsplit((parts.scheme, parts.netloc, parts.path, '', '')),
    }
    if 'KEY_PREFIX' in query:
        cache['KEY_PREFIX'] = query['KEY_PREFIX']
    if 'VERSION' in query:
        cache['VERSION'] = int(query['VERSION'])
    return {'default': cache}


# Without CACHES in the environment, Django's default (a LocMemCache) stays.
if (os.environ.get('CACHES') or '').strip():
    CACHES = _caches_from_env(os.environ['CACHES'])

CSRF_COOKIE_NAME = os.environ.get('CSRF_COOKIE_NAME') or 'csrftoken'
CSRF_HEADER_NAME = os.environ.get('CSRF_HEADER_NAME') or 'HTTP_X_CSRFTOKEN'
CSRF_TRUSTED_ORIGINS = _env_list('CSRF_TRUSTED_ORIGINS', [])
CSRF_USE_SESSIONS = _env_bool('CSRF_USE_SESSIONS', False)

CHUNKED_UPLOAD_PATH = os.environ.get('CHUNKED_UPLOAD_PATH') or 'chunked_uploads/%Y/%m/%d'
CHUNKED_UPLOAD_EXPIRATION_DELTA = timedelta(
    seconds=_env_int('CHUNKED_UPLOAD_EXPIRATION_DELTA', 86400))
# Changed: REFSITE_MAX_BYTES_ON_VIEW=1 (a refsite-only variable) gives the
# limit to the views' `max_bytes` class attribute (urls.py) and leaves the
# package setting at its default, as a site that subclasses the view does.
REFSITE_MAX_BYTES_ON_VIEW = _env_bool('REFSITE_MAX_BYTES_ON_VIEW', False)
if REFSITE_MAX_BYTES_ON_VIEW:
    REFSITE_VIEW_MAX_BYTES = _env_int('CHUNKED_UPLOAD_MAX_BYTES', None)
else:
    CHUNKED_UPLOAD_MAX_BYTES = _env_int('CHUNKED_UPLOAD_MAX_BYTES', None)
CHUNKED_UPLOAD_CONTENT_TYPE = os.environ.get('CHUNKED_UPLOAD_CONTENT_TYPE') or 'application/json'
# Changed: the upload model's table (urls.py mounts the views with that model).
CHUNKED_UPLOAD_TABLE = os.environ.get('CHUNKED_UPLOAD_TABLE') or 'chunked_upload_chunkedupload'

# Changed: the views' class attributes, which the service reads from the same
# variables (urls.py subclasses the views with them, as a real site would).
CHUNKED_UPLOAD_FIELD_NAME = os.environ.get('CHUNKED_UPLOAD_FIELD_NAME') or 'file'
CHUNKED_UPLOAD_FAIL_IF_NO_HEADER = _env_bool('CHUNKED_UPLOAD_FAIL_IF_NO_HEADER', False)
CHUNKED_UPLOAD_DO_MD5_CHECK = _env_bool('CHUNKED_UPLOAD_DO_MD5_CHECK', True)
CHUNKED_UPLOAD_USER_FIELD_NAME = os.environ.get('CHUNKED_UPLOAD_USER_FIELD_NAME') or 'user'
CHUNKED_UPLOAD_PERMISSION = (os.environ.get('CHUNKED_UPLOAD_PERMISSION') or 'authenticated').strip()
if CHUNKED_UPLOAD_PERMISSION not in ('authenticated', 'anyone'):
    raise ValueError('CHUNKED_UPLOAD_PERMISSION: %r is neither authenticated nor anyone'
                     % CHUNKED_UPLOAD_PERMISSION)

# Changed: REFSITE_COMPANION=1 installs the companion app (companion/ in the
# repository, pip-installed into every compat venv by setup.sh) and logs its
# INFO lines (which md5 path a completion took) to stderr, i.e. gunicorn's log.
# REFSITE_COMPANION_VIEWS=overrides|anyone|denied|completion mounts view subclasses that
# override methods (refsite/companion_urls.py), for its checks.
if _env_bool('REFSITE_COMPANION', False):
    INSTALLED_APPS.append('chunked_upload_service')
    LOGGING = {
        'version': 1,
        'disable_existing_loggers': False,
        'handlers': {'stderr': {'class': 'logging.StreamHandler'}},
        'loggers': {'chunked_upload_service': {'handlers': ['stderr'], 'level': 'INFO'}},
    }
if (os.environ.get('REFSITE_COMPANION_VIEWS') or '') in ('overrides', 'anyone', 'denied', 'completion', 'decorated'):
    ROOT_URLCONF = 'refsite.companion_urls'
