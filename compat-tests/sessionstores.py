"""Session engines of the compat matrix, and the session state a World keeps
besides `django_session`: the Redis keyspace of its cache and the files in
its SESSION_FILE_PATH. Snapshot / restore / compare for both, plus the
tolerances the comparison needs when a request writes a session:

* a session key generated during the request (cycle_key() after a
  SECRET_KEY_FALLBACKS rotation, the new key of an expired file session, ...)
  is random on each server: it is replaced by a placeholder on each side
  (pairing the two servers' new keys in order), in django_session keys, Redis
  keys, file names and the session cookie;
* Django's signed values ("payload:timestamp:signature", session_data, the
  file contents and the signed_cookies cookie) may carry timestamps one or two
  seconds apart: equal if the payloads are identical, the timestamps are
  within 2 s and BOTH signatures verify (HMAC-SHA256 with the site's
  SECRET_KEY, Django's salts);
* expire_date of a row the request wrote: within 3 s; a Redis TTL: within 3 s.

Nothing here knows an expected value: everything is Django's output compared
with the candidate's.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import stat

# --------------------------------------------------------------------------
# the engines

DJANGO_REDIS_CACHE = 'django.core.cache.backends.redis.RedisCache'
DJANGO_REDIS_PKG_CACHE = 'django_redis.cache.RedisCache'


class Engine:
    """One SESSION_ENGINE configuration of the matrix.

    kind: db | cache | cached_db | file | signed_cookies
    cache: None, or (backend, form, key_prefix, version, alias) with form
    'url' (CACHES=redis://...?...) or 'json' (CACHES={"default": {...}})."""

    def __init__(self, id, kind, cache=None, min_django=(3, 2), label=None):
        self.id = id
        self.kind = kind
        self.cache = cache
        self.min_django = min_django
        self.label = label or id

    def __repr__(self):
        return '<Engine %s>' % self.id

    @property
    def module(self):
        return 'django.contrib.sessions.backends.' + self.kind

    @property
    def uses_redis(self):
        return self.cache is not None

    @property
    def uses_files(self):
        return self.kind == 'file'

    def supports(self, django_version):
        return tuple(int(x) for x in django_version.split('.')) >= self.min_django

    def env(self, redis_location=None, session_dir=None):
        """The environment variables (spec.md) selecting this engine."""
        if self.kind == 'db':
            return {}       # Django's default; the variable stays unset
        env = {'SESSION_ENGINE': self.module}
        if self.cache is not None:
            backend, form, prefix, version, alias = self.cache
            if form == 'url':
                q = []
                if backend != DJANGO_REDIS_CACHE:
                    q.append('BACKEND=' + backend)
                if prefix is not None:
                    q.append('KEY_PREFIX=' + prefix)
                if version is not None:
                    q.append('VERSION=%d' % version)
                env['CACHES'] = redis_location + ('?' + '&'.join(q) if q else '')
                assert alias == 'default'
            else:
                cache = {'BACKEND': backend, 'LOCATION': redis_location}
                if prefix is not None:
                    cache['KEY_PREFIX'] = prefix
                if version is not None:
                    cache['VERSION'] = version
                caches = {alias: cache}
                if alias != 'default':
                    # Django requires a `default` alias; sessions use the other one.
                    caches['default'] = {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}
                env['CACHES'] = json.dumps(caches, sort_keys=True)
            if alias != 'default':
                env['SESSION_CACHE_ALIAS'] = alias
        if self.kind == 'file':
            env['SESSION_FILE_PATH'] = session_dir
        return env


ENGINES = {e.id: e for e in (
    Engine('db', 'db'),
    Engine('signed_cookies', 'signed_cookies'),
    Engine('file', 'file'),
    # Django's own RedisCache (4.0+): URL form, default KEY_PREFIX/VERSION.
    Engine('cache-redis', 'cache', (DJANGO_REDIS_CACHE, 'url', None, None, 'default'), min_django=(4, 0)),
    # Django's own RedisCache, JSON form, non-default KEY_PREFIX and VERSION.
    Engine('cached_db-redis', 'cached_db', (DJANGO_REDIS_CACHE, 'json', 'dj', 2, 'default'),
           min_django=(4, 0)),
    # django-redis, URL form with BACKEND, KEY_PREFIX, VERSION.
    Engine('cache-djredis', 'cache', (DJANGO_REDIS_PKG_CACHE, 'url', 'site', 3, 'default')),
    # django-redis, JSON form, under SESSION_CACHE_ALIAS=sessions.
    Engine('cached_db-djredis', 'cached_db', (DJANGO_REDIS_PKG_CACHE, 'json', 'site', 3, 'sessions')),
)}

# Test files that run in the non-db cells (everything runs in the db cells).
ENGINE_TEST_FILES = ('test_sessions.py', 'test_basic_uploads.py', 'test_csrf.py',
                     'test_session_engines.py')


# --------------------------------------------------------------------------
# Django's signing, to check a signature (never to produce an expectation)

BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
SESSION_SALT = 'django.contrib.sessions.SessionStore'          # SessionBase.key_salt
SIGNED_COOKIES_SALT = 'django.contrib.sessions.backends.signed_cookies'


def b62_decode(s):
    sign = 1
    if s.startswith('-'):
        sign, s = -1, s[1:]
    n = 0
    for ch in s:
        n = n * 62 + BASE62.index(ch)
    return sign * n


def _signature(secret, salt, value):
    key = hashlib.sha256((salt + 'signer' + secret).encode()).digest()
    mac = hmac.new(key, value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b'=').decode()


def _split_signed(v):
    parts = v.rsplit(':', 2)
    if len(parts) != 3:
        return None
    try:
        ts = b62_decode(parts[1])
    except ValueError:
        return None
    return parts[0], ts, parts[2]


def signed_equal(a, b, secret, salts, tolerance=2):
    """a == b, or two TimestampSigner values of the same payload signed within
    `tolerance` seconds of each other, each with a valid signature."""
    if a == b:
        return True
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    pa, pb = _split_signed(a), _split_signed(b)
    if not pa or not pb or pa[0] != pb[0] or abs(pa[1] - pb[1]) > tolerance:
        return False

    def valid(v, p):
        signed = v.rsplit(':', 1)[0]
        return any(hmac.compare_digest(_signature(secret, s, signed), p[2]) for s in salts)
    return valid(a, pa) and valid(b, pb)


# --------------------------------------------------------------------------
# Redis: the keyspace of one world (its own database number)

_SNAPSHOT_LUA = """
local out = {}
for _, k in ipairs(redis.call('KEYS', '*')) do
  local t = redis.call('TYPE', k)['ok']
  local v
  if t == 'string' then v = redis.call('GET', k) else v = redis.call('DUMP', k) end
  out[#out + 1] = {k, t, redis.call('PTTL', k), v}
end
return out
"""


class RedisStore:
    """One Redis database: snapshot = {key: (type, value bytes (GET; DUMP for
    non-strings), pttl ms or -1)}."""

    def __init__(self, location):
        import redis
        self.location = location
        self.r = redis.Redis.from_url(location)
        self._snap = self.r.register_script(_SNAPSHOT_LUA)

    def snapshot(self):
        out = {}
        for k, t, pttl, v in self._snap():
            if pttl == -2:
                continue
            out[k] = (t, v, pttl)
        return out

    def restore(self, snap):
        p = self.r.pipeline(transaction=True)
        p.flushdb()
        for k, (t, v, pttl) in snap.items():
            if t == b'string':
                if pttl > 0:
                    p.set(k, v, px=pttl)
                else:
                    p.set(k, v)
            else:
                p.restore(k, max(pttl, 0), v, replace=True)
        p.execute()

    def flush(self):
        self.r.flushdb()

    def keys(self):
        return sorted(self.r.keys('*'))

    def close(self):
        self.r.close()


# --------------------------------------------------------------------------
# SESSION_FILE_PATH

def scan_session_files(root):
    """name -> ('f', mode, bytes, mtime_ns) | ('d', mode, None, None); top level only
    (Django's file engine never makes subdirectories)."""
    out = {}
    for name in os.listdir(root):
        full = os.path.join(root, name)
        st = os.lstat(full)
        if stat.S_ISDIR(st.st_mode):
            out[name] = ('d', stat.S_IMODE(st.st_mode), None, None)
        else:
            with open(full, 'rb') as fh:
                out[name] = ('f', stat.S_IMODE(st.st_mode), fh.read(), st.st_mtime_ns)
    return out


def restore_session_files(root, target):
    current = scan_session_files(root)
    for name, entry in current.items():
        if target.get(name) != entry:
            full = os.path.join(root, name)
            if entry[0] == 'd':
                shutil.rmtree(full, ignore_errors=True)
            else:
                os.unlink(full)
    for name, entry in target.items():
        if current.get(name) == entry:
            continue
        full = os.path.join(root, name)
        if entry[0] == 'd':
            os.makedirs(full, exist_ok=True)
            os.chmod(full, entry[1])
            continue
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, entry[1])
        try:
            os.write(fd, entry[2])
        finally:
            os.close(fd)
        os.chmod(full, entry[1])
        os.utime(full, ns=(entry[3], entry[3]))


