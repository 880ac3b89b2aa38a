"""Sites whose models differ from the demo project's: a custom AUTH_USER_MODEL
(its own world), no AuthenticationMiddleware (AUTH_REQUIRED=False), and
AbstractChunkedUpload subclasses in their own tables (CHUNKED_UPLOAD_TABLE).
Fixtures in settings_sites.py."""
import os

import pytest

from compatlib import md5hex

D, R = 'django', 'rust'


def cr(start, chunk, total):
    return 'bytes %d-%d/%d' % (start, start + len(chunk) - 1, total)


def start_upload(site, client, data=b'0123456789', total=20, drive=D):
    r = site.step(client.chunk(data, content_range=cr(0, data, total)), drive=drive)
    assert r.status == 200, r.summary()
    return r.json['upload_id']


def other_tables_untouched(site):
    """Nothing was written to an upload table other than the site's own."""
    for table in site.world.db.upload_tables():
        if table != site.table:
            n = site.world.db.q('SELECT count(*) FROM %s' % table)[0][0]
            assert n == 0, '%d rows in %s (the site uses %s)' % (n, table, site.table)


# --------------------------------------------------------------------------
# custom AUTH_USER_MODEL

class TestCustomUserModel:
    """AUTH_USER_MODEL = accounts_custom.CustomUser (AbstractBaseUser: bigint id,
    username, email, no is_active); the candidate gets AUTH_USER_TABLE."""

    @pytest.fixture(autouse=True)
    def _clean(self, custom_user_world):
        custom_user_world.reset()

    def test_upload_and_complete(self, custom_user_site):
        site = custom_user_site
        alice = site.login('alice')
        data = b'custom user ' * 20
        uid = start_upload(site, alice, data[:100], len(data), drive=D)
        site.step(alice.chunk(data[100:], uid, content_range=cr(100, data[100:], len(data))), drive=R)
        r = site.step(alice.complete(uid, md5hex(data)), drive=D)
        assert r.status == 200
        row = site.world.db.upload_row(uid)
        users = dict(site.world.db.q('SELECT username, id FROM accounts_custom_customuser'))
        assert row['user_id'] == users['alice']

    def test_upload_started_on_the_candidate(self, custom_user_site):
        site = custom_user_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=R)
        site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)

    def test_another_users_upload_is_not_found(self, custom_user_site):
        site = custom_user_site
        alice, bob = site.login('alice'), site.login('bob')
        uid = start_upload(site, alice, drive=R)
        r = site.step(bob.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        assert r.status == 404
        r = site.step(bob.complete(uid, md5hex(b'0123456789')), drive=R)
        assert r.status == 404

    def test_password_change_flushes_the_session(self, custom_user_site):
        site = custom_user_site
        name, pw, uid = site.world.create_user()
        c = site.login(name, pw)
        upload = start_upload(site, c, drive=D)
        site.world.db.q("UPDATE accounts_custom_customuser SET password = "
                        "'md5$0123456789abcdef01234567$' || md5('x') WHERE id = %s", (uid,))
        r = site.step(c.chunk(b'abcdefghij', upload, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 403
        assert not site.world.db.q('SELECT 1 FROM django_session WHERE session_key = %s', (c.session,))

    def test_deleted_user_is_anonymous(self, custom_user_site):
        site = custom_user_site
        name, pw, uid = site.world.create_user()
        c = site.login(name, pw)
        site.world.db.q('DELETE FROM accounts_custom_customuser WHERE id = %s', (uid,))
        r = site.step(c.chunk(b'data'), drive=D)
        assert r.status == 403

    def test_anonymous_is_forbidden(self, custom_user_site):
        site = custom_user_site
        r = site.step(site.anonymous().chunk(b'data'), drive=R)
        assert r.status == 403


# --------------------------------------------------------------------------
# no AuthenticationMiddleware

class TestAnonymousSite:
    """AUTH_REQUIRED=False: MIDDLEWARE without AuthenticationMiddleware, so the
    views never see a user: every upload has user_id NULL and anybody holding
    an upload_id may continue it. CSRF is still enforced."""

    def test_upload_without_any_session(self, anonymous_site):
        site = anonymous_site
        anon = site.anonymous()
        assert not anon.session
        data = b'anonymous!' * 10
        uid = start_upload(site, anon, data[:40], len(data), drive=D)
        assert site.world.db.upload_row(uid)['user_id'] is None
        site.step(anon.chunk(data[40:], uid, content_range=cr(40, data[40:], len(data))), drive=R)
        r = site.step(anon.complete(uid, md5hex(data)), drive=D)
        assert r.status == 200

    def test_logged_in_session_is_ignored(self, anonymous_site):
        site = anonymous_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=R)
        assert site.world.db.upload_row(uid)['user_id'] is None
        other = site.anonymous()
        r = site.step(other.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        assert r.status == 200
        site.step(other.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)

    def test_session_cookie_variants(self, anonymous_site):
        """An unknown key, a key too short to be one (4.x deletes the cookie on an
        empty session), a tampered key: none matters to the views."""
        site = anonymous_site
        anon = site.anonymous()
        for key in ('abcdefghijklmnopqrstuvwxyz012345', 'abc', ''):
            r = site.step(anon.chunk(b'data', cookies={'sessionid': key}), drive=R)
            assert r.status == 200

    def test_csrf_is_still_required(self, anonymous_site):
        site = anonymous_site
        anon = site.anonymous()
        r = site.step(anon.chunk(b'data', cookies={'csrftoken': None}), drive=D)
        assert r.status == 403
        r = site.step(anon.chunk(b'data', csrf=None), drive=R)
        assert r.status == 403

    def test_an_upload_of_alice_continued_anonymously(self, site, anonymous_site):
        """alice starts on the main site (user_id set); on the anonymous site
        the upload is found without any user filter."""
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=D)
        uid = r.json['upload_id']
        anon = anonymous_site.anonymous()
        r = anonymous_site.step(anon.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 200
        r = anonymous_site.step(anon.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status == 200


# --------------------------------------------------------------------------
# AbstractChunkedUpload subclasses

class TestMyUpload:
    """class MyUpload(AbstractChunkedUpload) + user FK, table custom_upload_myupload."""

    def test_upload_continue_complete(self, myupload_site):
        site = myupload_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=D)
        site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status == 200
        assert site.world.db.upload_row(uid, site.table)['user_id'] is not None
        other_tables_untouched(site)

    def test_started_on_the_candidate(self, myupload_site):
        site = myupload_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=R)
        site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)
        other_tables_untouched(site)

    def test_another_users_upload_is_not_found(self, myupload_site):
        site = myupload_site
        alice, bob = site.login('alice'), site.login('bob')
        uid = start_upload(site, alice, drive=R)
        r = site.step(bob.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        assert r.status == 404
        r = site.step(bob.complete(uid, md5hex(b'0123456789')), drive=R)
        assert r.status == 404

    def test_anonymous_is_forbidden(self, myupload_site):
        site = myupload_site
        r = site.step(site.anonymous().chunk(b'data'), drive=D)
        assert r.status == 403

    def test_upload_id_of_the_default_table_is_not_found(self, myupload_site, site):
        """An upload in chunked_upload_chunkedupload does not exist for this site."""
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=D)
        uid = r.json['upload_id']
        r = myupload_site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 404


class TestMyAnonUploadAnonymous:
    """class MyAnonUpload(AbstractChunkedUpload) (no user field) on a site without
    AuthenticationMiddleware."""

    def test_upload_continue_complete(self, myanonupload_anonymous_site):
        site = myanonupload_anonymous_site
        anon = site.anonymous()
        uid = start_upload(site, anon, drive=R)
        site.step(anon.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        r = site.step(anon.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)
        assert r.status == 200
        assert 'user_id' not in site.world.db.upload_row(uid, site.table)
        other_tables_untouched(site)

    def test_logged_in_session_is_ignored(self, myanonupload_anonymous_site):
        site = myanonupload_anonymous_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=D)
        site.step(site.anonymous().chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)


def _insert_anon_upload(site, data=b'0123456789'):
    """A MyAnonUpload row + its .part file, as the anonymous site would have left them."""
    import uuid
    uid = uuid.uuid4().hex
    rel = 'chunked_uploads/prior/%s.part' % uid
    full = os.path.join(site.world.media_root, rel)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'wb') as f:
        f.write(data)
    site.world.db.q('INSERT INTO %s (upload_id, file, filename, "offset", created_on, status) '
                    "VALUES (%%s, %%s, 'prior.bin', %%s, now(), 1)" % site.table, (uid, rel, len(data)))
    return uid


