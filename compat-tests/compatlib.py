"""Helpers for the differential compat suite: raw HTTP, multipart bodies,
server processes, DB/media snapshots and the request-by-request comparison.

Nothing here knows any expected answer: every expectation is "whatever the
reference Django did for the same bytes".
"""
import datetime as dt
import email.utils
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import time
import urllib.parse
from zoneinfo import ZoneInfo

import psycopg2

import sessionstores

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
REFSITE = os.path.join(HERE, 'refsite')

HOST = 'testserver'

# Lines for the end of the pytest output (conftest.pytest_terminal_summary).
REPORT_LINES = []
UPLOAD = '/api/chunked_upload/'
COMPLETE = '/api/chunked_upload_complete/'
BOUNDARY = '----CompatBoundary7MA4YWxkTrZu0gW'

# Headers that belong to the WSGI/HTTP server, not to Django.
# Transfer-Encoding is framing chosen by the server when Django gives no
# Content-Length; Content-Length itself IS compared (CommonMiddleware adds it).
IGNORED_HEADERS = {'server', 'date', 'connection', 'transfer-encoding', 'keep-alive'}

# name: the venv, the Django series whose bytes the candidate reproduces, and
# the package (`CHUNKED_UPLOAD_COMPAT`: upstream = 2.0.0, patched = 2.1.0).
PROFILES = {
    'upstream': {'venv': '.venv-upstream', 'django_version': '3.2', 'compat': 'upstream'},
    'dj42': {'venv': '.venv-dj42', 'django_version': '4.2', 'compat': 'patched'},
    'patched': {'venv': '.venv-patched', 'django_version': '5.2', 'compat': 'patched'},
    'dj60': {'venv': '.venv-dj60', 'django_version': '6.0', 'compat': 'patched'},
    'dj61': {'venv': '.venv-dj61', 'django_version': '6.1', 'compat': 'patched'},
}

CSRF_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'


# --------------------------------------------------------------------------
# small utilities

def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def md5hex(data):
    return hashlib.md5(data).hexdigest()


def csrf_mask(secret, mask=None):
    mask = mask or ''.join(secrets.choice(CSRF_CHARS) for _ in range(32))
    pairs = zip((CSRF_CHARS.index(x) for x in secret), (CSRF_CHARS.index(x) for x in mask))
    return mask + ''.join(CSRF_CHARS[(x + y) % len(CSRF_CHARS)] for x, y in pairs)


def csrf_unmask(token):
    if len(token) == 32:
        return token
    mask, cipher = token[:32], token[32:]
    pairs = zip((CSRF_CHARS.index(x) for x in cipher), (CSRF_CHARS.index(x) for x in mask))
    return ''.join(CSRF_CHARS[x - y] for x, y in pairs)


def md5_password_hash(password):
    """What Django's MD5PasswordHasher stores (the refsite's first hasher,
    so that test logins are quick)."""
    salt = secrets.token_hex(12)
    return 'md5$%s$%s' % (salt, md5hex((salt + password).encode()))


def django_json_datetime(value):
    """DjangoJSONEncoder's datetime rendering."""
    r = value.isoformat()
    if value.microsecond:
        r = r[:23] + r[26:]
    if r.endswith('+00:00'):
        r = r[:-6] + 'Z'
    return r


def django_json(obj):
    def default(o):
        if isinstance(o, dt.datetime):
            return django_json_datetime(o)
        raise TypeError(repr(o))
    return json.dumps(obj, separators=(', ', ': '), default=default)


# --------------------------------------------------------------------------
# HTTP

class Request:
    def __init__(self, method, path, headers=(), body=b''):
        self.method = method
        self.path = path
        self.headers = list(headers)
        self.body = body

    def __repr__(self):
        return '<%s %s %s body=%dB>' % (self.method, self.path, self.headers, len(self.body))


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers          # [(name, value)] in wire order
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def json(self):
        return json.loads(self.body)

    def cookies(self):
        out = {}
        for v in self.all('set-cookie'):
            name, _, rest = v.partition('=')
            out[name.strip()] = rest.split(';', 1)[0]
        return out

    def summary(self):
        hs = '\n'.join('    %s: %s' % kv for kv in self.headers)
        return '  %s %s\n%s\n  body: %r' % (self.status, self.reason, hs, self.body[:600])


def send(port, req, timeout=30):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=timeout)
    try:
        conn.putrequest(req.method, req.path, skip_host=True, skip_accept_encoding=True)
        names = set()
        for k, v in req.headers:
            conn.putheader(k, v)
            names.add(k.lower())
        if 'content-length' not in names and (req.body or req.method in ('POST', 'PUT', 'PATCH')):
            conn.putheader('Content-Length', str(len(req.body)))
        conn.endheaders(req.body if req.body else None)
        r = conn.getresponse()
        body = r.read()
        return Response(r.status, r.reason, list(r.getheaders()), body)
    finally:
        conn.close()


def send_while_answering(port, req, piece=64 * 1024, pause=0.003, timeout=60):
    """Send `req` over a raw socket in `piece`-byte writes `pause` s apart,
    reading the answer meanwhile, as a client that keeps sending after the
    server has answered. Returns (Response or None, bytes of the body sent,
    the write error or None, the read error or None)."""
    import threading
    sock = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    head = ['%s %s HTTP/1.1' % (req.method, req.path)]
    head += ['%s: %s' % kv for kv in req.headers]
    if not any(k.lower() == 'content-length' for k, _ in req.headers):
        head.append('Content-Length: %d' % len(req.body))
    received, errors = [], {}

    def read():
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                received.append(data)
        except OSError as e:
            errors['read'] = e

    reader = threading.Thread(target=read)
    reader.start()
    sent = 0
    try:
        sock.sendall(('\r\n'.join(head) + '\r\n\r\n').encode('latin-1'))
        for i in range(0, len(req.body), piece):
            sock.sendall(req.body[i:i + piece])
            sent += len(req.body[i:i + piece])
            time.sleep(pause)
    except OSError as e:
        errors['write'] = e
    reader.join(timeout)
    sock.close()
    return _parse_response(b''.join(received)), sent, errors.get('write'), errors.get('read')


