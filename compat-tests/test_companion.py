"""The Django companion app (companion/, `chunked_upload_service`), installed
by setup.sh into every profile's venv and switched on in the refsite by
REFSITE_COMPANION=1.

* Completion on Django with the app against plain Django: the chunks go
  through the Rust service (the candidate), then the same complete request
  goes to plain Django and to a Django with the app, from the same database
  and MEDIA_ROOT state; status, body, headers, rows and files must be equal,
  and the app's log says which md5 path it took (the service's state, or a
  full re-read when the state does not describe the file).
* `manage.py chunked_upload_env`: its output, read as systemd and as docker
  read env files (envfile_readers.py), starts the real service, which then
  answers an upload and a completion exactly as Django does; every value is
  what the site's settings say (asked from Django itself).
* The migration and `manage.py check`.

Under COMPAT_CANDIDATE=django the chunks go through a second Django, which
keeps no md5 state: there the app must take the re-read path every time.
"""
import datetime as dt
import json
import os
import re
import subprocess
import urllib.parse

import psycopg2
import pytest

import compatlib
import envfile_readers
from compatlib import REFSITE, Proc, base_env, compare, free_port, header_order, md5hex, send

D, R = 'django', 'rust'
STATE_LINE = 'upload %s: md5 from the service state'
REREAD_LINE = 'upload %s: md5 by reading the file'


def cr(start, chunk, total):
    return 'bytes %d-%d/%d' % (start, start + len(chunk) - 1, total)


