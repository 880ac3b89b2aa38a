"""Sessions and authentication: the session cookie in every state a browser
can present it. Runs in every session-engine cell; the scenarios that edit
django_session directly run in the db cells only (their counterparts for the
other stores are in test_session_engines.py)."""
import json

import pytest

from compatlib import md5hex

D, R = 'django', 'rust'
DB_ONLY = pytest.mark.cells(engines=('db',))


def test_chunk_without_session_cookie_is_anonymous(site, alice):
    r = site.step(alice.chunk(b'data', cookies={'sessionid': None}), drive=R)
    assert r.status == 403


@DB_ONLY
def test_session_data_tampered_in_database_is_anonymous_and_row_is_kept(site, alice):
    site.world.db.q("UPDATE django_session SET session_data = 'x' || session_data WHERE session_key = %s",
                    (alice.session,))
    r = site.step(alice.chunk(b'data'), drive=D)
    assert r.status == 403
    assert site.world.db.q('SELECT 1 FROM django_session WHERE session_key = %s', (alice.session,))


@DB_ONLY
def test_session_signed_with_another_secret_key_is_anonymous(site, alice):
    site.world.db.q("UPDATE django_session SET session_data = regexp_replace(session_data, ':[^:]*$', "
                    "':AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') WHERE session_key = %s", (alice.session,))
    r = site.step(alice.chunk(b'data'), drive=R)
    assert r.status == 403


def test_unknown_session_key_gets_the_cookie_deleted(site, alice):
    r = site.step(alice.chunk(b'data', cookies={'sessionid': 'abcdefghijklmnopqrstuvwxyz012345'}), drive=R)
    assert r.status == 403
    assert r.all('set-cookie')


def test_tampered_session_cookie_value(site, alice):
    bad = alice.session[:-1] + ('a' if alice.session[-1] != 'a' else 'b')
    r = site.step(alice.chunk(b'data', cookies={'sessionid': bad}), drive=D)
    assert r.status == 403


def test_short_session_key(site, alice):
    for key in ('abc', '', '1234567'):
        r = site.step(alice.chunk(b'data', cookies={'sessionid': key}), drive=R)
        assert r.status == 403


def test_session_key_with_odd_characters(site, alice):
    for key in ('"' + alice.session + '"', alice.session + '!', alice.session.upper()):
        r = site.step(alice.chunk(b'data', cookies={'sessionid': key}), drive=D)
        assert r.status in (200, 403)


def test_duplicate_session_cookie_last_one_counts(site, alice):
    ck = 'sessionid=bogusbogusbogus; csrftoken=%s; sessionid=%s' % (alice.csrf, alice.session)
    req = alice.chunk(b'data', cookies={'sessionid': None, 'csrftoken': None})
    req.headers = [(k, v) for k, v in req.headers if k != 'Cookie'] + [('Cookie', ck)]
    r = site.step(req, drive=R)
    assert r.status in (200, 403)


@DB_ONLY
def test_expired_session(site, alice):
    site.world.db.q("UPDATE django_session SET expire_date = now() - interval '1 minute' WHERE session_key = %s",
                    (alice.session,))
    r = site.step(alice.chunk(b'data'), drive=D)
    assert r.status == 403


@DB_ONLY
def test_session_expiring_in_the_future_still_works(site, alice):
    site.world.db.q("UPDATE django_session SET expire_date = now() + interval '1 minute' WHERE session_key = %s",
                    (alice.session,))
    r = site.step(alice.chunk(b'data'), drive=R)
    assert r.status == 200


def test_inactive_user_is_anonymous_without_flush(site):
    name, pw, uid = site.world.create_user()
    c = site.login(name, pw)
    r = site.step(c.chunk(b'data'), drive=R)
    upload = r.json['upload_id']
    site.world.db.q('UPDATE auth_user SET is_active = false WHERE id = %s', (uid,))
    r = site.step(c.chunk(b'more', upload, content_range='bytes 4-7/8'), drive=D)
    assert r.status == 403
    r = site.step(c.complete(upload, md5hex(b'data')), drive=R)
    assert r.status == 403


