"""The service's environment (CONTRACT.md names), read from the running
Django site: its settings, its database, its storage and the views its
URLconf mounts at the upload and complete URLs."""
import datetime as dt
import importlib.metadata
import os
from urllib.parse import quote, urlencode

import django
from django.conf import settings

from . import envfile, series, views_inspect
from .envfile import as_bool, as_int, as_list, as_octal

DEFAULT_TABLE = 'chunked_upload_chunkedupload'
AUTH_MIDDLEWARE = 'django.contrib.auth.middleware.AuthenticationMiddleware'
LOGIN_REQUIRED_MIDDLEWARE = 'django.contrib.auth.middleware.LoginRequiredMiddleware'
CACHE_ENGINES = ('django.contrib.sessions.backends.cache', 'django.contrib.sessions.backends.cached_db')
FILE_ENGINE = 'django.contrib.sessions.backends.file'
DEFAULT_CONTENT_RANGE_PATTERN = r'^bytes (?P<start>\d+)-(?P<end>\d+)/(?P<total>\d+)$'


class EnvError(Exception):
    """A setting the service cannot be given; the message names it."""


def md5_state_table(upload_table):
    """The service's companion table for an upload table (src/store/db.rs
    `UploadTable::named`)."""
    if upload_table == DEFAULT_TABLE:
        return 'chunked_upload_md5_state'
    return upload_table + '_md5_state'


class Env:
    """Entries for envfile.render: variables, comments, blank lines; plus the
    warnings (also comments) collected on the way."""

    def __init__(self):
        self.entries = []
        self.warnings = []

    def var(self, name, value):
        envfile.check_value(name, value)
        self.entries.append(('var', name, value))

    def comment(self, text):
        self.entries.append(('comment', text))

    def warn(self, text):
        self.warnings.append(text)
        self.entries.append(('comment', 'WARNING: ' + text))

    def section(self, title):
        if self.entries:
            self.entries.append(('blank',))
        self.comment(title)

    def values(self):
        return {e[1]: e[2] for e in self.entries if e[0] == 'var'}

    def text(self):
        return envfile.render(self.entries)


# --------------------------------------------------------------------------
# single settings

def database_url(db):
    """DATABASES['default'] as a dj-database-url style URL."""
    engine = db.get('ENGINE', '')
    if engine in ('django.db.backends.postgresql', 'django.db.backends.postgresql_psycopg2'):
        user = quote(str(db.get('USER') or ''), safe='')
        password = quote(str(db.get('PASSWORD') or ''), safe='')
        host = str(db.get('HOST') or '')
        port = str(db.get('PORT') or '')
        name = quote(str(db.get('NAME') or ''), safe='')
        query = {}
        if host.startswith('/'):
            # A unix socket directory, as libpq's host=; sqlx reads it from the query.
            query['host'] = host
            host = 'localhost'
        elif not host:
            host = 'localhost'     # see empty_host_warning
        elif ':' in host:
            host = '[%s]' % host    # an IPv6 address
        auth = user + (':' + password if password else '') + ('@' if user or password else '')
        netloc = auth + host + (':' + port if port else '')
        for key, value in sorted((db.get('OPTIONS') or {}).items()):
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                query[key] = str(value)
            else:
                raise EnvError("DATABASES['default']['OPTIONS'][%r] = %r has no URL form "
                               '(only text and numbers)' % (key, value))
        url = 'postgres://%s/%s' % (netloc, name)
        if query:
            url += '?' + urlencode(query, safe='/')
        return url
    if engine == 'django.db.backends.sqlite3':
        name = str(db.get('NAME') or '')
        if not name or name == ':memory:' or name.startswith('file:'):
            raise EnvError("DATABASES['default']['NAME'] = %r: the service needs a SQLite file "
                           'it can open too' % name)
        # sqlite3.connect() opens NAME relative to the process's cwd.
        return 'sqlite:///' + os.path.abspath(name)
    raise EnvError("DATABASES['default']['ENGINE'] = %r: the service reads PostgreSQL "
                   '(django.db.backends.postgresql) or SQLite (django.db.backends.sqlite3) only'
                   % engine)


def empty_host_warning(db):
    """An empty PostgreSQL HOST is libpq's default unix socket, a directory
    compiled into libpq that this process cannot read; the URL says localhost."""
    if db.get('ENGINE', '').startswith('django.db.backends.postgresql') and not db.get('HOST'):
        return ("DATABASES['default']['HOST'] is empty: Django connects through libpq's default unix "
                'socket, DATABASE_URL below says TCP localhost; for the socket add '
                '?host=<its directory, e.g. /var/run/postgresql> to the URL')
    return None