def manage(profile, env, *args):
    """manage.py in the profile's venv: (exit status, stdout, stderr)."""
    py = os.path.join(compatlib.HERE, compatlib.PROFILES[profile]['venv'], 'bin', 'python')
    r = subprocess.run([py, 'manage.py'] + list(args), cwd=REFSITE, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    return r.returncode, r.stdout.decode('utf-8', 'replace'), r.stderr.decode('utf-8', 'replace')


def start_django_module(profile, name, port, env, logdir):
    """compatlib.start_django, but gunicorn run as `python -m gunicorn` of the
    profile's venv: a venv copied from elsewhere keeps script shebangs that
    point to the original venv, which lacks the companion app."""
    py = os.path.join(compatlib.HERE, compatlib.PROFILES[profile]['venv'], 'bin', 'python')
    cmd = [py, '-m', 'gunicorn', '--workers', '2', '--worker-class', 'sync', '--bind', '127.0.0.1:%d' % port,
           '--timeout', '120', '--graceful-timeout', '5', 'refsite.wsgi:application']
    return Proc(name, cmd, env, REFSITE, logdir)


def state_table(upload_table):
    return 'chunked_upload_md5_state' if upload_table == compatlib.UPLOAD_TABLE else upload_table + '_md5_state'


class Companion:
    """A Django with the companion app beside `site` (same environment, same
    world); its log tells which md5 path each completion took."""

    def __init__(self, site):
        self.site = site
        self.env = dict(site.env, REFSITE_COMPANION='1')
        w = site.world
        # The service made the table already (serve creates it): the app's
        # migration must then be a no-op, whichever came first.
        code, out, err = manage(w.profile, self.env, 'migrate', 'chunked_upload_service', '--noinput')
        assert code == 0, out + err
        self.port = free_port()
        self.proc = start_django_module(w.profile, 'django-companion-' + site.name, self.port, self.env,
                                        w.logdir)
        try:
            self.proc.wait_ready(self.port)
        except Exception:
            self.proc.stop()
            raise

    def stop(self):
        self.proc.stop()

    def log_size(self):
        return os.path.getsize(self.proc.log_path)

    def log_since(self, mark):
        with open(self.proc.log_path, 'rb') as f:
            f.seek(mark)
            return f.read().decode('utf-8', 'replace')

    # -- the md5 state rows, kept across World.restore (which re-inserts the
    # upload rows and so cascades their state away)
    def state_rows(self):
        db, table = self.site.world.db, state_table(self.site.table)
        if db.q('SELECT to_regclass(%s)', (table,))[0][0] is None:
            return None
        return db.q('SELECT upload_pk, file, "offset", state FROM %s ORDER BY upload_pk' % table)

    def restore_state_rows(self, rows):
        if rows is None:
            return
        db, table = self.site.world.db, state_table(self.site.table)
        db.q('DELETE FROM %s' % table)
        for row in rows:
            db.q('INSERT INTO %s (upload_pk, file, "offset", state) VALUES (%%s, %%s, %%s, %%s)' % table, row)

    def complete_on_both(self, req):
        """`req` to plain Django, then (same starting state) to the companion
        Django; everything compared; the companion's state is kept. Returns
        (plain answer, companion answer, the companion's log lines of it)."""
        site, w = self.site, self.site.world
        s0, st0 = w.snapshot(site.table), self.state_rows()
        t0 = dt.datetime.now(dt.timezone.utc)
        rd = send(site.django_port, req)
        t1 = dt.datetime.now(dt.timezone.utc)
        sd = w.snapshot(site.table)
        w.restore(s0)
        self.restore_state_rows(st0)
        mark = self.log_size()
        t2 = dt.datetime.now(dt.timezone.utc)
        rc = send(self.port, req)
        t3 = dt.datetime.now(dt.timezone.utc)
        sc = w.snapshot(site.table)
        problems = compare(w, req, s0, rd, sd, (t0, t1), rc, sc, (t2, t3), site=site)
        context = '\nrequest: %r\n--- plain django:\n%s\n--- companion django:\n%s\n--- its log:\n%s' % (
            req, rd.summary(), rc.summary(), self.log_since(mark)[-3000:])
        assert not problems, 'MISMATCH:\n  - ' + '\n  - '.join(problems) + context
        od, oc = header_order(rd, rc)
        assert od == oc, 'HEADER ORDER differs: %s / %s' % (od, oc) + context
        return rd, rc, self.log_since(mark)


@pytest.fixture(scope='module')
def companion(site):
    c = Companion(site)
    yield c
    c.stop()


def upload_on(site, client, data, pieces, to=R):
    """Upload `data` in `pieces` (lengths), each piece to `to` (or a list of targets)."""
    targets = to if isinstance(to, list) else [to] * len(pieces)
    uid, start = None, 0
    for n, target in zip(pieces, targets):
        part = data[start:start + n]
        r = site.send(client.chunk(part, uid, content_range=cr(start, part, len(data))), to=target)
        assert r.status == 200, r.summary()
        uid, start = r.json['upload_id'], start + n
    assert start == len(data)
    return uid


def service_keeps_state(site):
    return site.world.candidate_kind == 'rust'


def assert_path(log, uid, expect_state, reason=None):
    if expect_state:
        assert STATE_LINE % uid in log, log
        assert REREAD_LINE % uid not in log, log
    else:
        assert REREAD_LINE % uid in log, log
        assert STATE_LINE % uid not in log, log
        if reason:
            line = next(l for l in log.splitlines() if REREAD_LINE % uid in l)
            assert reason in line, line


# --------------------------------------------------------------------------
# completion on Django with the app, against plain Django

def test_completion_after_service_chunks_finishes_the_service_state(site, companion, alice):
    data = bytes((i * 7 + 3) % 256 for i in range(300001))
    uid = upload_on(site, alice, data, [100000, 150000, 50001])
    if service_keeps_state(site):
        # The row the service keeps is md-5's state over exactly the file.
        pk = site.world.db.upload_row(uid)['id']
        file, offset, state = site.world.db.q(
            'SELECT file, "offset", state FROM chunked_upload_md5_state WHERE upload_pk = %s', (pk,))[0]
        assert (file, offset) == (site.world.db.upload_row(uid)['file'], len(data))
        import sys
        sys.path.insert(0, os.path.join(compatlib.REPO, 'companion'))
        from chunked_upload_service import md5_finish
        assert bytes(state) == md5_finish.state_of(data)
    rd, rc, log = companion.complete_on_both(alice.complete(uid, md5hex(data)))
    assert (rc.status, rc.body) == (200, b'{}'), rc.summary()
    assert_path(log, uid, service_keeps_state(site))


def test_a_chunk_django_wrote_makes_the_state_stale_and_django_reads_the_file(site, companion, alice):
    data = bytes((i * 11) % 256 for i in range(200000))
    uid = upload_on(site, alice, data, [120000, 80000], to=[R, D])
    rd, rc, log = companion.complete_on_both(alice.complete(uid, md5hex(data)))
    assert (rc.status, rc.body) == (200, b'{}'), rc.summary()
    assert_path(log, uid, False, 'stale service state' if service_keeps_state(site) else None)


def test_a_wrong_md5_is_refused_by_both(site, companion, alice):
    data = b'wrong md5 ' * 5000
    uid = upload_on(site, alice, data, [20000, len(data) - 20000])
    rd, rc, log = companion.complete_on_both(alice.complete(uid, md5hex(data + b'x')))
    assert rc.status == 400 and rc.json == {'detail': 'md5 checksum does not match'}, rc.summary()
    assert_path(log, uid, service_keeps_state(site))
    rd, rc, log = companion.complete_on_both(alice.complete(uid, md5hex(data)))
    assert (rc.status, rc.body) == (200, b'{}')


def test_completing_twice_answers_as_plain_django(site, companion, alice):
    data = b'twice' * 3000
    uid = upload_on(site, alice, data, [len(data)])
    for _ in range(2):
        rd, rc, log = companion.complete_on_both(alice.complete(uid, md5hex(data)))
    assert rc.status == (200 if site.world.upstream else 400), rc.summary()


def test_an_upload_wholly_on_django_has_no_state(site, companion, alice):
    data = b'all on django ' * 1000
    uid = upload_on(site, alice, data, [7000, len(data) - 7000], to=D)
    rd, rc, log = companion.complete_on_both(alice.complete(uid, md5hex(data)))
    assert (rc.status, rc.body) == (200, b'{}')
    assert_path(log, uid, False, 'no service state')


def _delete(db, table, pk, rel, media):
    db.q('DELETE FROM %s WHERE upload_pk = %%s' % table, (pk,))


def _truncate(db, table, pk, rel, media):
    db.q('UPDATE %s SET state = substring(state from 1 for 40) WHERE upload_pk = %%s' % table, (pk,))


def _miscount(db, table, pk, rel, media):
    # one block more than the file has: consistent-looking, wrong length
    db.q("UPDATE %s SET state = overlay(state placing '\\x01'::bytea from 17 for 1) WHERE upload_pk = %%s"
         % table, (pk,))


def _longer_file(db, table, pk, rel, media):
    with open(os.path.join(media, rel), 'ab') as f:
        f.write(b'tail the row does not count')


@pytest.mark.parametrize('damage', [_delete, _truncate, _miscount, _longer_file],
                         ids=['state-row-deleted', 'state-truncated', 'state-miscounted', 'file-longer'])
def test_a_missing_or_damaged_state_falls_back_to_reading_the_file(site, companion, alice, damage):
    if not service_keeps_state(site):
        pytest.skip('needs the md5 state the Rust service keeps')
    data = bytes((i * 5) % 256 for i in range(130000))
    uid = upload_on(site, alice, data, [65536, len(data) - 65536])
    row = site.world.db.upload_row(uid)
    damage(site.world.db, 'chunked_upload_md5_state', row['id'], row['file'], site.world.media_root)
    for md5 in (md5hex(data), md5hex(b'no')):
        rd, rc, log = companion.complete_on_both(alice.complete(uid, md5))
        assert_path(log, uid, False)
        if rc.status == 200:
            break


def test_a_subclassed_model_uses_its_own_state_table(myupload_site):
    site = myupload_site
    c = Companion(site)
    try:
        alice = site.login('alice')
        data = b'subclass ' * 9000
        uid = upload_on(site, alice, data, [30000, len(data) - 30000])
        rd, rc, log = c.complete_on_both(alice.complete(uid, md5hex(data)))
        assert (rc.status, rc.body) == (200, b'{}'), rc.summary()
        assert_path(log, uid, service_keeps_state(site))
    finally:
        c.stop()


def test_deployment_with_completion_code_on_django(world):
    """Only the upload URL on the service; the complete view has site code
    (on_completion, get_response_data using chunked_upload.md5). Plain Django
    and Django with the app run that code and answer the same; the app took
    the md5 from the service's state."""
    site = compatlib.Site(world, 'completion-code', {'REFSITE_COMPANION_VIEWS': 'completion'}, cell='companion')
    c = None
    try:
        c = Companion(site)
        alice = site.login('alice')
        data = bytes((i * 3) % 256 for i in range(250000))
        uid = upload_on(site, alice, data, [100000, 150000])
        mark = c.log_size()
        rd, rc, log = c.complete_on_both(alice.complete(uid, md5hex(data)))
        assert rc.status == 200 and rc.json == {'received': len(data), 'md5': md5hex(data)}, rc.summary()
        assert_path(log, uid, service_keeps_state(site))
        assert re.search(r'on_completion: \S+ %d bytes' % len(data), c.log_since(mark)), c.log_since(mark)
    finally:
        if c is not None:
            c.stop()
        site.stop()


# --------------------------------------------------------------------------
# manage.py chunked_upload_env

SETTINGS_DUMP = r'''
import json, os, datetime
import django
from django.conf import settings
from django.contrib.auth import get_user_model
from chunked_upload import settings as cu
d = settings.DATABASES['default']
print('SETTINGS=' + json.dumps({
    'SECRET_KEY': settings.SECRET_KEY,
    'SECRET_KEY_FALLBACKS': list(getattr(settings, 'SECRET_KEY_FALLBACKS', [])),
    'DATABASE': [d['ENGINE'], d['NAME'], d.get('USER'), d.get('HOST'), str(d.get('PORT') or '')],
    'MEDIA_ROOT': os.path.abspath(settings.MEDIA_ROOT),
    'ALLOWED_HOSTS': list(settings.ALLOWED_HOSTS),
    'TIME_ZONE': settings.TIME_ZONE, 'USE_TZ': settings.USE_TZ,
    'FILE_UPLOAD_PERMISSIONS': settings.FILE_UPLOAD_PERMISSIONS,
    'FILE_UPLOAD_DIRECTORY_PERMISSIONS': settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS,
    'DATA_UPLOAD_MAX_MEMORY_SIZE': settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    'DATA_UPLOAD_MAX_NUMBER_FIELDS': settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
    'SESSION_ENGINE': settings.SESSION_ENGINE, 'SESSION_COOKIE_NAME': settings.SESSION_COOKIE_NAME,
    'SESSION_COOKIE_AGE': settings.SESSION_COOKIE_AGE, 'SESSION_SERIALIZER': settings.SESSION_SERIALIZER,
    'CSRF_COOKIE_NAME': settings.CSRF_COOKIE_NAME, 'CSRF_HEADER_NAME': settings.CSRF_HEADER_NAME,
    'CSRF_TRUSTED_ORIGINS': list(settings.CSRF_TRUSTED_ORIGINS),
    'CSRF_USE_SESSIONS': settings.CSRF_USE_SESSIONS,
    'SECURE_PROXY_SSL_HEADER': list(settings.SECURE_PROXY_SSL_HEADER or []),
    'USE_X_FORWARDED_HOST': settings.USE_X_FORWARDED_HOST,
    'USE_X_FORWARDED_PORT': settings.USE_X_FORWARDED_PORT,
    'APPEND_SLASH': settings.APPEND_SLASH,
    'AUTH_USER_TABLE': get_user_model()._meta.db_table,
    'AUTH_REQUIRED': 'django.contrib.auth.middleware.AuthenticationMiddleware' in settings.MIDDLEWARE,
    'CHUNKED_UPLOAD_PATH': cu.UPLOAD_PATH,
    'CHUNKED_UPLOAD_EXPIRATION_DELTA': cu.EXPIRATION_DELTA.total_seconds(),
    'CHUNKED_UPLOAD_MAX_BYTES': cu.MAX_BYTES,
    'CHUNKED_UPLOAD_CONTENT_TYPE': cu.CONTENT_TYPE,
    'SESSION_FILE_PATH': settings.SESSION_FILE_PATH, 'SESSION_CACHE_ALIAS': settings.SESSION_CACHE_ALIAS,
    'CACHES': settings.CACHES,
    'DJANGO': '%d.%d' % django.VERSION[:2],
}))
'''


def service_list(raw):
    s = raw.strip()
    if s.startswith('['):
        return json.loads(s)
    return [x.strip() for x in s.split(',') if x.strip()]


def service_bool(raw):
    return {'True': True, 'False': False}[raw]


def service_int(raw):
    return None if raw == 'None' else int(raw, 8) if raw.startswith('0o') else int(raw)


def read_env_file(text):
    """What both systemd and docker read from `text` (they must agree)."""
    as_systemd, as_docker = envfile_readers.systemd(text), envfile_readers.docker(text)
    assert as_systemd == as_docker == envfile_readers.docker(text, trim_quotes=True), (as_systemd, as_docker)
    return as_systemd


def env_variants(world, request=None):
    """name -> extra environment of the refsite, each a different site
    (`request`: to start Redis for the cache-session site)."""
    media_rel = os.path.relpath(world.media_root, REFSITE)
    sessions_dir = os.path.join(os.path.dirname(world.media_root), 'envfile-sessions')
    os.makedirs(sessions_dir, exist_ok=True)
    redis_url = 'redis://127.0.0.1:6379/63'
    if request is not None and 'cached_db' in request.node.name:
        host, port, n = request.getfixturevalue('redis_server')
        redis_url = 'redis://%s:%d/%d' % (host, port, n - 1)
    proxy = {'SECURE_PROXY_SSL_HEADER': 'HTTP_X_FORWARDED_PROTO,https', 'USE_X_FORWARDED_HOST': 'True',
             'USE_X_FORWARDED_PORT': 'True',
             'CSRF_TRUSTED_ORIGINS': 'trusted.example' if world.django_version == '3.2'
             else 'https://trusted.example,http://other.example:8080'}
    return {
        'defaults': {},
        'many': dict(proxy, **{
            'USE_TZ': 'False', 'TIME_ZONE': 'Asia/Tokyo', 'CSRF_COOKIE_NAME': 'xsrf',
            'CSRF_HEADER_NAME': 'HTTP_X_XSRF_TOKEN', 'ALLOWED_HOSTS': 'testserver,.domain.example,[::1]',
            'FILE_UPLOAD_PERMISSIONS': '0o600', 'FILE_UPLOAD_DIRECTORY_PERMISSIONS': '0o750',
            'CHUNKED_UPLOAD_PATH': 'uploads/%Y-%m/%H/day-%j', 'CHUNKED_UPLOAD_MAX_BYTES': '1000000',
            'CHUNKED_UPLOAD_EXPIRATION_DELTA': '3600', 'SESSION_COOKIE_NAME': 'sid',
            'SESSION_COOKIE_AGE': '7200', 'DATA_UPLOAD_MAX_NUMBER_FIELDS': 'None',
            'SECRET_KEY_FALLBACKS': 'an-old-key-1,an-old-key-2', 'MEDIA_ROOT': media_rel}),
        'subclass_slash': {'TRAILING_SLASH': 'required', 'APPEND_SLASH': 'False',
                           'CHUNKED_UPLOAD_TABLE': 'custom_upload_myupload', 'CSRF_USE_SESSIONS': 'True'},
        'anonymous': {'AUTH_REQUIRED': 'False', 'CHUNKED_UPLOAD_TABLE': 'custom_upload_myanonupload'},
        'file_sessions': {'SESSION_ENGINE': 'django.contrib.sessions.backends.file',
                          'SESSION_FILE_PATH': sessions_dir},
        # django-redis: the Redis cache every profile has (3.2 has no Django RedisCache)
        'cached_db_sessions': {
            'SESSION_ENGINE': 'django.contrib.sessions.backends.cached_db', 'SESSION_CACHE_ALIAS': 'sessions',
            'CACHES': json.dumps({
                'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'},
                'sessions': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': redis_url,
                             'KEY_PREFIX': 'envfile', 'VERSION': 4}})},
    }


