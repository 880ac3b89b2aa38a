"""Session engines: what each store does when its entry is missing, stale,
corrupted, expired, signed with an old key or written by an older Django.

Runs in every cell (profile x SESSION_ENGINE); a scenario that means nothing
for an engine or a Django version is deselected there by its `cells` marker
(conftest.pytest_collection_modifyitems), never counted as passed. The
store is manipulated directly (Redis keys, files, rows) or written by the
profile's own Django (World.make_session runs SessionStore in a manage.py
shell of that venv); every step is compared with Django as usual, including
what is left in Redis (bytes + TTL), in SESSION_FILE_PATH and django_session.
"""
import os
import time

import pytest

from compatlib import md5hex

D, R = 'django', 'rust'
COOKIE_AGE = 1209600            # SESSION_COOKIE_AGE (Django's default, not overridden)
STORED = ('db', 'cache', 'cached_db', 'file')     # engines that keep the session server-side
cells = pytest.mark.cells


def kind(site):
    return site.world.engine.kind


def drop_cache_entry(w, key):
    keys = w.session_cache_keys(key)
    assert keys, 'no Redis key holds session %s: %r' % (key, w.redis.keys())
    w.redis.r.delete(*keys)


def upload_continues(site, client, drive=D):
    """A two-chunk upload and its complete: the session must be a logged-in one."""
    r = site.step(client.chunk(b'abcd', content_range='bytes 0-3/8'), drive=drive)
    assert r.status == 200, r.summary()
    uid = r.json['upload_id']
    r = site.step(client.chunk(b'efgh', uid, content_range='bytes 4-7/8'), drive=R if drive == D else D)
    assert r.status == 200, r.summary()
    r = site.step(client.complete(uid, md5hex(b'abcdefgh')), drive=drive)
    assert r.status == 200, r.summary()


# --------------------------------------------------------------------------
# every engine

def test_login_page_session_then_upload_alternating(site, alice):
    """The session Django's login page wrote, used by both servers in turn."""
    upload_continues(site, alice, D)
    upload_continues(site, alice, R)


@cells(engines=STORED)
def test_session_gone_from_the_store(site, alice):
    """Row, cache entries and file removed: anonymous, cookie deleted."""
    w = site.world
    w.db.q('DELETE FROM django_session')
    if w.redis is not None:
        w.redis.flush()
    if w.session_dir is not None:
        for name in os.listdir(w.session_dir):
            os.unlink(os.path.join(w.session_dir, name))
    r = site.step(alice.chunk(b'data'), drive=R)
    assert r.status == 403


@pytest.mark.parametrize('bad', ['../{k}', '{k}/', '{k}.', '..', 'a' * 31 + '-', '{k}' + 'A', '%2e%2e{k}'],
                         ids=['dotdot-slash', 'trailing-slash', 'trailing-dot', 'dotdot', 'dash', 'upper',
                              'percent'])
def test_session_key_with_characters_outside_the_key_alphabet(site, alice, bad):
    """file engine: InvalidSessionKey (never a path outside SESSION_FILE_PATH);
    every other engine: simply an unknown key."""
    r = site.step(alice.chunk(b'data', cookies={'sessionid': bad.format(k=alice.session)}), drive=D)
    assert r.status == 403


@pytest.mark.parametrize('expiry', [
    pytest.param(-60, id='int-negative'),
    pytest.param(3600, id='int-future'),
    pytest.param({'datetime_offset': -60}, id='datetime-past', marks=cells(min_django='4.2')),
    pytest.param({'datetime_offset': 3600}, id='datetime-future', marks=cells(min_django='4.2')),
])
def test_session_with_custom_expiry(site, expiry):
    """`_session_expiry` set by set_expiry(): an int (seconds) or, 4.2+, an ISO
    datetime. db: expire_date; cache: the TTL (<= 0: never stored); file: the
    expiry check on load; signed_cookies: ignored (only the signing age counts)."""
    w = site.world
    name, pw, uid = w.create_user()
    key = w.make_session({}, user_id=uid, expiry=expiry)
    c = site.anonymous()
    c.cookies['sessionid'] = key
    r = site.step(c.chunk(b'data'), drive=R)
    assert r.status in (200, 403)
    if r.status == 200:
        site.step(c.complete(r.json['upload_id'], md5hex(b'data')), drive=D)