def django_series():
    """(series, warning or None): the installed Django's series, or the
    nearest supported one with a warning."""
    found, exact = series.nearest(django.VERSION)
    if exact:
        return found, None
    return found, ('Django %s is not a series the service reproduces (%s); using the nearest, %s'
                   % (django.get_version(), ', '.join(series.SUPPORTED), found))


def compat_profile():
    """'upstream' (django-chunked-upload 2.0.0) or 'patched'
    (django-chunked-upload-patched), by the distribution that installed
    the `chunked_upload` package."""
    owners = []
    try:
        owners = importlib.metadata.packages_distributions().get('chunked_upload', [])
    except AttributeError:      # Python < 3.10
        pass
    names = [n.lower().replace('_', '-') for n in owners]
    for candidate in ('django-chunked-upload-patched', 'django-chunked-upload'):
        if not names:
            try:
                importlib.metadata.distribution(candidate)
                names = [candidate]
            except importlib.metadata.PackageNotFoundError:
                continue
    if 'django-chunked-upload-patched' in names:
        return 'patched', None
    if 'django-chunked-upload' in names:
        version = importlib.metadata.version('django-chunked-upload')
        if version != '2.0.0':
            return 'upstream', ('django-chunked-upload %s is installed; the service reproduces 2.0.0'
                                % version)
        return 'upstream', None
    raise EnvError('CHUNKED_UPLOAD_COMPAT: neither django-chunked-upload nor '
                   'django-chunked-upload-patched is installed (importlib.metadata)')


def seconds(name, value):
    if isinstance(value, dt.timedelta):
        total = value.total_seconds()
    else:
        total = float(value)
    if total != int(total):
        raise EnvError('%s = %r is not a whole number of seconds' % (name, value))
    return str(int(total))


def absolute(path):
    return os.path.abspath(os.fspath(path))


def allowed_hosts():
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        # HttpRequest.get_host(): DEBUG with no ALLOWED_HOSTS allows these.
        hosts = ['.localhost', '127.0.0.1', '[::1]']
    return hosts


def upload_storage_root(model):
    """Where the upload model's FileField stores files (FileSystemStorage
    resolves MEDIA_ROOT with os.path.abspath against the cwd), or None when
    it is not a file-system storage."""
    return storage_root(model._meta.get_field('file').storage)


def storage_root(storage):
    """A FileSystemStorage's location (through a LazyObject such as
    default_storage), else None: other storages may have a `location` too
    (django-storages S3: '' by default), not a directory."""
    from django.core.files.storage import FileSystemStorage
    from django.utils.functional import LazyObject, empty
    if isinstance(storage, LazyObject):
        if storage._wrapped is empty:
            storage._setup()
        storage = storage._wrapped
    if not isinstance(storage, FileSystemStorage):
        return None
    return absolute(storage.location)


# --------------------------------------------------------------------------
# the whole environment

def build(upload_url=views_inspect.DEFAULT_UPLOAD_URL, complete_url=views_inspect.DEFAULT_COMPLETE_URL):
    """Env for the site; EnvError or envfile.Unwritable on a real error."""
    from chunked_upload.models import ChunkedUpload

    env = Env()
    env.comment('chunked-upload service environment, written by `manage.py chunked_upload_env`\n'
                'from the Django site (settings module %s, Django %s).\n'
                'Read as is by systemd EnvironmentFile= and docker run --env-file.'
                % (os.environ.get('DJANGO_SETTINGS_MODULE', '?'), django.get_version()))

    upload = views_inspect.mounted(upload_url)
    complete = views_inspect.mounted(complete_url)
    base_upload, base_complete = views_inspect.base_views()
    for label, view, base in (('--upload-url', upload, base_upload), ('--complete-url', complete, base_complete)):
        if view is None:
            raise EnvError('%s %s does not resolve in ROOT_URLCONF (%s)' % (
                label, upload_url if label == '--upload-url' else complete_url, settings.ROOT_URLCONF))
        if view.view_class is None or not issubclass(view.view_class, base):
            raise EnvError('%s %s is served by %r, not a subclass of chunked_upload.views.%s'
                           % (label, view.url, view.func, base.__name__))
    model = upload.attr('model') or ChunkedUpload
    add_site(env, model)
    add_sessions_and_csrf(env)
    add_package(env)
    add_views(env, upload, complete, model)
    return env