def assert_env_is_the_sites(profile, env_values, django_settings, extra):
    s, e = django_settings, env_values
    assert e['SECRET_KEY'] == s['SECRET_KEY']
    if tuple(map(int, s['DJANGO'].split('.'))) >= (4, 1):
        assert service_list(e['SECRET_KEY_FALLBACKS']) == s['SECRET_KEY_FALLBACKS']
    else:
        assert 'SECRET_KEY_FALLBACKS' not in e
    url = urllib.parse.urlsplit(e['DATABASE_URL'])
    engine, name, user, host, port = s['DATABASE']
    assert (url.scheme, url.path[1:], url.username, url.hostname, str(url.port or '')) == (
        'postgres', name, user, host, port)
    assert e['MEDIA_ROOT'] == s['MEDIA_ROOT'] and os.path.isabs(e['MEDIA_ROOT'])
    for name in ('ALLOWED_HOSTS', 'CSRF_TRUSTED_ORIGINS', 'SECURE_PROXY_SSL_HEADER'):
        assert service_list(e[name]) == s[name], name
    for name in ('TIME_ZONE', 'SESSION_ENGINE', 'SESSION_COOKIE_NAME', 'SESSION_SERIALIZER',
                 'CSRF_COOKIE_NAME', 'CSRF_HEADER_NAME', 'AUTH_USER_TABLE', 'CHUNKED_UPLOAD_PATH',
                 'CHUNKED_UPLOAD_CONTENT_TYPE'):
        assert e[name] == s[name], name
    for name in ('USE_TZ', 'CSRF_USE_SESSIONS', 'USE_X_FORWARDED_HOST', 'USE_X_FORWARDED_PORT',
                 'APPEND_SLASH', 'AUTH_REQUIRED'):
        assert service_bool(e[name]) == s[name], name
    for name in ('FILE_UPLOAD_PERMISSIONS', 'FILE_UPLOAD_DIRECTORY_PERMISSIONS', 'DATA_UPLOAD_MAX_MEMORY_SIZE',
                 'DATA_UPLOAD_MAX_NUMBER_FIELDS', 'SESSION_COOKIE_AGE', 'CHUNKED_UPLOAD_MAX_BYTES'):
        assert service_int(e[name]) == s[name], name
    assert int(e['CHUNKED_UPLOAD_EXPIRATION_DELTA']) == s['CHUNKED_UPLOAD_EXPIRATION_DELTA']
    if s['SESSION_ENGINE'].endswith('.file'):
        assert e['SESSION_FILE_PATH'] == s['SESSION_FILE_PATH']
    else:
        assert 'SESSION_FILE_PATH' not in e
    assert e['SESSION_CACHE_ALIAS'] == s['SESSION_CACHE_ALIAS']
    if s['SESSION_ENGINE'].endswith(('.cache', '.cached_db')):
        assert json.loads(e['CACHES']) == s['CACHES']
    else:
        assert 'CACHES' not in e
    p = compatlib.PROFILES[profile]
    assert (e['DJANGO_VERSION'], e['CHUNKED_UPLOAD_COMPAT']) == (p['django_version'], p['compat'])
    # the views the refsite mounts (its urls.py, chosen by these variables)
    assert e['TRAILING_SLASH'] == (extra.get('TRAILING_SLASH') or 'optional')
    assert e['CHUNKED_UPLOAD_TABLE'] == (extra.get('CHUNKED_UPLOAD_TABLE') or compatlib.UPLOAD_TABLE)
    assert (e['UPLOAD_URL'], e['COMPLETE_URL']) == (compatlib.UPLOAD, compatlib.COMPLETE)
    assert (e['CSRF_EXEMPT'], e['CHUNKED_UPLOAD_FIELD_NAME'], e['CHUNKED_UPLOAD_FAIL_IF_NO_HEADER'],
            e['CHUNKED_UPLOAD_DO_MD5_CHECK'], e['CHUNKED_UPLOAD_USER_FIELD_NAME'],
            e['CHUNKED_UPLOAD_PERMISSION']) == ('False', 'file', 'False', 'True', 'user', 'authenticated')