def test_session_made_by_djangos_sessionstore(site):
    """A session written outside a request (SessionStore.save() in a shell) with
    the keys login() writes."""
    w = site.world
    name, pw, uid = w.create_user()
    c = site.anonymous()
    c.cookies['sessionid'] = w.make_session({'extra': ['x', 1, None, {'y': 'é'}]}, user_id=uid)
    upload_continues(site, c, R)


def test_password_change_flushes_the_session_mid_upload(site):
    """Auth hash mismatch: Django flushes the session (store entry deleted,
    cookie deleted; signed_cookies: only the cookie)."""
    w = site.world
    name, pw, uid = w.create_user()
    c = site.login(name, pw)
    r = site.step(c.chunk(b'abcd', content_range='bytes 0-3/8'), drive=R)
    upload = r.json['upload_id']
    w.create_user(name, 'a-new-password')
    r = site.step(c.chunk(b'efgh', upload, content_range='bytes 4-7/8'), drive=D)
    assert r.status == 403
    assert r.all('set-cookie')
    assert not w.session_stored(c.session)


def test_secret_key_rotated_with_the_old_key_in_fallbacks(site, rotated_site, alice):
    """Logged in under the old SECRET_KEY, used on a site whose new key is in
    SECRET_KEY, the old one in SECRET_KEY_FALLBACKS. 4.2+: the session is read
    with the fallback key, the auth hash matches a fallback hash, so Django
    cycles the session key and stores the new hash (new cookie, new row/cache
    entry/file, old one deleted). 3.2 has no fallbacks: the old session is lost
    (db/file/cached_db: undecodable; cache: hash mismatch, flushed;
    signed_cookies: bad signature)."""
    r = rotated_site.step(alice.chunk(b'abcd', content_range='bytes 0-3/8'), drive=D)
    if site.world.upstream:
        assert r.status == 403
        return
    assert r.status == 200
    alice.cookies.update(r.cookies())
    uid = r.json['upload_id']
    r = rotated_site.step(alice.chunk(b'efgh', uid, content_range='bytes 4-7/8'), drive=R)
    assert r.status == 200
    alice.cookies.update(r.cookies())
    r = rotated_site.step(alice.complete(uid, md5hex(b'abcdefgh')), drive=D)
    assert r.status == 200


def test_secret_key_rotated_candidate_drives_the_cycle(site, rotated_site, alice):
    """The same rotation, continued from the candidate's cycled session."""
    r = rotated_site.step(alice.chunk(b'abcd', content_range='bytes 0-3/8'), drive=R)
    if site.world.upstream:
        assert r.status == 403
        return
    assert r.status == 200
    alice.cookies.update(r.cookies())
    uid = r.json['upload_id']
    r = rotated_site.step(alice.chunk(b'efgh', uid, content_range='bytes 4-7/8'), drive=D)
    assert r.status == 200


# --------------------------------------------------------------------------
# cache and cached_db

@cells(engines=('cache',))
def test_cache_entry_missing_is_anonymous(site, alice):
    drop_cache_entry(site.world, alice.session)
    r = site.step(alice.chunk(b'data'), drive=R)
    assert r.status == 403
    assert r.all('set-cookie')


@cells(engines=('cached_db',))
def test_cache_entry_missing_falls_back_to_the_row_and_recaches_it(site, alice):
    """cached_db: cache miss -> the row is read and written back to the cache
    (same bytes, TTL = the row's expire_date - now)."""
    w = site.world
    drop_cache_entry(w, alice.session)
    r = site.step(alice.chunk(b'abcd', content_range='bytes 0-3/8'), drive=R)
    assert r.status == 200
    assert w.session_cache_keys(alice.session)
    drop_cache_entry(w, alice.session)
    r = site.step(alice.chunk(b'efgh', r.json['upload_id'], content_range='bytes 4-7/8'), drive=D)
    assert r.status == 200


@cells(engines=('cached_db',))
def test_cache_entry_missing_and_row_near_expiry(site, alice):
    """The re-cached entry's TTL comes from the row's expire_date."""
    w = site.world
    w.db.q("UPDATE django_session SET expire_date = now() + interval '90 seconds' WHERE session_key = %s",
           (alice.session,))
    drop_cache_entry(w, alice.session)
    r = site.step(alice.chunk(b'data'), drive=D)
    assert r.status == 200