def _parse_response(raw):
    """One HTTP/1.1 response with a Content-Length, or None if incomplete."""
    head, sep, body = raw.partition(b'\r\n\r\n')
    if not sep:
        return None
    lines = head.decode('latin-1').split('\r\n')
    _, status, reason = (lines[0].split(' ', 2) + [''])[:3]
    headers = [tuple(x.strip() for x in line.split(':', 1)) for line in lines[1:]]
    length = next((int(v) for k, v in headers if k.lower() == 'content-length'), None)
    if length is None or len(body) < length:
        return None
    return Response(int(status), reason, headers, body[:length])


class Field:
    def __init__(self, name, value, raw_headers=None):
        self.name, self.value, self.raw_headers = name, value, raw_headers


class File:
    def __init__(self, name, filename, content, content_type='application/octet-stream',
                 disposition=None):
        self.name, self.filename, self.content = name, filename, content
        self.content_type, self.disposition = content_type, disposition


def _b(x):
    return x if isinstance(x, bytes) else x.encode('utf-8')


def multipart(parts, boundary=BOUNDARY):
    """Build a multipart/form-data body byte by byte (no library in between)."""
    out = []
    for p in parts:
        out.append(b'--' + boundary.encode() + b'\r\n')
        if isinstance(p, Field):
            if p.raw_headers is not None:
                out.append(_b(p.raw_headers))
            else:
                out.append(b'Content-Disposition: form-data; name="' + _b(p.name) + b'"\r\n')
            out.append(b'\r\n' + _b(p.value) + b'\r\n')
        else:
            if p.disposition is not None:
                out.append(b'Content-Disposition: ' + _b(p.disposition) + b'\r\n')
            else:
                out.append(b'Content-Disposition: form-data; name="' + _b(p.name)
                           + b'"; filename="' + _b(p.filename) + b'"\r\n')
            if p.content_type is not None:
                out.append(b'Content-Type: ' + _b(p.content_type) + b'\r\n')
            out.append(b'\r\n' + p.content + b'\r\n')
    out.append(b'--' + boundary.encode() + b'--\r\n')
    return 'multipart/form-data; boundary=' + boundary, b''.join(out)


# --------------------------------------------------------------------------
# processes