@pytest.mark.parametrize('variant', ['defaults', 'many', 'subclass_slash', 'anonymous', 'file_sessions',
                                     'cached_db_sessions'])
def test_env_file_starts_a_service_that_answers_as_django(world, variant, request):
    extra = env_variants(world, request)[variant]
    env = dict(world.server_env(extra), REFSITE_COMPANION='1')
    code, out, err = manage(world.profile, env, 'chunked_upload_env')
    assert code == 0, out + err
    values = read_env_file(out)
    code, dump, err = manage(world.profile, env, 'shell', '-c', SETTINGS_DUMP)
    assert code == 0, dump + err
    settings = json.loads(re.search(r'SETTINGS=(.*)', dump).group(1))
    assert_env_is_the_sites(world.profile, values, settings, extra)

    # A Django of that site (for the login and as the reference) and the
    # service started from nothing but the env file.
    # (its own processes get MEDIA_ROOT as an absolute path: the candidate
    # it starts too, unused here, refuses a relative one)
    site = compatlib.Site(world, 'env-' + variant, dict(extra, MEDIA_ROOT=world.media_root), cell='companion')
    service_port = free_port()
    service_env = dict(base_env(), **values)
    service_env['LISTEN'] = '127.0.0.1:%d' % service_port
    service = Proc('envfile-service-' + variant, [compatlib.candidate_binary(), 'serve'], service_env,
                   compatlib.REPO, world.logdir)
    try:
        service.wait_ready(service_port)
        site.cand_port = service_port   # the comparison's candidate: the env-file service
        client = site.anonymous() if extra.get('AUTH_REQUIRED') == 'False' else site.login('alice')
        data = b'env file ' * 3000
        r = site.step(client.chunk(data[:10000], content_range=cr(0, data[:10000], len(data))), drive=R)
        assert r.status == 200, r.summary()
        uid = r.json['upload_id']
        r = site.step(client.chunk(data[10000:], uid, content_range=cr(10000, data[10000:], len(data))),
                      drive=R)
        assert r.json['offset'] == len(data)
        r = site.step(client.complete(uid, md5hex(data)), drive=R)
        assert (r.status, r.body) == (200, b'{}'), r.summary()
    finally:
        service.stop()
        site.stop()