@cells(engines=('cached_db',))
def test_cache_entry_missing_and_row_expired(site, alice):
    w = site.world
    w.db.q("UPDATE django_session SET expire_date = now() - interval '1 minute' WHERE session_key = %s",
           (alice.session,))
    drop_cache_entry(w, alice.session)
    r = site.step(alice.chunk(b'data'), drive=R)
    assert r.status == 403


@cells(engines=('cached_db',))
def test_cache_entry_present_but_row_gone(site, alice):
    """cached_db reads the cache first: the session still works without its row."""
    site.world.db.q('DELETE FROM django_session WHERE session_key = %s', (alice.session,))
    r = site.step(alice.chunk(b'data'), drive=D)
    assert r.status == 200
    site.step(alice.complete(r.json['upload_id'], md5hex(b'data')), drive=R)


@cells(engines=('cached_db',))
def test_row_tampered_but_cache_entry_present(site, alice):
    site.world.db.q("UPDATE django_session SET session_data = 'x' || session_data WHERE session_key = %s",
                    (alice.session,))
    r = site.step(alice.chunk(b'data'), drive=R)
    assert r.status == 200
    drop_cache_entry(site.world, alice.session)
    r = site.step(alice.chunk(b'data'), drive=D)
    assert r.status == 403


@cells(engines=('cache', 'cached_db'))
@pytest.mark.parametrize('value', [b'not a pickle', b'12345', b'', b'\x80\x04N.'],
                         ids=['garbage', 'integer', 'empty', 'pickled-none'])
def test_cache_entry_corrupted(site, alice, value):
    """Unpicklable bytes (cache: anonymous; cached_db: the row, re-cached), and
    bytes both backends decode as an int (the session is then not a dict)."""
    w = site.world
    for k in w.session_cache_keys(alice.session):
        w.redis.r.set(k, value, keepttl=True)
    r = site.step(alice.chunk(b'data'), drive=D)
    assert r.status in (200, 403, 500)


@cells(engines=('cache', 'cached_db'))
def test_cache_entry_without_ttl(site, alice):
    """A persistent (no TTL) cache entry is used as is."""
    w = site.world
    for k in w.session_cache_keys(alice.session):
        w.redis.r.persist(k)
    r = site.step(alice.chunk(b'data'), drive=R)
    assert r.status == 200


# --------------------------------------------------------------------------
# file

@cells(engines=('file',))
def test_session_file_missing(site, alice):
    os.unlink(site.world.session_file(alice.session))
    r = site.step(alice.chunk(b'data'), drive=D)
    assert r.status == 403
    assert r.all('set-cookie')


@cells(engines=('file',))
def test_session_file_expired_by_mtime(site, alice):
    """Older than SESSION_COOKIE_AGE by its mtime: Django deletes it and starts
    a new, empty session (a new file and a new cookie)."""
    f = site.world.session_file(alice.session)
    old = time.time() - COOKIE_AGE - 60
    os.utime(f, (old, old))
    r = site.step(alice.chunk(b'data'), drive=R)
    assert r.status == 403


@cells(engines=('file',))
def test_session_file_nearly_expired_by_mtime(site, alice):
    f = site.world.session_file(alice.session)
    old = time.time() - COOKIE_AGE + 120
    os.utime(f, (old, old))
    r = site.step(alice.chunk(b'data'), drive=D)
    assert r.status == 200


@cells(engines=('file',))
@pytest.mark.parametrize('content', [b'', b'garbage', b'x:y:z', b'\xff\xfe'],
                         ids=['empty', 'garbage', 'colons', 'not-ascii'])
def test_session_file_corrupted(site, alice, content):
    """Unreadable content is `{}` (403); bytes that are not ASCII make
    `open(encoding='ascii').read()` raise outside Django's catch (500)."""
    f = site.world.session_file(alice.session)
    st = os.stat(f)
    with open(f, 'wb') as fh:
        fh.write(content)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    r = site.step(alice.chunk(b'data'), drive=R)
    assert r.status in (403, 500)


@cells(engines=('file',))
def test_session_file_tampered_signature(site, alice):
    f = site.world.session_file(alice.session)
    with open(f, 'rb') as fh:
        data = fh.read()
    with open(f, 'wb') as fh:
        fh.write(data[:-3] + (b'AAA' if not data.endswith(b'AAA') else b'BBB'))
    r = site.step(alice.chunk(b'data'), drive=D)
    assert r.status == 403


