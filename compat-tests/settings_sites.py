"""Settings sites: server pairs (reference Django + candidate) whose settings
differ from the main site's, each a cell of the README's compat matrix.

Every fixture here is class-scoped: a test class uses one site, and the pair
is stopped when the class is done (only one or two pairs run at a time). All
depend on the `world` (or `custom_user_world`) fixture, so they run in every
profile, including profiles added to conftest later.

A site's `cell` is its matrix label; `compatlib.cell_label(item)` reads it
from the Site a test used, and conftest records it as the test's user
property `cell`.
"""
import datetime as dt
import json
import os
import re
import secrets
import shutil
import tempfile
import time
import urllib.parse
from zoneinfo import ZoneInfo

import psycopg2
import pytest

import compatlib
from compatlib import Site, World

__all__ = [
    'custom_user_world', 'custom_user_site',
    'use_tz_false_site', 'tz_local_date_site', 'tz_negative_naive_site',
    'csrf_sessions_site', 'csrf_names_site',
    'hosts_list_site', 'hosts_wildcard_site', 'proxy_https_site',
    'slash_append_site', 'slash_noappend_site',
    'perms_600_site', 'perms_none_site', 'upload_path_site', 'short_expiry_site',
    'anonymous_site', 'myupload_site', 'myanonupload_site', 'myanonupload_anonymous_site',
    'field_name_site', 'fail_if_no_header_site', 'no_md5_check_site', 'user_field_name_site',
    'user_field_missing_site', 'max_bytes_view_site', 'permission_anyone_site',
    'permission_anyone_myanonupload_site',
]


def _site(world, cell, env, umask=0o022):
    return Site(world, cell, env, cell=cell, umask=umask)


def site_fixture(cell, env, umask=0o022):
    """A class-scoped fixture `<cell>_site`: Site(world, cell, env(world) or env)."""
    def fx(world):
        s = _site(world, cell, env(world) if callable(env) else env, umask)
        yield s
        s.stop()
    fx.__name__ = cell + '_site'
    return pytest.fixture(scope='class', name=cell + '_site')(fx)


# --------------------------------------------------------------------------
# time zones chosen at run time
#
# The upload path's %Y/%m/%d is TIME_ZONE-local (time.strftime after Django set
# TZ). To make "local date != UTC date" true whenever the suite runs, the zone
# is picked when the site starts: at UTC hour h a zone at UTC+14 is a day ahead
# when h >= 10 (until UTC midnight) and a zone at UTC-12 is a day behind when
# h < 12 (until its local midnight), so one of them always qualifies. Among the
# zones that do, the first of the list below with at least MARGIN left before
# the dates agree again is chosen (else the one with the most time left). In
# the last minutes before UTC midnight no zone has MARGIN left: the fixture
# waits for midnight to pass (at most MARGIN) and picks again.

MARGIN = dt.timedelta(minutes=5)
DATE_ZONES = ['Asia/Tokyo', 'America/Los_Angeles', 'Pacific/Auckland', 'Pacific/Honolulu',
              'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Etc/GMT+12']
NEGATIVE_DST_ZONES = ['America/New_York', 'America/Los_Angeles', 'America/Anchorage', 'America/Adak']


def date_differs_for(zone, now=None):
    """How long `zone`'s local date stays different from the UTC date (None: it is the same now)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    local = now.astimezone(ZoneInfo(zone))
    if local.date() == now.date():
        return None
    if local.date() > now.date():       # ahead: until UTC midnight
        end = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    else:                               # behind: until local midnight
        end = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), ZoneInfo(zone))
    return end - now


def pick_zone(zones, require=True):
    """The first zone of `zones` whose local date differs from the UTC date for
    at least MARGIN more; else the longest-lasting one; if none differs: wait
    for UTC midnight (require=True, at most MARGIN) or return zones[0]."""
    for _ in range(2):
        left = {z: date_differs_for(z) for z in zones}
        good = [z for z in zones if left[z] is not None and left[z] >= MARGIN]
        if good:
            return good[0]
        if not require:
            return zones[0]
        some = [z for z in zones if left[z] is not None]
        # Only just before UTC midnight: wait for it, then pick again.
        now = dt.datetime.now(dt.timezone.utc)
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
        assert midnight - now <= MARGIN + dt.timedelta(seconds=5), (left, some)
        time.sleep((midnight - now).total_seconds() + 2)
    raise AssertionError('no zone of %s has a local date other than the UTC date' % zones)


def next_dst_transition(zone, after=None):
    """The first instant after `after` at which `zone`'s UTC offset changes (to the hour)."""
    tz = ZoneInfo(zone)
    t = (after or dt.datetime.now(dt.timezone.utc)).replace(minute=0, second=0, microsecond=0)
    off = t.astimezone(tz).utcoffset()
    for _ in range(24 * 400):
        t += dt.timedelta(hours=1)
        if t.astimezone(tz).utcoffset() != off:
            return t
    raise AssertionError('%s has no DST transition within 400 days' % zone)