@pytest.mark.parametrize('setting,value,named', [
    ('SECRET_KEY', 'two\nlines', 'SECRET_KEY'),
    ('SECRET_KEY', 'back\\slash', 'SECRET_KEY'),
    ('DATABASE_URL', 'sqlite:///:memory:', "DATABASES['default']['NAME']"),
])
def test_env_refuses_what_no_env_file_carries(world, setting, value, named):
    env = dict(world.server_env({setting: value}), REFSITE_COMPANION='1')
    code, out, err = manage(world.profile, env, 'chunked_upload_env')
    assert code != 0, out
    assert out == ''
    assert err.splitlines()[-1].startswith('CommandError: ' + named), err


def test_env_writes_sqlite_as_an_absolute_url(world):
    for url, want in (('sqlite:////srv/site/db.sqlite3', 'sqlite:////srv/site/db.sqlite3'),
                      ('sqlite:///relative.sqlite3', 'sqlite:///' + os.path.join(REFSITE, 'relative.sqlite3'))):
        env = dict(world.server_env({'DATABASE_URL': url}), REFSITE_COMPANION='1')
        code, out, err = manage(world.profile, env, 'chunked_upload_env')
        assert code == 0, err
        assert read_env_file(out)['DATABASE_URL'] == want


def test_env_names_the_overrides_the_service_cannot_run(world):
    env = dict(world.server_env(), REFSITE_COMPANION='1', REFSITE_COMPANION_VIEWS='overrides')
    code, out, err = manage(world.profile, env, 'chunked_upload_env')
    assert code == 0, err
    comments = [l for l in out.splitlines() if l.startswith('#')]
    text = '\n'.join(comments)
    assert 'upload view overrides validate, get_extra_attrs' in text
    assert 'Keep the upload URL on Django' in text
    assert 'complete view overrides on_completion, get_response_data' in text
    assert 'location ~ ^/api/chunked_upload/?$' in text
    assert "content_range_header = 'HTTP_X_CONTENT_RANGE'" in text
    read_env_file(out)      # still a valid env file for both readers