def clear_dir(root):
    for name in os.listdir(root):
        full = os.path.join(root, name)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
        else:
            os.unlink(full)


# --------------------------------------------------------------------------
# new session keys

SESSION_KEY_RE = re.compile(r'[a-z0-9]{32}')       # get_random_string(32, VALID_KEY_CHARS)
_REDIS_SESSION_KEY_RE = re.compile(rb'django\.contrib\.sessions\.(?:cache|cached_db)([a-z0-9]{32})$')


def _keys_in(state, cookie_name):
    keys = set(state.sessions)
    for k in (getattr(state, 'redis', None) or {}):
        m = _REDIS_SESSION_KEY_RE.search(k)
        if m:
            keys.add(m.group(1).decode())
    for name in (getattr(state, 'files', None) or {}):
        if name.startswith(cookie_name):
            keys.add(name[len(cookie_name):])
    return keys


def _cookie_value(set_cookie, name):
    n, _, rest = set_cookie.partition('=')
    if n.strip() != name:
        return None
    return rest.split(';', 1)[0]


def new_session_keys(req, s0, s, resp, cookie_name):
    """Session keys the server generated during the request, in a stable order:
    the one in its session cookie first, then the others sorted."""
    old = _keys_in(s0, cookie_name)
    for h, v in req.headers:
        if h.lower() == 'cookie':
            for part in v.split(';'):
                old.add(part.strip().partition('=')[2])
    new = sorted(k for k in _keys_in(s, cookie_name) - old if SESSION_KEY_RE.fullmatch(k))
    for h, v in resp.headers:
        if h.lower() == 'set-cookie':
            val = _cookie_value(v, cookie_name)
            if val and SESSION_KEY_RE.fullmatch(val) and val not in old:
                if val in new:
                    new.remove(val)
                new.insert(0, val)
    return new