def test_deleted_user_is_anonymous(site):
    name, pw, uid = site.world.create_user()
    c = site.login(name, pw)
    site.world.db.q('DELETE FROM auth_user WHERE id = %s', (uid,))
    r = site.step(c.chunk(b'data'), drive=D)
    assert r.status == 403


def test_changed_password_flushes_the_session(site):
    name, pw, uid = site.world.create_user()
    c = site.login(name, pw)
    r = site.step(c.chunk(b'data'), drive=D)
    upload = r.json['upload_id']
    site.world.db.q("UPDATE auth_user SET password = 'md5$0123456789abcdef01234567$' || md5('x') "
                    "WHERE id = %s", (uid,))
    r = site.step(c.chunk(b'more', upload, content_range='bytes 4-7/8'), drive=R)
    assert r.status == 403
    assert not site.world.session_stored(c.session)


def test_session_without_auth_hash_is_flushed(site):
    name, pw, uid = site.world.create_user()
    key = site.world.make_session({'_auth_user_id': str(uid),
                                   '_auth_user_backend': 'django.contrib.auth.backends.ModelBackend'})
    c = site.anonymous()
    c.cookies['sessionid'] = key
    r = site.step(c.chunk(b'data'), drive=D)
    assert r.status == 403


def test_session_with_unknown_auth_backend_is_anonymous(site, alice):
    name, pw, uid = site.world.create_user()
    c = site.login(name, pw)
    key = site.world.make_session({'_auth_user_id': str(uid),
                                   '_auth_user_backend': 'some.other.Backend',
                                   '_auth_user_hash': 'x'})
    c.cookies['sessionid'] = key
    r = site.step(c.chunk(b'data'), drive=R)
    assert r.status == 403


def test_session_with_non_integer_user_id_is_a_server_error(site):
    key = site.world.make_session({'_auth_user_id': 'abc',
                                   '_auth_user_backend': 'django.contrib.auth.backends.ModelBackend',
                                   '_auth_user_hash': 'x'})
    c = site.anonymous()
    c.cookies['sessionid'] = key
    r = site.step(c.chunk(b'data'), drive=R)
    assert r.status == 500


def test_alice_session_used_from_two_browsers(site):
    """Two logins of the same user: two sessions, one upload continued from both."""
    a1, a2 = site.login('alice'), site.login('alice')
    r = site.step(a1.chunk(b'12345', content_range='bytes 0-4/10'), drive=R)
    uid = r.json['upload_id']
    site.step(a2.chunk(b'67890', uid, content_range='bytes 5-9/10'), drive=D)
    site.step(a1.complete(uid, md5hex(b'1234567890')), drive=R)


def test_session_cookie_replayed_after_logout(site):
    """Logging out on Django deletes the session row; the old cookie, replayed,
    is refused on both servers (anonymous, cookie deleted), mid-upload."""
    import urllib.parse
    from compatlib import HOST, Request
    name, pw, uid = site.world.create_user()
    c = site.login(name, pw)
    r = site.step(c.chunk(b'data'), drive=D)
    upload = r.json['upload_id']
    old = dict(c.cookies)
    body = urllib.parse.urlencode({'csrfmiddlewaretoken': c.cookies['csrftoken']}).encode()
    r = site.send(Request('POST', '/accounts/logout/', [
        ('Host', HOST), ('Cookie', c.cookie_header()),
        ('Content-Type', 'application/x-www-form-urlencoded')], body), to='django')
    assert r.status in (200, 302), r.summary()
    assert not site.world.session_stored(old['sessionid'])
    c.cookies.clear()
    c.cookies.update(old)
    r = site.step(c.chunk(b'more', upload, content_range='bytes 4-7/8'), drive=R)
    # signed_cookies keeps nothing server-side: the replayed cookie still works
    assert r.status == (200 if site.world.engine.kind == 'signed_cookies' else 403)