@pytest.mark.parametrize('views,permission', [('anyone', 'anyone'), ('denied', None)])
def test_env_mirrors_check_permissions_by_its_behaviour(world, companion, views, permission):
    env = dict(world.server_env(), REFSITE_COMPANION='1', REFSITE_COMPANION_VIEWS=views)
    code, out, err = manage(world.profile, env, 'chunked_upload_env')
    assert code == 0, err
    values = read_env_file(out)
    assert values.get('CHUNKED_UPLOAD_PERMISSION') == permission
    if permission is None:
        assert re.search(r'^# WARNING: CHUNKED_UPLOAD_PERMISSION cannot be mirrored: '
                         r'refsite\.companion_urls\.DeniedUploadView\.check_permissions is site code', out,
                         re.M), out
    code, out, err = manage(world.profile, env, 'check')
    assert check_ids(out + err) == ([] if permission else ['chunked_upload_service.W004']), out + err


def in_django(world, script, **extra):
    """`script` run by `manage.py shell` of the world's profile (the demo site
    with the app); it prints RESULT=<json>."""
    env = dict(world.server_env(), REFSITE_COMPANION='1', **extra)
    code, out, err = manage(world.profile, env, 'shell', '-v', '0', '-c', script)
    assert code == 0, out + err
    return json.loads(re.search(r'RESULT=(.*)', out).group(1))


PERMISSIONS = r'''
import json
from chunked_upload.views import ChunkedUploadCompleteView, ChunkedUploadView
from chunked_upload_service import views_inspect

class Staff(ChunkedUploadView):
    def check_permissions(self, request):
        if not request.user.is_staff:
            raise PermissionError

class Super(ChunkedUploadView):
    def check_permissions(self, request):
        return super().check_permissions(request)

class Pass(ChunkedUploadView):
    def check_permissions(self, request):
        pass

class Doc(ChunkedUploadView):
    def check_permissions(self, request):
        """Anyone may upload."""

class Return(ChunkedUploadView):
    def check_permissions(self, request):
        return

class ReturnNone(ChunkedUploadView):
    def check_permissions(self, request):
        """Anyone."""
        return None

class ReturnText(ChunkedUploadView):
    def check_permissions(self, request):
        return 'no'

class Inherited(Pass):
    pass

def behaviour(cls):
    return views_inspect.permission_behaviour(views_inspect.MountedView('/u/', cls.as_view(), False))
print('RESULT=' + json.dumps({c.__name__: behaviour(c) for c in (
    ChunkedUploadView, ChunkedUploadCompleteView, Staff, Super, Pass, Doc, Return, ReturnNone, ReturnText,
    Inherited)}))
'''


def test_check_permissions_is_mirrored_only_when_it_is_the_packages_or_does_nothing(world):
    """An anonymous probe would class `if not request.user.is_staff: raise`
    as authenticated, letting the service accept logged-in non-staff users."""
    got = in_django(world, PERMISSIONS)
    want_anyone = {'Pass', 'Doc', 'Return', 'ReturnNone', 'Inherited'}
    for name, behaviour in got.items():
        if name in ('ChunkedUploadView', 'ChunkedUploadCompleteView'):
            assert behaviour == 'authenticated', (name, behaviour)
        elif name in want_anyone:
            assert behaviour == 'anyone', (name, behaviour)
        else:
            assert behaviour.startswith('cannot be mirrored: ') and '.%s.check_permissions' % name in behaviour, (
                name, behaviour)


WRAPPERS = r'''
import json
from io import StringIO
from django.contrib.auth.decorators import login_required
from django.core.management import call_command
from django.test import override_settings
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from chunked_upload.views import ChunkedUploadView
from chunked_upload_service import views_inspect

@method_decorator(csrf_exempt, name='dispatch')
class Exempt(ChunkedUploadView):
    pass

v = ChunkedUploadView.as_view
out = {name: views_inspect.wrapper_name(func) for name, func in (
    ('plain', v()), ('exempt', csrf_exempt(v())), ('exempt_dispatch', Exempt.as_view()),
    ('login', login_required(v())), ('login_exempt', login_required(csrf_exempt(v()))),
    ('exempt_login', csrf_exempt(login_required(v()))))}
out['exempt_is_mirrored'] = views_inspect.MountedView('/u/', csrf_exempt(v()), False).csrf_exempt
# the demo site's URLconf with REFSITE_COMPANION_VIEWS=decorated (settings.py does not switch to it)
with override_settings(ROOT_URLCONF='refsite.companion_urls'):
    check, env = StringIO(), StringIO()
    call_command('check', stdout=check, stderr=check)
    call_command('chunked_upload_env', stdout=env, stderr=StringIO())
out['check'], out['env'] = check.getvalue(), env.getvalue()
print('RESULT=' + json.dumps(out))
'''


def test_a_decorator_in_the_urlconf_cannot_be_mirrored(world):
    """functools.wraps copies view_class: login_required(View.as_view())
    looked like the plain view, and the service would skip the decorator."""
    got = in_django(world, WRAPPERS, REFSITE_COMPANION_VIEWS='decorated')
    assert (got['plain'], got['exempt'], got['exempt_dispatch'], got['exempt_is_mirrored']) == (
        None, None, None, True), got
    for name in ('login', 'login_exempt', 'exempt_login'):
        assert got[name] and got[name].startswith('django.contrib.auth.decorators.'), (name, got[name])
    assert check_ids(got['check']) == ['chunked_upload_service.W004'], got['check']
    assert 'the upload view cannot be mirrored: the view is wrapped by django.contrib.auth.decorators.' in got['check']
    assert re.search(r'^# WARNING: the upload view cannot be mirrored: the view is wrapped by '
                     r'django\.contrib\.auth\.decorators\.', got['env'], re.M), got['env']
    read_env_file(got['env'])