def key_maps(kd, kc):
    """Placeholders for the two servers' new keys, paired in order (only when
    both generated the same number of keys; otherwise the raw keys differ and
    the comparison reports it)."""
    if len(kd) != len(kc):
        return {}, {}
    return ({k: '<new-session-key-%d>' % i for i, k in enumerate(kd)},
            {k: '<new-session-key-%d>' % i for i, k in enumerate(kc)})


def _sub(s, m):
    for k, v in m.items():
        s = s.replace(k, v)
    return s


def _subb(b, m):
    for k, v in m.items():
        b = b.replace(k.encode(), v.encode())
    return b


def session_cookie_equal(a, b, md, mc, cookie_name, secret, cookie_equal):
    """Set-Cookie of the session cookie: new keys replaced by placeholders, a
    signed_cookies value compared with signed_equal(), the attributes with
    cookie_equal (the expires= tolerance)."""
    va, vb = _cookie_value(a, cookie_name), _cookie_value(b, cookie_name)
    if va is None or vb is None:
        return False
    ra, rb = a.split(';', 1)[1:] or [''], b.split(';', 1)[1:] or ['']
    xa, xb = md.get(va, va), mc.get(vb, vb)
    if xa != xb and not signed_equal(xa, xb, secret, (SIGNED_COOKIES_SALT,)):
        return False
    return cookie_equal('%s=X;%s' % (cookie_name, ra[0]), '%s=X;%s' % (cookie_name, rb[0]))