# --------------------------------------------------------------------------
# a world with a custom AUTH_USER_MODEL (its own database: AUTH_USER_MODEL
# must be set before the first migrate)

CUSTOM_USER_TABLE = 'accounts_custom_customuser'


class CustomUserWorld(World):
    """A World whose refsite runs with AUTH_USER_MODEL = accounts_custom.CustomUser
    (table accounts_custom_customuser: bigint `id`, no is_active column)."""

    def server_env(self, extra=None):
        env = {'AUTH_USER_TABLE': CUSTOM_USER_TABLE}
        env.update(extra or {})
        return super().server_env(env)

    def create_user(self, username=None, password=None, is_active=True):
        assert is_active, 'the custom user model has no is_active column'
        if username is None:
            self._user_counter += 1
            username = 'user%d_%s' % (self._user_counter, secrets.token_hex(3))
        password = password or 'pw-' + username
        encoded = compatlib.md5_password_hash(password)
        uid = self.db.q(
            'INSERT INTO %s (password, last_login, username, email) VALUES (%%s, NULL, %%s, %%s) '
            'ON CONFLICT (username) DO UPDATE SET password = EXCLUDED.password RETURNING id'
            % CUSTOM_USER_TABLE, (encoded, username, username + '@example.com'))[0][0]
        return username, password, uid


def _with_db(url, dbname):
    p = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((p.scheme, p.netloc, '/' + dbname, p.query, p.fragment))


@pytest.fixture(scope='session')
def custom_user_world(profile, pg_admin_url):
    dbname = 'compat_%s_customuser' % profile
    admin = psycopg2.connect(pg_admin_url)
    admin.autocommit = True
    with admin.cursor() as c:
        c.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % dbname)
        c.execute('CREATE DATABASE %s' % dbname)
    admin.close()
    tmp = tempfile.mkdtemp(prefix='compat-%s-customuser-' % profile)
    media = os.path.join(tmp, 'media')
    logdir = os.path.join(tmp, 'logs')
    os.makedirs(media)
    os.makedirs(logdir)
    os.chmod(media, 0o755)
    w = CustomUserWorld(profile, _with_db(pg_admin_url, dbname), media, logdir,
                        os.environ.get('COMPAT_CANDIDATE', 'rust'))
    t = time.time()
    w.migrate()
    for name in ('alice', 'bob'):
        w.create_user(name)
    print('\n[%s] custom-user world migrated in %.1fs; logs in %s' % (profile, time.time() - t, logdir))
    yield w
    w.db.conn.close()
    if os.environ.get('COMPAT_KEEP_TMP') != '1':
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope='class')
def custom_user_site(custom_user_world):
    s = _site(custom_user_world, 'custom_user', {})
    yield s
    s.stop()


# --------------------------------------------------------------------------
# the sites over the main world

use_tz_false_site = site_fixture('use_tz_false', {'USE_TZ': 'False', 'TIME_ZONE': 'Asia/Tokyo'})
tz_local_date_site = site_fixture('tz_local_date', lambda w: {'TIME_ZONE': pick_zone(DATE_ZONES)})
tz_negative_naive_site = site_fixture('tz_negative_naive', lambda w: {
    'USE_TZ': 'False', 'TIME_ZONE': pick_zone(NEGATIVE_DST_ZONES, require=False)})

csrf_sessions_site = site_fixture('csrf_sessions', {'CSRF_USE_SESSIONS': 'True'})
csrf_names_site = site_fixture('csrf_names', {'CSRF_COOKIE_NAME': 'xsrf',
                                              'CSRF_HEADER_NAME': 'HTTP_X_XSRF_TOKEN'})

HOSTS_LIST = 'testserver,exact.example,.domain.example,port.example:8000,[::1],127.0.0.1'
hosts_list_site = site_fixture('hosts_list', {'ALLOWED_HOSTS': HOSTS_LIST})
hosts_wildcard_site = site_fixture('hosts_wildcard', {'ALLOWED_HOSTS': '*'})


def _proxy_env(world):
    # CSRF_TRUSTED_ORIGINS is a list of hosts in 3.2 and of origins (with a
    # scheme) from 4.0 on: each profile gets its version's spelling.
    trusted = 'trusted.example' if world.django_version == '3.2' else 'https://trusted.example'
    return {
        'SECURE_PROXY_SSL_HEADER': 'HTTP_X_FORWARDED_PROTO,https',
        'USE_X_FORWARDED_HOST': 'True',
        'USE_X_FORWARDED_PORT': 'True',
        'ALLOWED_HOSTS': 'testserver,public.example,127.0.0.1',
        'CSRF_TRUSTED_ORIGINS': trusted,
    }


proxy_https_site = site_fixture('proxy_https', _proxy_env)