LOGIN_REQUIRED = r'''
import json, sys, types
from io import StringIO
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.management import call_command
from django.test import override_settings
from django.urls import re_path
from chunked_upload.views import ChunkedUploadCompleteView, ChunkedUploadView

opted_out = types.ModuleType('opted_out_urls')
opted_out.urlpatterns = [
    re_path(r'^api/chunked_upload/?$', login_not_required(ChunkedUploadView.as_view())),
    re_path(r'^api/chunked_upload_complete/?$', login_not_required(ChunkedUploadCompleteView.as_view())),
]
sys.modules['opted_out_urls'] = opted_out
out = {}
middleware = settings.MIDDLEWARE + ['django.contrib.auth.middleware.LoginRequiredMiddleware']
for name, urls in (('plain', settings.ROOT_URLCONF), ('opted_out', 'opted_out_urls')):
    with override_settings(MIDDLEWARE=middleware, ROOT_URLCONF=urls):
        check, env = StringIO(), StringIO()
        call_command('check', stdout=check, stderr=check)
        call_command('chunked_upload_env', stdout=env, stderr=StringIO())
        out[name] = [check.getvalue(), env.getvalue()]
print('RESULT=' + json.dumps(out))
'''


@pytest.mark.cells(min_django='5.1')
def test_login_required_middleware_is_named_unless_the_view_opts_out(world):
    """Django 5.1's LoginRequiredMiddleware redirects anonymous requests
    before the view runs; the service does not."""
    got = in_django(world, LOGIN_REQUIRED)
    check, env = got['plain']
    assert check_ids(check) == ['chunked_upload_service.W003', 'chunked_upload_service.W004'], check
    for view in ('upload', 'complete'):
        assert re.search(r'^# WARNING: MIDDLEWARE has django\.contrib\.auth\.middleware\.LoginRequiredMiddleware: '
                         r'Django redirects anonymous requests to the %s view' % view, env, re.M), env
    check, env = got['opted_out']
    assert check_ids(check) == [], check
    assert 'LoginRequiredMiddleware' not in env, env


SETTINGS_UNITS = r'''
import json, os, urllib.parse
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from chunked_upload.models import ChunkedUpload
from chunked_upload.views import ChunkedUploadView
from chunked_upload_service import checks, service_env, views_inspect

class S3Like(Storage):      # django-storages' S3Storage has location = '' too
    location = ''

out = {'roots': [service_env.storage_root(default_storage), os.path.abspath(settings.MEDIA_ROOT),
                 service_env.storage_root(FileSystemStorage(location='rel')), os.path.abspath('rel'),
                 service_env.storage_root(S3Like())]}
field = ChunkedUpload._meta.get_field('file')
kept, field.storage = field.storage, S3Like()
try:
    out['s3_env'] = service_env.build().text()
finally:
    field.storage = kept

pg = {'ENGINE': 'django.db.backends.postgresql', 'USER': 'us er', 'PASSWORD': 'p@ss:/', 'NAME': 'd b',
      'PORT': '5433'}
out['urls'] = {host: service_env.database_url(dict(pg, HOST=host))
               for host in ('::1', '2001:db8::5', 'db.example', '', '/var/run/postgresql')}
out['parsed'] = {host: [p.hostname, p.port, urllib.parse.unquote(p.username), urllib.parse.unquote(p.password),
                        urllib.parse.unquote(p.path[1:]), urllib.parse.parse_qs(p.query)]
                 for host, p in ((h, urllib.parse.urlsplit(u)) for h, u in out['urls'].items())}
out['empty_host_warning'] = [service_env.empty_host_warning(dict(pg, HOST='')),
                             service_env.empty_host_warning(dict(pg, HOST='db.example'))]

out['field_names'] = {}
for name in ('', ' file', 'file ', 'file'):
    view = views_inspect.MountedView('/u/', type('V', (ChunkedUploadView,), {'field_name': name}).as_view(), False)
    try:
        out['field_names'][name] = service_env.field_name(view)
    except service_env.EnvError as e:
        out['field_names'][name] = 'EnvError: %s' % e

def crash(*args):
    raise RuntimeError('boom in build')
service_env.build = crash
out['crash'] = [(m.id, m.msg) for m in checks.check_exportable()]
print('RESULT=' + json.dumps(out))
'''


def test_env_settings_the_service_would_read_differently(world):
    got = in_django(world, SETTINGS_UNITS)
    default, media_root, relative, cwd_relative, s3 = got['roots']
    # only a FileSystemStorage (default_storage unwrapped) gives a directory
    assert (default, relative, s3) == (media_root, cwd_relative, None), got['roots']
    assert re.search(r'^# WARNING: the upload model stores files in S3Like, not a FileSystemStorage: the '
                     r'service does not support that storage yet', got['s3_env'], re.M), got['s3_env']
    want_hosts = {'::1': '::1', '2001:db8::5': '2001:db8::5', 'db.example': 'db.example', '': 'localhost',
                  '/var/run/postgresql': 'localhost'}
    for host, (hostname, port, user, password, name, query) in got['parsed'].items():
        assert (hostname, port, user, password, name) == (want_hosts[host], 5433, 'us er', 'p@ss:/', 'd b'), (
            host, got['urls'][host])
        assert query == ({'host': [host]} if host.startswith('/') else {}), (host, got['urls'][host])
    assert got['urls']['::1'].startswith('postgres://us%20er:p%40ss%3A%2F@[::1]:5433/'), got['urls']
    warning, none = got['empty_host_warning']
    assert none is None and "HOST'] is empty" in warning and '?host=' in warning, got['empty_host_warning']
    names = got['field_names']
    assert names['file'] == 'file', names
    for bad in ('', ' file', 'file '):
        assert names[bad].startswith('EnvError: CHUNKED_UPLOAD_FIELD_NAME: ') and repr(bad) in names[bad], names
    assert got['crash'] == [['chunked_upload_service.W006',
                             'chunked_upload_env crashed on this site: RuntimeError: boom in build']], got['crash']