# --------------------------------------------------------------------------
# the comparison of everything a session engine stores

def compare_sessions(s0, sd, sc, md, mc, secret, cookie_name, ttl_tolerance_ms=3000):
    problems = []
    salts = (SESSION_SALT,)

    # django_session
    d = {md.get(k, k): v for k, v in sd.sessions.items()}
    c = {mc.get(k, k): v for k, v in sc.sessions.items()}
    for k in sorted(set(d) | set(c)):
        a, b = d.get(k), c.get(k)
        if a == b:
            continue
        if a is not None and b is not None and signed_equal(a[0], b[0], secret, salts):
            before = s0.sessions.get(k)
            written = before is None or (before != a and before != b)
            if written and abs((a[1] - b[1]).total_seconds()) <= 3:
                continue    # both wrote the row during their own request
        problems.append('django_session %s: django %r, candidate %r' % (k, a, b))

    # Redis
    r0 = getattr(s0, 'redis', None)
    rd, rc = getattr(sd, 'redis', None), getattr(sc, 'redis', None)
    if r0 is not None or rd is not None or rc is not None:
        rd = {_subb(k, md): v for k, v in (rd or {}).items()}
        rc = {_subb(k, mc): v for k, v in (rc or {}).items()}
        for k in sorted(set(rd) | set(rc)):
            a, b = rd.get(k), rc.get(k)
            if a == b:
                continue
            if a is None or b is None:
                problems.append('redis %r: django %s, candidate %s' % (
                    k, _show_redis(a), _show_redis(b)))
                continue
            if a[0] != b[0] or a[1] != b[1]:
                problems.append('redis %r: django %s, candidate %s' % (k, _show_redis(a), _show_redis(b)))
                continue
            ta, tb = a[2], b[2]
            if (ta < 0) != (tb < 0) or (ta >= 0 and abs(ta - tb) > ttl_tolerance_ms):
                problems.append('redis %r TTL: django %s, candidate %s' % (k, _ttl(ta), _ttl(tb)))

    # SESSION_FILE_PATH
    f0 = getattr(s0, 'files', None)
    fd, fc = getattr(sd, 'files', None), getattr(sc, 'files', None)
    if f0 is not None or fd is not None or fc is not None:
        fd = {_sub(k, md): v for k, v in (fd or {}).items()}
        fc = {_sub(k, mc): v for k, v in (fc or {}).items()}
        for k in sorted(set(fd) | set(fc)):
            a, b = fd.get(k), fc.get(k)
            if a is not None and b is not None and a[:2] == b[:2]:
                if a[2] == b[2]:
                    continue
                try:
                    ta, tb = a[2].decode('ascii'), b[2].decode('ascii')
                except (UnicodeDecodeError, AttributeError):
                    ta = tb = None
                if ta is not None and signed_equal(ta, tb, secret, salts):
                    continue
            problems.append('SESSION_FILE_PATH/%s: django %s; candidate %s' % (k, _show_file(a), _show_file(b)))
    return problems


def _ttl(ms):
    return 'no expiry' if ms < 0 else '%.3fs' % (ms / 1000)


def _show_redis(e):
    if e is None:
        return 'absent'
    return '%s %r (TTL %s)' % (e[0].decode(), e[1][:300], _ttl(e[2]))


def _show_file(e):
    if e is None:
        return 'absent'
    if e[0] == 'd':
        return 'directory mode=%o' % e[1]
    return 'mode=%o bytes=%r' % (e[1], e[2][:300])