class TestMyAnonUploadAuthRequired:
    """MyAnonUpload on a site WITH AuthenticationMiddleware. django-chunked-upload
    2.0.0 passes user= to the model and filters on it: 500 (TypeError / FieldError);
    2.1.0 checks hasattr(model, 'user') and works."""

    def test_new_upload_of_a_logged_in_user(self, myanonupload_site):
        site = myanonupload_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=D)
        assert r.status == (500 if site.world.upstream else 200)
        other_tables_untouched(site)

    def test_existing_upload_continued_and_completed(self, myanonupload_site):
        site = myanonupload_site
        alice = site.login('alice')
        uid = _insert_anon_upload(site)
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == (500 if site.world.upstream else 200)
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status in (200, 400, 500)

    def test_missing_chunk_and_fields_come_first(self, myanonupload_site):
        """2.0.0 checks for the chunk (upload) and both fields (complete)
        before it reaches the user filter."""
        site = myanonupload_site
        alice = site.login('alice')
        r = site.step(alice.chunk(None, parts=[]), drive=R)
        assert r.status == 400
        r = site.step(alice.complete(None, 'abc'), drive=D)
        assert r.status == 400

    def test_anonymous_is_forbidden(self, myanonupload_site):
        site = myanonupload_site
        uid = _insert_anon_upload(site)
        r = site.step(site.anonymous().chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 403