class Proc:
    def __init__(self, name, cmd, env, cwd, logdir, umask=0o022):
        self.name = name
        self.log_path = os.path.join(logdir, name + '.log')
        self.cmd = cmd
        self._log = open(self.log_path, 'wb')
        self.p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, preexec_fn=lambda: os.umask(umask),
                                  start_new_session=True)

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read()[-n:].decode('utf-8', 'replace')
        except OSError:
            return ''

    def wait_ready(self, port, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError('%s exited with %s before accepting connections: %s\nlog:\n%s'
                                   % (self.name, self.p.returncode, self.cmd, self.log_tail()))
            try:
                # a real HTTP round trip, so that workers are booted
                send(port, Request('GET', UPLOAD, [('Host', HOST)]), timeout=20)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError('%s did not accept connections within %ss\nlog:\n%s'
                           % (self.name, timeout, self.log_tail()))

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self._log.close()


def base_env():
    env = {k: os.environ[k] for k in ('PATH', 'HOME', 'LANG', 'LC_ALL') if k in os.environ}
    env.setdefault('LANG', 'C.UTF-8')
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    env['PYTHONUNBUFFERED'] = '1'
    return env


def run_manage(profile, env, *args):
    py = os.path.join(HERE, PROFILES[profile]['venv'], 'bin', 'python')
    r = subprocess.run([py, 'manage.py'] + list(args), cwd=REFSITE, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise RuntimeError('manage.py %s failed (%s):\n%s' % (' '.join(args), profile,
                                                             r.stdout.decode('utf-8', 'replace')))
    return r.stdout.decode('utf-8', 'replace')


def start_django(profile, name, port, env, logdir, umask=0o022):
    gunicorn = os.path.join(HERE, PROFILES[profile]['venv'], 'bin', 'gunicorn')
    cmd = [gunicorn, '--workers', '2', '--worker-class', 'sync', '--bind', '127.0.0.1:%d' % port,
           '--timeout', '120', '--graceful-timeout', '5', 'refsite.wsgi:application']
    return Proc(name, cmd, env, REFSITE, logdir, umask)


def candidate_binary():
    return os.environ.get('CHUNKED_UPLOAD_BIN') or os.path.join(REPO, 'target', 'release', 'chunked-upload')


def start_rust(profile, name, port, env, logdir, umask=0o022):
    binary = candidate_binary()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise RuntimeError('candidate binary %r does not exist or is not executable; build it '
                           '(cargo build --release) or set CHUNKED_UPLOAD_BIN, or run with '
                           'COMPAT_CANDIDATE=django to test Django against itself' % binary)
    env = dict(env)
    env['LISTEN'] = '127.0.0.1:%d' % port
    env['CHUNKED_UPLOAD_COMPAT'] = PROFILES[profile]['compat']
    env['DJANGO_VERSION'] = PROFILES[profile]['django_version']
    return Proc(name, [binary, 'serve'], env, REPO, logdir, umask)


# --------------------------------------------------------------------------
# database / media state

UPLOAD_TABLE = 'chunked_upload_chunkedupload'
# Tables of AbstractChunkedUpload subclasses a site may use (CHUNKED_UPLOAD_TABLE);
# the refsite's `custom_upload` app creates them in every world.
UPLOAD_TABLES = (UPLOAD_TABLE, 'custom_upload_myupload', 'custom_upload_myanonupload',
                 'custom_upload_ownerupload')


class State:
    def __init__(self, rows, sessions, seq, media, table=UPLOAD_TABLE, redis=None, files=None):
        self.rows = rows            # upload_id -> {column: value}
        self.sessions = sessions    # session_key -> (session_data, expire_date)
        self.seq = seq              # (last_value, is_called)
        self.media = media          # relpath -> ('d', mode) | ('f', mode, bytes)
        self.table = table          # the upload table `rows` come from
        self.redis = redis          # None, or the world's Redis db: key -> (type, bytes, pttl)
        self.files = files          # None, or SESSION_FILE_PATH: name -> (kind, mode, bytes, mtime_ns)


def scan_media(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            full = os.path.join(dirpath, d)
            out[os.path.relpath(full, root)] = ('d', stat.S_IMODE(os.lstat(full).st_mode))
        for f in filenames:
            full = os.path.join(dirpath, f)
            with open(full, 'rb') as fh:
                data = fh.read()
            out[os.path.relpath(full, root)] = ('f', stat.S_IMODE(os.lstat(full).st_mode), data)
    return out


def restore_media(root, target):
    current = scan_media(root)
    for rel in sorted(current, key=lambda p: -p.count(os.sep)):
        if rel not in target or target[rel][0] != current[rel][0]:
            full = os.path.join(root, rel)
            if current[rel][0] == 'd':
                shutil.rmtree(full, ignore_errors=True)
            elif os.path.lexists(full):
                os.unlink(full)
    for rel in sorted(target, key=lambda p: p.count(os.sep)):
        full = os.path.join(root, rel)
        entry = target[rel]
        if entry[0] == 'd':
            os.makedirs(full, exist_ok=True)
        else:
            if current.get(rel) != entry:
                with open(full, 'wb') as fh:
                    fh.write(entry[2])
        os.chmod(full, entry[1])


class DB:
    def __init__(self, url):
        self.url = url
        self.conn = psycopg2.connect(url, options='-c TimeZone=UTC')
        self.conn.autocommit = True
        self._cols = {}             # table -> column names
        self._seq = {}              # table -> its id sequence

    def q(self, sql, args=()):
        with self.conn.cursor() as c:
            c.execute(sql, args)
            if c.description is not None:
                return c.fetchall()
            return None

    def upload_columns(self, table=UPLOAD_TABLE):
        if table not in self._cols:
            with self.conn.cursor() as c:
                c.execute('SELECT * FROM %s LIMIT 0' % table)
                self._cols[table] = [d[0] for d in c.description]
            self._seq[table] = self.q("SELECT pg_get_serial_sequence(%s, 'id')", (table,))[0][0]
        return self._cols[table]

    def upload_tables(self):
        """The UPLOAD_TABLES that exist in this database."""
        return [t for t in UPLOAD_TABLES if self.q('SELECT to_regclass(%s)', (t,))[0][0] is not None]

    def upload_row(self, upload_id, table=UPLOAD_TABLE):
        cols = self.upload_columns(table)
        rows = self.q('SELECT * FROM %s WHERE upload_id = %%s' % table, (upload_id,))
        return dict(zip(cols, rows[0])) if rows else None

    def snapshot_db(self, table=UPLOAD_TABLE):
        cols = self.upload_columns(table)
        rows = {}
        for r in self.q('SELECT * FROM %s ORDER BY id' % table):
            d = dict(zip(cols, r))
            rows[d['upload_id']] = d
        sessions = {k: (data, exp) for k, data, exp in
                    self.q('SELECT session_key, session_data, expire_date FROM django_session')}
        seq = tuple(self.q('SELECT last_value, is_called FROM %s' % self._seq[table])[0])
        return rows, sessions, seq

    def restore_db(self, rows, sessions, seq, table=UPLOAD_TABLE):
        cols = self.upload_columns(table)
        collist = ', '.join('"%s"' % c for c in cols)
        ph = ', '.join(['%s'] * len(cols))
        with self.conn.cursor() as c:
            c.execute('BEGIN')
            try:
                c.execute('DELETE FROM %s' % table)
                for r in sorted(rows.values(), key=lambda r: r['id']):
                    c.execute('INSERT INTO %s (%s) VALUES (%s)' % (table, collist, ph),
                              [r[k] for k in cols])
                c.execute('DELETE FROM django_session')
                for k, (data, exp) in sessions.items():
                    c.execute('INSERT INTO django_session (session_key, session_data, expire_date) '
                              'VALUES (%s, %s, %s)', (k, data, exp))
                c.execute('SELECT setval(%s, %s, %s)', (self._seq[table], seq[0], seq[1]))
                c.execute('COMMIT')
            except Exception:
                c.execute('ROLLBACK')
                raise


# --------------------------------------------------------------------------
# cookies

HTTP_DATE_RE = re.compile(r'expires=([^;]*)', re.I)


def _cookie_equal(a, b, tolerance=2):
    """Exact, except the expires= date may differ by up to `tolerance` seconds."""
    if a == b:
        return True
    ma, mb = HTTP_DATE_RE.search(a), HTTP_DATE_RE.search(b)
    if not (ma and mb):
        return False
    if HTTP_DATE_RE.sub('expires=X', a) != HTTP_DATE_RE.sub('expires=X', b):
        return False
    try:
        ta = email.utils.parsedate_to_datetime(ma.group(1))
        tb = email.utils.parsedate_to_datetime(mb.group(1))
    except (TypeError, ValueError):
        return False
    return abs((ta - tb).total_seconds()) <= tolerance


RANDOM_CSRF_RE = re.compile(r'^(csrftoken)=([A-Za-z0-9]{32})(;.*)?$')


def random_csrf_cookie(set_cookie, name='csrftoken'):
    """Match a Set-Cookie of a 32-character CSRF secret under cookie `name`."""
    return re.match(r'^(%s)=([A-Za-z0-9]{32})(;.*)?$' % re.escape(name), set_cookie)


# --------------------------------------------------------------------------
# the world of one profile: database + media root shared by all its servers

class World:
    """One profile's shared state: database and MEDIA_ROOT (shared by the
    Django server and the candidate, as in a real mixed deployment)."""

    TIME_ZONE = 'Pacific/Kiritimati'    # UTC+14: the path date differs from the UTC date most of the day
    SECRET_KEY = 'compat-tests-secret-key-9f1c2b7e4d6a8f0e3b5c7d9e1f2a4b6c'
    EXPIRATION = 86400
    UPLOAD_PATH = 'chunked_uploads/%Y/%m/%d'

    def __init__(self, profile, db_url, media_root, logdir, candidate_kind, engine=None,
                 redis_location=None, session_dir=None):
        """engine: a sessionstores.ENGINES entry (None = db); redis_location:
        redis://host:port/N, this world's own Redis database (cache engines);
        session_dir: this world's SESSION_FILE_PATH (file engine)."""
        self.profile = profile
        self.engine = engine or sessionstores.ENGINES['db']
        self.redis_location = redis_location
        self.redis = sessionstores.RedisStore(redis_location) if self.engine.uses_redis else None
        self.session_dir = session_dir if self.engine.uses_files else None
        self.django_version = PROFILES[profile]['django_version']
        self.db_url = db_url
        self.media_root = media_root
        self.logdir = logdir
        self.candidate_kind = candidate_kind
        self.db = DB(db_url)
        self.tz = ZoneInfo(self.TIME_ZONE)
        self.delta = dt.timedelta(seconds=self.EXPIRATION)
        self._user_counter = 0

    @property
    def upstream(self):
        return self.profile == 'upstream'

    @property
    def patched(self):
        return self.profile == 'patched'

    def server_env(self, extra=None):
        env = base_env()
        env.update({
            'DATABASE_URL': self.db_url,
            'SECRET_KEY': self.SECRET_KEY,
            'MEDIA_ROOT': self.media_root,
            'ALLOWED_HOSTS': 'testserver,localhost,.allowed.example',
            'TIME_ZONE': self.TIME_ZONE,
            'USE_TZ': 'True',
            'FILE_UPLOAD_PERMISSIONS': '0o640',
            'CSRF_TRUSTED_ORIGINS': 'http://trusted.example',
            'CHUNKED_UPLOAD_EXPIRATION_DELTA': str(self.EXPIRATION),
        })
        env.update(self.engine.env(self.redis_location, self.session_dir))
        env.update(extra or {})
        return env

    def migrate(self):
        run_manage(self.profile, self.server_env(), 'migrate', '--noinput', '-v', '0')

    def reset(self):
        """Before each test: no uploads, no sessions, empty MEDIA_ROOT."""
        for table in self.db.upload_tables():
            self.db.q('DELETE FROM %s' % table)
        self.db.q('DELETE FROM django_session')
        for name in os.listdir(self.media_root):
            full = os.path.join(self.media_root, name)
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)
        if self.redis is not None:
            self.redis.flush()
        if self.session_dir is not None:
            sessionstores.clear_dir(self.session_dir)

    def snapshot(self, table=UPLOAD_TABLE):
        rows, sessions, seq = self.db.snapshot_db(table)
        return State(rows, sessions, seq, scan_media(self.media_root), table,
                     redis=self.redis.snapshot() if self.redis is not None else None,
                     files=(sessionstores.scan_session_files(self.session_dir)
                            if self.session_dir is not None else None))

    def restore(self, state):
        self.db.restore_db(state.rows, state.sessions, state.seq, state.table)
        restore_media(self.media_root, state.media)
        if self.redis is not None:
            self.redis.restore(state.redis or {})
        if self.session_dir is not None:
            sessionstores.restore_session_files(self.session_dir, state.files or {})

    # -- the session store of this world's engine ----------------------------
    def session_cache_keys(self, session_key):
        """The Redis keys holding `session_key` (whatever KEY_PREFIX/VERSION made of them)."""
        return [k for k in self.redis.keys() if k.endswith(session_key.encode())] if self.redis else []

    def session_file(self, session_key, cookie_name='sessionid'):
        return os.path.join(self.session_dir, cookie_name + session_key)

    def session_stored(self, session_key):
        """Whether the engine's store still holds `session_key` (row, cache entry or
        file); None for signed_cookies, which stores nothing."""
        kind = self.engine.kind
        if kind == 'signed_cookies':
            return None
        found = False
        if kind in ('db', 'cached_db'):
            found = bool(self.db.q('SELECT 1 FROM django_session WHERE session_key = %s', (session_key,)))
        if kind in ('cache', 'cached_db'):
            found = found or bool(self.session_cache_keys(session_key))
        if kind == 'file':
            found = os.path.exists(self.session_file(session_key))
        return found

    def make_session(self, data, user_id=None, legacy_hash=False, legacy_format=False,
                     time_shift=0, expiry=None, extra_env=None):
        """Create a session with arbitrary `data`, written by Django's own
        SessionStore of this world's SESSION_ENGINE (in the profile's venv), and
        return its key (signed_cookies: the cookie value).
        user_id: add the keys login() writes for that user (id, ModelBackend, auth hash).
        legacy_hash: 3.2 only, the pre-3.1 SHA-1 auth hash (_legacy_get_session_auth_hash).
        legacy_format: 3.2 only, DEFAULT_HASHING_ALGORITHM='sha1' while saving (db/file:
        the pre-3.1 base64 hash:json format; signed_cookies: a SHA-1 signature).
        time_shift: seconds added to time.time() while saving (signing timestamps).
        expiry: set_expiry() argument: an int (seconds) or {'datetime_offset': seconds}."""
        opts = {'data': data, 'user_id': user_id, 'legacy_hash': legacy_hash,
                'legacy_format': legacy_format, 'time_shift': time_shift, 'expiry': expiry}
        code = '''
import datetime, json, time
from importlib import import_module
from unittest import mock
from django.conf import settings
from django.contrib import auth
from django.utils import timezone
o = json.loads(%r)
data = dict(o['data'])
if o['user_id'] is not None:
    u = auth.get_user_model()._default_manager.get(pk=o['user_id'])
    data[auth.SESSION_KEY] = u._meta.pk.value_to_string(u)
    data[auth.BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'
    data[auth.HASH_SESSION_KEY] = (u._legacy_get_session_auth_hash() if o['legacy_hash']
                                   else u.get_session_auth_hash())
if o['legacy_format']:
    settings.DEFAULT_HASHING_ALGORITHM = 'sha1'
s = import_module(settings.SESSION_ENGINE).SessionStore()
s.update(data)
e = o['expiry']
if isinstance(e, dict):
    s.set_expiry(timezone.now() + datetime.timedelta(seconds=e['datetime_offset']))
elif e is not None:
    s.set_expiry(e)
real = time.time
with mock.patch('time.time', lambda: real() + o['time_shift']):
    s.save()
print('KEY=' + s.session_key)
''' % json.dumps(opts)
        out = run_manage(self.profile, self.server_env(extra_env), 'shell', '-c', code)
        return re.search(r'KEY=(\S+)', out).group(1)

    def create_user(self, username=None, password=None, is_active=True):
        if username is None:
            self._user_counter += 1
            username = 'user%d_%s' % (self._user_counter, secrets.token_hex(3))
        password = password or 'pw-' + username
        encoded = md5_password_hash(password)
        uid = self.db.q(
            "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, "
            "last_name, email, is_staff, is_active, date_joined) VALUES "
            "(%s, NULL, false, %s, '', '', '', false, %s, now()) "
            "ON CONFLICT (username) DO UPDATE SET password = EXCLUDED.password, "
            "is_active = EXCLUDED.is_active RETURNING id",
            (encoded, username, is_active))[0][0]
        return username, password, uid


def _header_from_meta(meta_name):
    """CSRF_HEADER_NAME ('HTTP_X_XSRF_TOKEN') -> the header a client sends ('X-Xsrf-Token')."""
    assert meta_name.startswith('HTTP_'), meta_name
    if meta_name == 'HTTP_X_CSRFTOKEN':
        return 'X-CSRFToken'    # as Django's docs and the demo JS spell it
    return '-'.join(p.capitalize() for p in meta_name[5:].split('_'))


def env_bool(env, name, default):
    raw = (env.get(name) or '').strip().lower()
    if raw == '':
        return default
    return raw in ('true', '1', 'yes', 'on')


class Site:
    """A reference Django server and a candidate server over one World.

    `cell` names the settings variant in the README's compat matrix (see
    cell_label()); the attributes below are the site's settings the comparison
    needs (where a new upload's file goes, its `expires`, the upload table).
    `umask`: both servers' process umask (FILE_UPLOAD_PERMISSIONS=None sites)."""

    def __init__(self, world, name='main', extra_env=None, cell=None, umask=0o022):
        self.world = world
        self.name = name
        self.cell = cell or name
        self.procs = []
        env = world.server_env(extra_env)
        self.env = env
        self.table = env.get('CHUNKED_UPLOAD_TABLE') or UPLOAD_TABLE
        self.tz = ZoneInfo(env.get('TIME_ZONE') or 'UTC')
        self.use_tz = env_bool(env, 'USE_TZ', True)
        self.upload_path = env.get('CHUNKED_UPLOAD_PATH') or 'chunked_uploads/%Y/%m/%d'
        self.delta = dt.timedelta(seconds=int(env.get('CHUNKED_UPLOAD_EXPIRATION_DELTA') or 86400))
        self.csrf_cookie = env.get('CSRF_COOKIE_NAME') or 'csrftoken'
        self.csrf_header = _header_from_meta(env.get('CSRF_HEADER_NAME') or 'HTTP_X_CSRFTOKEN')
        self.csrf_use_sessions = env_bool(env, 'CSRF_USE_SESSIONS', False)
        self.session_cookie = env.get('SESSION_COOKIE_NAME') or 'sessionid'
        self.django_port = free_port()
        self.cand_port = free_port()
        tag = '%s-%s' % (world.profile, name)
        try:
            self.procs.append(start_django(world.profile, 'django-' + tag, self.django_port, env,
                                           world.logdir, umask))
            # COMPAT_CANDIDATE_EXTRA_ENV (JSON object): extra environment for the
            # candidate only; lets you check that the suite notices a difference.
            cand_env = dict(env)
            cand_env.update(json.loads(os.environ.get('COMPAT_CANDIDATE_EXTRA_ENV') or '{}'))
            if world.candidate_kind == 'django':
                self.procs.append(start_django(world.profile, 'candidate-django-' + tag,
                                               self.cand_port, cand_env, world.logdir, umask))
            else:
                self.procs.append(start_rust(world.profile, 'candidate-rust-' + tag,
                                             self.cand_port, cand_env, world.logdir, umask))
            self.procs[0].wait_ready(self.django_port)
            self.procs[1].wait_ready(self.cand_port)
        except Exception:
            self.stop()
            raise

    def stop(self):
        for p in self.procs:
            p.stop()
        self.procs = []

    # -- plumbing ---------------------------------------------------------
    def port(self, to):
        return self.django_port if to == 'django' else self.cand_port

    def send(self, req, to='django'):
        """One server only, no comparison (test set-up such as logging in)."""
        return send(self.port(to), req)

    def login(self, username, password=None):
        password = password or 'pw-' + username
        c = Client(self, username)
        r = self.send(Request('GET', '/accounts/login/', [('Host', HOST)]))
        assert r.status == 200, 'login page: ' + r.summary()
        c.cookies.update(r.cookies())
        m = re.search(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', r.body)
        assert m, r.body
        body = urllib.parse.urlencode({'csrfmiddlewaretoken': m.group(1).decode(),
                                       'username': username, 'password': password}).encode()
        r = self.send(Request('POST', '/accounts/login/', [
            ('Host', HOST), ('Cookie', c.cookie_header()),
            ('Content-Type', 'application/x-www-form-urlencoded')], body))
        assert r.status == 302, 'login of %s failed: %s' % (username, r.summary())
        c.cookies.update(r.cookies())
        assert self.session_cookie in c.cookies, r.summary()
        if self.csrf_use_sessions:
            # login() rotated the secret kept in the session: read the new
            # token from a page, as a browser's next form would carry it.
            self.page_token(c)
        else:
            assert self.csrf_cookie in c.cookies, r.summary()
        return c

    def page_token(self, c):
        """GET the login page with c's cookies; keep its cookies and its form's
        csrfmiddlewaretoken (CSRF_USE_SESSIONS: the only way to learn the token)."""
        h = [('Host', HOST)]
        if c.cookies:
            h.append(('Cookie', c.cookie_header()))
        r = self.send(Request('GET', '/accounts/login/', h))
        assert r.status == 200, r.summary()
        c.cookies.update(r.cookies())
        m = re.search(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', r.body)
        assert m, r.body
        c.csrf_token = m.group(1).decode()
        return c.csrf_token

    def anonymous(self):
        """A browser that has visited a page (so it holds a CSRF cookie, or under
        CSRF_USE_SESSIONS an anonymous session with the secret) but never logged in."""
        c = Client(self, None)
        self.page_token(c)
        return c

    # -- the comparison ---------------------------------------------------
    def step(self, req, drive='django'):
        """Send `req` to Django and to the candidate from the same starting
        state, compare everything, keep the state of the server that drives
        this step, and return that server's response."""
        assert drive in ('django', 'rust', 'candidate')
        w = self.world
        s0 = w.snapshot(self.table)
        t0 = dt.datetime.now(dt.timezone.utc)
        rd = send(self.django_port, req)
        t1 = dt.datetime.now(dt.timezone.utc)
        sd = w.snapshot(self.table)
        w.restore(s0)
        t2 = dt.datetime.now(dt.timezone.utc)
        rc = send(self.cand_port, req)
        t3 = dt.datetime.now(dt.timezone.utc)
        sc = w.snapshot(self.table)
        if drive == 'django':
            w.restore(sd)
        problems = compare(w, req, s0, rd, sd, (t0, t1), rc, sc, (t2, t3), site=self)
        if os.environ.get('COMPAT_TRACE') == '1':
            print('\n[%s] %s %s (Content-Range %r) -> django %s %r | candidate %s %r' % (
                w.profile, req.method, req.path,
                next((v for k, v in req.headers if k == 'Content-Range'), None),
                rd.status, rd.body[:160], rc.status, rc.body[:160]))
            for u, row in sd.rows.items():
                if u not in s0.rows:
                    print('    new row (django): filename=%r offset=%r' % (row['filename'], row['offset']))
        context = '\n\nrequest: %r\nbody: %r\n--- django:\n%s\n--- candidate (%s):\n%s' % (
            req, req.body[:800], rd.summary(), w.candidate_kind, rc.summary())
        if problems and self.procs:
            context += '\n--- candidate log (tail):\n' + self.procs[1].log_tail(1500)
        assert not problems, 'MISMATCH:\n  - ' + '\n  - '.join(problems) + context
        if os.environ.get('COMPAT_SKIP_HEADER_ORDER') != '1':
            od, oc = header_order(rd, rc)
            assert od == oc, ('HEADER ORDER differs (Django: %s; candidate: %s)' % (od, oc)) + context
        return rd if drive == 'django' else rc


def cell_label(item):
    """The README matrix cell of a collected test item: the `cell` of the Site
    its fixtures resolved to (a settings site wins over the main one), or None
    for a test that used no Site. Call it once the item's fixtures are set up
    (e.g. in pytest_runtest_call); conftest stores it as user property `cell`."""
    cells = []
    for value in getattr(item, 'funcargs', {}).values():
        site = value if isinstance(value, Site) else getattr(value, 'site', None)
        if isinstance(site, Site) and site.cell not in cells:
            cells.append(site.cell)
    special = [c for c in cells if c != 'main']
    return (special or cells or [None])[0]


def _hdrs(resp):
    return [(k.lower(), v) for k, v in resp.headers if k.lower() not in IGNORED_HEADERS]


def header_order(rd, rc):
    nd = [k for k, _ in _hdrs(rd)]
    nc = [k for k, _ in _hdrs(rc)]
    common = set(nd) & set(nc)
    return [n for n in nd if n in common], [n for n in nc if n in common]


def _new_path(rel):
    return re.sub(r'[0-9a-f]{32}', '<NEW>', rel)


class _WorldSettings:
    """compare() without a Site: the World's default settings."""
    def __init__(self, w):
        self.table, self.tz, self.use_tz = UPLOAD_TABLE, w.tz, True
        self.upload_path, self.delta, self.csrf_cookie = w.UPLOAD_PATH, w.delta, 'csrftoken'


def compare(w, req, s0, rd, sd, wd, rc, sc, wc, site=None):
    """`site` supplies the settings a new upload is checked against: its table,
    TIME_ZONE and USE_TZ, CHUNKED_UPLOAD_PATH and EXPIRATION_DELTA, CSRF cookie name."""
    cfg = site if site is not None else _WorldSettings(w)
    problems = []
    # status
    if rd.status != rc.status:
        problems.append('status: django %s, candidate %s' % (rd.status, rc.status))
    # headers other than Set-Cookie: same names, same values, same multiplicity
    hd, hc = _hdrs(rd), _hdrs(rc)
    gd, gc = {}, {}
    for k, v in hd:
        if k != 'set-cookie':
            gd.setdefault(k, []).append(v)
    for k, v in hc:
        if k != 'set-cookie':
            gc.setdefault(k, []).append(v)
    for k in sorted(set(gd) | set(gc)):
        if gd.get(k) != gc.get(k):
            problems.append('header %s: django %r, candidate %r' % (k, gd.get(k), gc.get(k)))
    # session keys each server generated during the request (random: paired
    # and replaced by placeholders in cookies, rows, Redis keys, file names)
    session_cookie = getattr(cfg, 'session_cookie', 'sessionid')
    secret = (getattr(cfg, 'env', None) or {}).get('SECRET_KEY') or w.SECRET_KEY
    mkd, mkc = sessionstores.key_maps(sessionstores.new_session_keys(req, s0, sd, rd, session_cookie),
                                      sessionstores.new_session_keys(req, s0, sc, rc, session_cookie))
    # Set-Cookie
    cd = [v for k, v in hd if k == 'set-cookie']
    cc = [v for k, v in hc if k == 'set-cookie']
    if len(cd) != len(cc):
        problems.append('Set-Cookie count: django %r, candidate %r' % (cd, cc))
    else:
        for a, b in zip(cd, cc):
            if _cookie_equal(a, b):
                continue
            if sessionstores.session_cookie_equal(a, b, mkd, mkc, session_cookie, secret, _cookie_equal):
                continue    # a new session key / a signing timestamp a second apart
            ma, mb = random_csrf_cookie(a, cfg.csrf_cookie), random_csrf_cookie(b, cfg.csrf_cookie)
            sent = dict(x.strip().partition('=')[::2] for h, v in req.headers if h.lower() == 'cookie'
                        for x in v.split(';'))
            if (ma and mb and sent.get(cfg.csrf_cookie) not in (ma.group(2), mb.group(2))
                    and _cookie_equal(a.replace(ma.group(2), 'X' * 32), b.replace(mb.group(2), 'X' * 32))):
                continue    # a freshly generated random CSRF secret on both sides
            problems.append('Set-Cookie: django %r, candidate %r' % (a, b))

    # rows that existed before
    cols = w.db.upload_columns(cfg.table)
    for uid, before in s0.rows.items():
        d, c = sd.rows.get(uid), sc.rows.get(uid)
        if (d is None) != (c is None):
            problems.append('row %s deleted by %s only' % (uid, 'django' if d is None else 'candidate'))
            continue
        if d is None:
            continue
        for col in cols:
            if d[col] == c[col]:
                continue
            if (col == 'completed_on' and d[col] is not None and c[col] is not None
                    and d[col] != before[col] and c[col] != before[col]
                    and wd[0] - dt.timedelta(seconds=2) <= d[col] <= wd[1] + dt.timedelta(seconds=2)
                    and wc[0] - dt.timedelta(seconds=2) <= c[col] <= wc[1] + dt.timedelta(seconds=2)):
                continue    # both set "now" during their own request
            problems.append('row %s column %s: django %r, candidate %r' % (uid, col, d[col], c[col]))
    # rows created by the request
    new_d = [r for u, r in sd.rows.items() if u not in s0.rows]
    new_c = [r for u, r in sc.rows.items() if u not in s0.rows]
    if len(new_d) != len(new_c):
        problems.append('new rows: django %d, candidate %d' % (len(new_d), len(new_c)))
    elif len(new_d) > 1:
        problems.append('request created %d rows' % len(new_d))
    elif len(new_d) == 1:
        d, c = new_d[0], new_c[0]
        for col in cols:
            if col in ('id', 'upload_id', 'created_on', 'file'):
                continue
            if d[col] != c[col]:
                problems.append('new row column %s: django %r, candidate %r' % (col, d[col], c[col]))
        for who, row, resp, (ta, tb) in (('django', d, rd, wd), ('candidate', c, rc, wc)):
            if not re.fullmatch(r'[0-9a-f]{32}', row['upload_id'] or ''):
                problems.append('%s: new upload_id %r is not 32 hex digits' % (who, row['upload_id']))
            co = row['created_on']
            if co is None or not (ta - dt.timedelta(seconds=2) <= co <= tb + dt.timedelta(seconds=2)):
                problems.append('%s: created_on %r outside the request window %s..%s' % (who, co, ta, tb))
                continue
            # upload_to runs time.strftime (TIME_ZONE local) between the
            # request's start and created_on: either instant's rendering is right.
            fmt = os.path.join(cfg.upload_path, row['upload_id'] + '.part')
            want_files = sorted({t.astimezone(cfg.tz).strftime(fmt) for t in (ta, co)})
            if row['file'] not in want_files:
                problems.append('%s: file column %r, expected %s' % (who, row['file'], ' or '.join(want_files)))
            if resp.status == 200:
                # USE_TZ=False: created_on is a naive TIME_ZONE wall-clock value and
                # expires_on = that + delta, naive arithmetic (rendered without offset).
                expires = (co + cfg.delta if cfg.use_tz
                           else co.astimezone(cfg.tz).replace(tzinfo=None) + cfg.delta)
                want = django_json({'upload_id': row['upload_id'], 'offset': row['offset'],
                                    'expires': expires}).encode()
                if resp.body != want:
                    problems.append('%s: body %r, expected from its own row %r' % (who, resp.body, want))
    # body (a successful create is checked above against each server's own row)
    created = len(new_d) == 1 and len(new_c) == 1 and rd.status == 200 and rc.status == 200
    if not created and rd.body != rc.body:
        problems.append('body: django %r, candidate %r' % (rd.body[:1500], rc.body[:1500]))
    # sessions: django_session, the Redis keyspace, SESSION_FILE_PATH
    problems.extend(sessionstores.compare_sessions(s0, sd, sc, mkd, mkc, secret, session_cookie))
    # media: files (bytes + mode) and directories (mode); new names normalised
    def norm(media):
        out = {}
        for rel, entry in media.items():
            key = rel if rel in s0.media else _new_path(rel)
            out.setdefault(key, []).append(entry)
        return {k: sorted(v) for k, v in out.items()}
    md, mc = norm(sd.media), norm(sc.media)
    for k in sorted(set(md) | set(mc)):
        if md.get(k) != mc.get(k):
            def show(es):
                if es is None:
                    return 'absent'
                return ', '.join('%s mode=%o%s' % (e[0], e[1], ' bytes=%r' % e[2][:80] if e[0] == 'f' else '')
                                 for e in es)
            problems.append('MEDIA_ROOT/%s: django %s; candidate %s' % (k, show(md.get(k)), show(mc.get(k))))
    return problems


class Client:
    """A browser: its cookies, and the requests the chunked-upload JS would send."""

    def __init__(self, site, username):
        self.site = site
        self.username = username
        self.cookies = {}

    def cookie_header(self, **override):
        ck = dict(self.cookies)
        for k, v in override.items():
            if v is None:
                ck.pop(k, None)
            else:
                ck[k] = v
        return '; '.join('%s=%s' % kv for kv in ck.items())

    csrf_token = None   # CSRF_USE_SESSIONS: the token read from a page's form

    @property
    def csrf(self):
        if self.csrf_token is not None:
            return self.csrf_token
        return self.cookies[getattr(self.site, 'csrf_cookie', 'csrftoken')]

    @property
    def session(self):
        return self.cookies.get(getattr(self.site, 'session_cookie', 'sessionid'))

    def headers(self, content_type=None, extra=(), cookies=None, host=HOST):
        h = [('Host', host), ('User-Agent', 'compat-tests/1.0'), ('Accept', '*/*')]
        ck = self.cookie_header(**(cookies or {}))
        if ck:
            h.append(('Cookie', ck))
        if content_type:
            h.append(('Content-Type', content_type))
        h.extend(extra)
        return h

    def _csrf_parts(self, csrf):
        """csrf: 'field' (csrfmiddlewaretoken = cookie value, as the demo JS does),
        'header' (X-CSRFToken = cookie value), None, or ('field'|'header', token)."""
        if csrf is None:
            return [], []
        kind, token = (csrf, self.csrf) if isinstance(csrf, str) else csrf
        if kind == 'field':
            return [Field('csrfmiddlewaretoken', token)], []
        return [], [(getattr(self.site, 'csrf_header', 'X-CSRFToken'), token)]

    def chunk(self, content, upload_id=None, content_range=None, filename='chunk.bin', csrf='field',
              path=UPLOAD, extra_headers=(), cookies=None, parts=None, host=HOST, method='POST'):
        fields, hdrs = self._csrf_parts(csrf)
        if upload_id is not None:
            fields.append(Field('upload_id', upload_id))
        if parts is None:
            parts = fields + [File('file', filename, content)]
        else:
            parts = fields + list(parts)
        ctype, body = multipart(parts)
        extra = list(hdrs)
        if content_range is not None:
            extra.append(('Content-Range', content_range))
        extra.extend(extra_headers)
        return Request(method, path, self.headers(ctype, extra, cookies, host), body)

    def complete(self, upload_id, md5, csrf='field', path=COMPLETE, extra_headers=(), cookies=None):
        fields, hdrs = self._csrf_parts(csrf)
        if upload_id is not None:
            fields.append(Field('upload_id', upload_id))
        if md5 is not None:
            fields.append(Field('md5', md5))
        ctype, body = multipart(fields)
        return Request('POST', path, self.headers(ctype, list(hdrs) + list(extra_headers), cookies), body)

    def raw(self, method, path, body=b'', content_type=None, extra_headers=(), cookies=None, host=HOST):
        return Request(method, path, self.headers(content_type, list(extra_headers), cookies, host), body)