slash_append_site = site_fixture('slash_append', {'TRAILING_SLASH': 'required', 'APPEND_SLASH': 'True'})
slash_noappend_site = site_fixture('slash_noappend', {'TRAILING_SLASH': 'required', 'APPEND_SLASH': 'False'})

perms_600_site = site_fixture('perms_600', {'FILE_UPLOAD_PERMISSIONS': '0o600',
                                            'FILE_UPLOAD_DIRECTORY_PERMISSIONS': '0o750'})
# FILE_UPLOAD_PERMISSIONS=None: Django leaves the mode os.open(..., 0o666) gives
# under the process umask; directories likewise (no FILE_UPLOAD_DIRECTORY_PERMISSIONS
# in the base environment). The servers run with umask 027 here (022 elsewhere),
# so that None (0640/0750) is told apart from the default 0o644 and 0755.
perms_none_site = site_fixture('perms_none', {'FILE_UPLOAD_PERMISSIONS': 'None'}, umask=0o027)
upload_path_site = site_fixture('upload_path', {'CHUNKED_UPLOAD_PATH': 'uploads/%Y-%m/%H/day-%j'})
short_expiry_site = site_fixture('short_expiry', {'CHUNKED_UPLOAD_EXPIRATION_DELTA': '2'})

anonymous_site = site_fixture('anonymous', {'AUTH_REQUIRED': 'False'})
myupload_site = site_fixture('myupload', {'CHUNKED_UPLOAD_TABLE': 'custom_upload_myupload'})
myanonupload_site = site_fixture('myanonupload', {'CHUNKED_UPLOAD_TABLE': 'custom_upload_myanonupload'})
myanonupload_anonymous_site = site_fixture('myanonupload_anonymous', {
    'CHUNKED_UPLOAD_TABLE': 'custom_upload_myanonupload', 'AUTH_REQUIRED': 'False'})


# The views' class attributes (test_view_attributes.py): the refsite's urls.py
# subclasses the views with them, the service reads the same variables.
field_name_site = site_fixture('field_name', {'CHUNKED_UPLOAD_FIELD_NAME': 'the_file'})
fail_if_no_header_site = site_fixture('fail_if_no_header', {'CHUNKED_UPLOAD_FAIL_IF_NO_HEADER': 'True'})
no_md5_check_site = site_fixture('no_md5_check', {'CHUNKED_UPLOAD_DO_MD5_CHECK': 'False'})
user_field_name_site = site_fixture('user_field_name', {
    'CHUNKED_UPLOAD_TABLE': 'custom_upload_ownerupload', 'CHUNKED_UPLOAD_USER_FIELD_NAME': 'owner'})
# The default model has no `owner`: 2.0.0 filters on it anyway, 2.1.0 does not.
user_field_missing_site = site_fixture('user_field_missing', {'CHUNKED_UPLOAD_USER_FIELD_NAME': 'owner'})
# The refsite puts the limit on the view's `max_bytes`, not in the package
# setting; REFSITE_MAX_BYTES_ON_VIEW is unknown to the service, which ignores it.
max_bytes_view_site = site_fixture('max_bytes_view', {'CHUNKED_UPLOAD_MAX_BYTES': '100',
                                                      'REFSITE_MAX_BYTES_ON_VIEW': '1'})
permission_anyone_site = site_fixture('permission_anyone', {'CHUNKED_UPLOAD_PERMISSION': 'anyone'})
permission_anyone_myanonupload_site = site_fixture('permission_anyone_myanonupload', {
    'CHUNKED_UPLOAD_PERMISSION': 'anyone', 'CHUNKED_UPLOAD_TABLE': 'custom_upload_myanonupload'})


# --------------------------------------------------------------------------
# helpers for the tests

def edit_session(world, session_key, drop=(), update=None):
    """Change a session through Django's own SessionStore (as a view would)."""
    code = ('import json\n'
            'from importlib import import_module\n'
            'from django.conf import settings\n'
            's = import_module(settings.SESSION_ENGINE).SessionStore(session_key=%r)\n'
            'assert s.load(), "no such session"\n'
            'for k in json.loads(%r):\n'
            '    s.pop(k, None)\n'
            's.update(json.loads(%r))\n'
            's.save()\n'
            'print("KEYS=" + ",".join(sorted(s.keys())))\n'
            % (session_key, json.dumps(list(drop)), json.dumps(update or {})))
    out = compatlib.run_manage(world.profile, world.server_env(), 'shell', '-c', code)
    return re.search(r'KEYS=(.*)', out).group(1).split(',')


def session_data(world, session_key):
    """A session's decoded data, decoded by Django."""
    code = ('import json\n'
            'from importlib import import_module\n'
            'from django.conf import settings\n'
            'store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=%r)\n'
            'print("DATA=" + json.dumps(store.load()))\n' % session_key)
    out = compatlib.run_manage(world.profile, world.server_env(), 'shell', '-c', code)
    return json.loads(re.search(r'DATA=(.*)', out).group(1))