# --------------------------------------------------------------------------
# manage.py check and the migration

def check_ids(output):
    return sorted(set(re.findall(r'chunked_upload_service\.W\d{3}', output)))


def test_check_reports_the_overrides_the_service_cannot_run(site, world, companion):
    env = dict(world.server_env(), REFSITE_COMPANION='1', REFSITE_COMPANION_VIEWS='overrides')
    code, out, err = manage(world.profile, env, 'check')
    assert code == 0, out + err
    report = out + err
    assert check_ids(report) == ['chunked_upload_service.W002', 'chunked_upload_service.W003',
                                 'chunked_upload_service.W004'], report
    assert re.search(r'W002\) .*StampedUploadView .*overrides validate, get_extra_attrs', report), report
    assert re.search(r'W003\) .*NotifyingCompleteView .*overrides on_completion, get_response_data',
                     report), report
    # the demo project's own views: nothing to report (the service made the table)
    code, out, err = manage(world.profile, dict(world.server_env(), REFSITE_COMPANION='1'), 'check')
    assert code == 0 and check_ids(out + err) == [], out + err


def table_shape(url, table):
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as c:
            c.execute('SELECT column_name, data_type, character_maximum_length, is_nullable, column_default '
                      'FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position',
                      (table,))
            columns = c.fetchall()
            c.execute('SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint '
                      'WHERE conrelid = to_regclass(%s) ORDER BY conname', (table,))
            return columns, c.fetchall()
    finally:
        conn.close()


def test_migration_creates_the_services_table_and_its_reverse_keeps_it(site, world, pg_admin_url, db_templates):
    if not service_keeps_state(site):
        pytest.skip('compares with the table the Rust service creates')
    name = 'compat_companion_%s_p%d' % (world.profile, os.getpid())
    url = urllib.parse.urlunsplit(urllib.parse.urlsplit(pg_admin_url)._replace(path='/' + name))
    admin = psycopg2.connect(pg_admin_url)
    admin.autocommit = True
    with admin.cursor() as c:
        c.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
        c.execute('CREATE DATABASE %s TEMPLATE %s' % (name, db_templates[world.profile]))
    try:
        env = dict(world.server_env({'DATABASE_URL': url}), REFSITE_COMPANION='1')
        code, out, err = manage(world.profile, env, 'check')
        assert 'chunked_upload_service.W001' in out + err and 'chunked_upload_md5_state' in out + err
        code, out, err = manage(world.profile, env, 'migrate', '--noinput')
        assert code == 0, out + err
        # What `chunked-upload serve` made in the world's database, and what Django's migration made.
        assert table_shape(url, 'chunked_upload_md5_state') == table_shape(world.db_url, 'chunked_upload_md5_state')
        code, out, err = manage(world.profile, env, 'check')
        assert code == 0 and check_ids(out + err) == [], out + err
        code, out, err = manage(world.profile, env, 'migrate', 'chunked_upload_service', 'zero', '--noinput')
        assert code == 0, out + err
        assert table_shape(url, 'chunked_upload_md5_state')[0], 'the reverse migration dropped the table'
    finally:
        with admin.cursor() as c:
            c.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
        admin.close()


SQLITE_MD5 = r'''
import hashlib, json
from django.core.files.base import ContentFile
from chunked_upload.models import ChunkedUpload
from chunked_upload_service import md5_finish, md5_resume
from django.db import connection
data = bytes(range(256)) * 1000 + b'tail'
up = ChunkedUpload(filename='x.bin', offset=len(data))
up.file.save(name='x', content=ContentFile(data), save=True)
with connection.cursor() as c:
    c.execute('INSERT INTO chunked_upload_md5_state (upload_pk, file, "offset", state) VALUES (%s, %s, %s, %s)',
              [up.pk, up.file.name, len(data), md5_finish.state_of(data)])
got = [ChunkedUpload.objects.get(pk=up.pk).md5, dict(md5_resume.COUNTS)]
ChunkedUpload.objects.filter(pk=up.pk).update(offset=len(data) - 4)   # the state is stale now
with open(up.file.path, 'r+b') as f:
    f.truncate(len(data) - 4)
got += [ChunkedUpload.objects.get(pk=up.pk).md5, dict(md5_resume.COUNTS)]
print('RESULT=' + json.dumps(got + [hashlib.md5(data).hexdigest(), hashlib.md5(data[:-4]).hexdigest()]))
'''


def test_a_sqlite_site_migrates_and_finishes_the_state(world, tmp_path):
    """SQLite (Django's default database): the app's migration creates the
    table in SQLite's spelling, and the md5 property finishes a state row or
    falls back to the file, as on PostgreSQL."""
    media = tmp_path / 'media'
    media.mkdir()
    env = dict(world.server_env({'DATABASE_URL': 'sqlite:///%s' % (tmp_path / 'db.sqlite3'),
                                 'MEDIA_ROOT': str(media)}), REFSITE_COMPANION='1')
    code, out, err = manage(world.profile, env, 'migrate', '--noinput', '-v', '0')
    assert code == 0, out + err
    code, out, err = manage(world.profile, env, 'shell', '-v', '0', '-c', SQLITE_MD5)
    assert code == 0, out + err
    first, counts1, second, counts2, want1, want2 = json.loads(re.search(r'RESULT=(.*)', out).group(1))
    assert (first, counts1) == (want1, {'state': 1, 'reread': 0}), out + err
    assert (second, counts2) == (want2, {'state': 1, 'reread': 1}), out + err