# --------------------------------------------------------------------------
# signed_cookies

@cells(engines=('signed_cookies',))
def test_signed_cookie_payload_tampered(site, alice):
    payload, rest = alice.session.split(':', 1)
    bad = payload[:-1] + ('A' if payload[-1] != 'A' else 'B') + ':' + rest
    r = site.step(alice.chunk(b'data', cookies={'sessionid': bad}), drive=R)
    assert r.status == 403


@cells(engines=('signed_cookies',))
@pytest.mark.parametrize('shift', [-(COOKIE_AGE + 120), -(COOKIE_AGE - 600), 3600],
                         ids=['expired', 'nearly-expired', 'from-the-future'])
def test_signed_cookie_signed_at_another_time(site, shift):
    """A cookie Django signed `shift` seconds from now (time.time patched while
    signing): older than SESSION_COOKIE_AGE is SignatureExpired -> a new empty
    signed session cookie."""
    w = site.world
    name, pw, uid = w.create_user()
    c = site.anonymous()
    c.cookies['sessionid'] = w.make_session({}, user_id=uid, time_shift=shift)
    r = site.step(c.chunk(b'data'), drive=D)
    assert r.status == (403 if shift < -COOKIE_AGE else 200)


# --------------------------------------------------------------------------
# Django 3.2 only: what 3.2 still reads from before 3.1

@cells(django=('3.2',), engines=('db', 'cached_db', 'file', 'signed_cookies'))
def test_legacy_pre_31_session_format(site):
    """DEFAULT_HASHING_ALGORITHM='sha1' while saving: db/file/cached_db get the
    pre-3.1 base64("hash:json") encoding (cached_db: read from the row, the
    cache entry removed), signed_cookies a SHA-1-signed cookie."""
    w = site.world
    name, pw, uid = w.create_user()
    key = w.make_session({}, user_id=uid, legacy_format=True)
    if kind(site) == 'cached_db':
        drop_cache_entry(w, key)
    c = site.anonymous()
    c.cookies['sessionid'] = key
    r = site.step(c.chunk(b'data'), drive=R)
    assert r.status == 200
    site.step(c.complete(r.json['upload_id'], md5hex(b'data')), drive=D)


@cells(django=('3.2',))
@pytest.mark.parametrize('legacy_format', [
    pytest.param(False, id='current-format'),
    pytest.param(True, id='legacy-format', marks=cells(engines=('db', 'cached_db', 'file', 'signed_cookies'))),
])
def test_legacy_sha1_auth_hash(site, legacy_format):
    """The pre-3.1 SHA-1 session auth hash (_legacy_get_session_auth_hash) is
    still accepted by 3.2, without a flush or a re-save."""
    w = site.world
    name, pw, uid = w.create_user()
    key = w.make_session({}, user_id=uid, legacy_hash=True, legacy_format=legacy_format)
    c = site.anonymous()
    c.cookies['sessionid'] = key
    upload_continues(site, c, D)


@cells(django=('3.2',), engines=('db', 'cached_db', 'file'))
def test_legacy_format_with_a_wrong_hash(site):
    """Pre-3.1 format whose hash does not match: an empty session."""
    w = site.world
    name, pw, uid = w.create_user()
    key = w.make_session({}, user_id=uid, legacy_format=True)
    if kind(site) == 'cached_db':
        drop_cache_entry(w, key)
    if kind(site) == 'file':
        f = w.session_file(key)
        import base64
        with open(f, 'rb') as fh:
            raw = base64.b64decode(fh.read())
        with open(f, 'wb') as fh:
            fh.write(base64.b64encode(b'0' * 40 + raw[40:]))
    else:
        import base64
        data = w.db.q('SELECT session_data FROM django_session WHERE session_key = %s', (key,))[0][0]
        raw = base64.b64decode(data)
        w.db.q('UPDATE django_session SET session_data = %s WHERE session_key = %s',
               (base64.b64encode(b'0' * 40 + raw[40:]).decode(), key))
    c = site.anonymous()
    c.cookies['sessionid'] = key
    r = site.step(c.chunk(b'data'), drive=R)
    assert r.status == 403