def add_site(env, model):
    env.section('The site')
    env.var('SECRET_KEY', settings.SECRET_KEY)
    if django.VERSION >= (4, 1):
        env.var('SECRET_KEY_FALLBACKS', as_list('SECRET_KEY_FALLBACKS', settings.SECRET_KEY_FALLBACKS))
    warning = empty_host_warning(settings.DATABASES['default'])
    if warning:
        env.warn(warning)
    env.var('DATABASE_URL', database_url(settings.DATABASES['default']))
    root = upload_storage_root(model)
    if root is None:
        env.warn('the upload model stores files in %s, not a FileSystemStorage: the service does not '
                 'support that storage yet; MEDIA_ROOT below is not where the files are. Keep the upload '
                 'URL on Django' % type(model._meta.get_field('file').storage).__name__)
        root = absolute(settings.MEDIA_ROOT)
    env.var('MEDIA_ROOT', root)
    env.var('ALLOWED_HOSTS', as_list('ALLOWED_HOSTS', allowed_hosts()))
    if settings.TIME_ZONE is None:
        raise EnvError('TIME_ZONE = None: the service needs a named zone (the process zone is not shared)')
    env.var('TIME_ZONE', settings.TIME_ZONE)
    env.var('USE_TZ', as_bool(settings.USE_TZ))
    env.var('FILE_UPLOAD_PERMISSIONS', as_octal(settings.FILE_UPLOAD_PERMISSIONS))
    env.var('FILE_UPLOAD_DIRECTORY_PERMISSIONS', as_octal(settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS))
    env.var('FILE_UPLOAD_TEMP_DIR', absolute(settings.FILE_UPLOAD_TEMP_DIR)
            if settings.FILE_UPLOAD_TEMP_DIR else '')
    env.var('DATA_UPLOAD_MAX_MEMORY_SIZE', as_int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    env.var('DATA_UPLOAD_MAX_NUMBER_FIELDS', as_int(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    env.var('DATA_UPLOAD_MAX_NUMBER_FILES', as_int(getattr(settings, 'DATA_UPLOAD_MAX_NUMBER_FILES', 100)))


def add_sessions_and_csrf(env):
    from django.contrib.auth import get_user_model
    env.section('Sessions and CSRF')
    env.var('SESSION_ENGINE', settings.SESSION_ENGINE)
    env.var('SESSION_COOKIE_NAME', settings.SESSION_COOKIE_NAME)
    env.var('SESSION_COOKIE_AGE', as_int(settings.SESSION_COOKIE_AGE))
    env.var('SESSION_SERIALIZER', settings.SESSION_SERIALIZER)
    if settings.SESSION_ENGINE == FILE_ENGINE:
        import tempfile
        # SessionStore._get_storage_path(): the setting or tempfile.gettempdir().
        env.var('SESSION_FILE_PATH', absolute(settings.SESSION_FILE_PATH or tempfile.gettempdir()))
    env.var('SESSION_CACHE_ALIAS', settings.SESSION_CACHE_ALIAS)
    if settings.SESSION_ENGINE in CACHE_ENGINES:
        import json
        try:
            caches = json.dumps(settings.CACHES, ensure_ascii=False, separators=(',', ':'), sort_keys=True)
        except (TypeError, ValueError) as e:
            raise EnvError('CACHES cannot be written as JSON (%s)' % e)
        env.var('CACHES', caches)
    env.var('CSRF_COOKIE_NAME', settings.CSRF_COOKIE_NAME)
    env.var('CSRF_HEADER_NAME', settings.CSRF_HEADER_NAME)
    env.var('CSRF_TRUSTED_ORIGINS', as_list('CSRF_TRUSTED_ORIGINS', settings.CSRF_TRUSTED_ORIGINS))
    env.var('CSRF_USE_SESSIONS', as_bool(settings.CSRF_USE_SESSIONS))
    header = settings.SECURE_PROXY_SSL_HEADER
    env.var('SECURE_PROXY_SSL_HEADER', as_list('SECURE_PROXY_SSL_HEADER', header) if header else '')
    env.var('USE_X_FORWARDED_HOST', as_bool(settings.USE_X_FORWARDED_HOST))
    env.var('USE_X_FORWARDED_PORT', as_bool(settings.USE_X_FORWARDED_PORT))
    env.var('APPEND_SLASH', as_bool(settings.APPEND_SLASH))
    env.var('AUTH_USER_TABLE', get_user_model()._meta.db_table)
    env.var('AUTH_REQUIRED', as_bool(AUTH_MIDDLEWARE in settings.MIDDLEWARE))


def add_package(env):
    from chunked_upload import settings as cu_settings
    env.section('django-chunked-upload')
    django_version, warning = django_series()
    if warning:
        env.warn(warning)
    env.var('DJANGO_VERSION', django_version)
    compat, warning = compat_profile()
    if warning:
        env.warn(warning)
    env.var('CHUNKED_UPLOAD_COMPAT', compat)
    env.var('CHUNKED_UPLOAD_PATH', cu_settings.UPLOAD_PATH)
    env.var('CHUNKED_UPLOAD_EXPIRATION_DELTA',
            seconds('CHUNKED_UPLOAD_EXPIRATION_DELTA', cu_settings.EXPIRATION_DELTA))
    env.var('CHUNKED_UPLOAD_CONTENT_TYPE', cu_settings.CONTENT_TYPE)
    for problem in package_setting_problems():
        env.warn(problem)


def package_setting_problems():
    """django-chunked-upload settings that replace code the service cannot run."""
    from chunked_upload import settings as cu_settings
    out = []
    if cu_settings.UPLOAD_TO is not cu_settings.default_upload_to:
        out.append('CHUNKED_UPLOAD_TO is set: the service names files CHUNKED_UPLOAD_PATH/<upload_id>.part '
                   'only; keep the upload URL on Django')
    if getattr(settings, 'CHUNKED_UPLOAD_STORAGE_CLASS', None) is not None:
        out.append('CHUNKED_UPLOAD_STORAGE_CLASS is set: the service writes to MEDIA_ROOT (or the STORAGES '
                   'S3 settings of CONTRACT.md), not to that class')
    if cu_settings.ENCODER != cu_settings.DEFAULT_ENCODER and hasattr(settings, 'CHUNKED_UPLOAD_ENCODER'):
        out.append('CHUNKED_UPLOAD_ENCODER is set: the service answers with DjangoJSONEncoder')
    return out


def add_views(env, upload, complete, model):
    base_upload, base_complete = views_inspect.base_views()
    env.section('The views mounted at the upload and complete URLs')
    env.comment('upload: %s -> %s.%s; complete: %s -> %s.%s' % (
        upload.url, upload.view_class.__module__, upload.view_class.__qualname__,
        complete.url, complete.view_class.__module__, complete.view_class.__qualname__))
    env.var('UPLOAD_URL', upload.url)
    env.var('COMPLETE_URL', complete.url)
    env.var('TRAILING_SLASH', 'optional' if upload.slash_optional else 'required')
    if upload.slash_optional != complete.slash_optional:
        env.warn('the upload URL %s the trailing slash and the complete URL %s; TRAILING_SLASH follows '
                 'the upload URL' % ('does not need' if upload.slash_optional else 'needs',
                                     'does not' if complete.slash_optional else 'does'))
    env.var('CSRF_EXEMPT', as_bool(upload.csrf_exempt))
    if upload.csrf_exempt != complete.csrf_exempt:
        env.warn('only the %s view is csrf_exempt; CSRF_EXEMPT follows the upload view'
                 % ('upload' if upload.csrf_exempt else 'complete'))
    env.var('CHUNKED_UPLOAD_TABLE', model._meta.db_table)
    complete_model = complete.attr('model')
    if complete_model is not None and complete_model._meta.db_table != model._meta.db_table:
        env.warn('the complete view uses table %s, the upload view %s' % (
            complete_model._meta.db_table, model._meta.db_table))
    env.var('CHUNKED_UPLOAD_FIELD_NAME', field_name(upload))
    env.var('CHUNKED_UPLOAD_FAIL_IF_NO_HEADER', as_bool(upload.attr('fail_if_no_header')))
    env.var('CHUNKED_UPLOAD_DO_MD5_CHECK', as_bool(complete.attr('do_md5_check')))
    env.var('CHUNKED_UPLOAD_USER_FIELD_NAME', upload.attr('user_field_name'))
    if complete.attr('user_field_name') != upload.attr('user_field_name'):
        env.warn('user_field_name differs between the views (%r, %r)' % (
            upload.attr('user_field_name'), complete.attr('user_field_name')))
    from chunked_upload import settings as cu_settings
    if upload.attr('max_bytes') != cu_settings.MAX_BYTES:
        env.comment('the upload view sets max_bytes = %r (CHUNKED_UPLOAD_MAX_BYTES setting: %r); the '
                    "view's value is the one Django applies" % (upload.attr('max_bytes'), cu_settings.MAX_BYTES))
    env.var('CHUNKED_UPLOAD_MAX_BYTES', as_int(upload.attr('max_bytes')))
    permission = views_inspect.permission_behaviour(upload)
    if permission.startswith('cannot'):
        env.warn('CHUNKED_UPLOAD_PERMISSION %s; keep the upload URL on Django' % permission)
    else:
        env.var('CHUNKED_UPLOAD_PERMISSION', permission)
        other = views_inspect.permission_behaviour(complete)
        if other != permission:
            env.warn('the complete view\'s check_permissions behaves differently (%s)' % other)
    for problem in upload_setting_problems(upload) + view_problems(complete, 'complete'):
        env.warn(problem)
    add_overrides(env, upload, complete, base_upload, base_complete)


def field_name(upload):
    """The upload view's field_name; refused when the env file would carry it
    differently (empty: the service's default; surrounding spaces: trimmed)."""
    name = upload.attr('field_name')
    if not isinstance(name, str) or not name or name != name.strip():
        raise EnvError('CHUNKED_UPLOAD_FIELD_NAME: the upload view has field_name = %r, which the '
                       'service would read differently (empty or with surrounding spaces)' % (name,))
    return name


def login_required_middleware():
    """The MIDDLEWARE entry that is Django 5.1+'s LoginRequiredMiddleware (or a subclass), or None."""
    try:
        from django.contrib.auth.middleware import LoginRequiredMiddleware
    except ImportError:
        return None
    from django.utils.module_loading import import_string
    for path in settings.MIDDLEWARE:
        try:
            cls = import_string(path)
        except ImportError:
            continue
        if isinstance(cls, type) and issubclass(cls, LoginRequiredMiddleware):
            return path
    return None


def view_problems(view, label):
    """What of the mounted view (not its class) the service cannot mirror."""
    out = []
    if view.wrapped_by:
        out.append('the %s view cannot be mirrored: the view is wrapped by %s (in the URLconf); keep the '
                   '%s URL on Django' % (label, view.wrapped_by, label))
    middleware = login_required_middleware()
    # LoginRequiredMiddleware.process_view: a view opts out by login_required = False.
    if middleware and getattr(view.func, 'login_required', True):
        out.append('MIDDLEWARE has %s: Django redirects anonymous requests to the %s view to the login '
                   'page, the service does not mirror that; keep the %s URL on Django or mark the view '
                   'login_not_required' % (middleware, label, label))
    return out


def upload_setting_problems(upload):
    out = view_problems(upload, 'upload')
    if upload.attr('content_range_header') != 'HTTP_CONTENT_RANGE':
        out.append('content_range_header = %r: the service reads Content-Range only; keep the upload '
                   'URL on Django' % upload.attr('content_range_header'))
    pattern = upload.attr('content_range_pattern')
    if getattr(pattern, 'pattern', pattern) != DEFAULT_CONTENT_RANGE_PATTERN:
        out.append('content_range_pattern = %r: the service parses the package\'s pattern only; keep '
                   'the upload URL on Django' % getattr(pattern, 'pattern', pattern))
    return out


def add_overrides(env, upload, complete, base_upload, base_complete):
    up = upload.overridden(base_upload, views_inspect.UPLOAD_METHODS)
    done = complete.overridden(base_complete, views_inspect.COMPLETE_METHODS)
    if up:
        env.warn('the upload view overrides %s: the service cannot run that code. Keep the upload URL '
                 'on Django (do not route it to the service), or move that logic elsewhere '
                 '(e.g. the complete view, which stays on Django)' % ', '.join(up))
    if done:
        env.warn('the complete view overrides %s: the service cannot run that code. Route only the '
                 'upload URL to the service and leave the complete URL on Django (the companion '
                 'app makes its md5 O(1)). nginx:' % ', '.join(done))
        env.comment('\n'.join('    ' + l for l in views_inspect.nginx_upload_only(
            upload.url, upload.slash_optional)))
