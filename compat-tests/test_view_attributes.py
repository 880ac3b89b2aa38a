"""Sites that subclass the views and set their class attributes, or override
check_permissions (fixtures in settings_sites.py): the refsite's urls.py builds
the subclasses from the variables the service reads (CHUNKED_UPLOAD_FIELD_NAME,
..._FAIL_IF_NO_HEADER, ..._DO_MD5_CHECK, ..._USER_FIELD_NAME, ..._PERMISSION,
and `max_bytes` on the view). Each class is one site; statuses asserted here
only say which path a scenario takes, the comparison with Django does the rest."""
import os
import uuid

from compatlib import File, md5hex

D, R = 'django', 'rust'


def cr(start, chunk, total):
    return 'bytes %d-%d/%d' % (start, start + len(chunk) - 1, total)


def start_upload(site, client, data=b'0123456789', total=20, drive=D, **kw):
    r = site.step(client.chunk(data, content_range=cr(0, data, total), **kw), drive=drive)
    assert r.status == 200, r.summary()
    return r.json['upload_id']


def insert_upload(site, data=b'0123456789', user_column=None, user_id=None):
    """A row + its .part file in the site's table, as an earlier request left them."""
    uid = uuid.uuid4().hex
    rel = 'chunked_uploads/prior/%s.part' % uid
    full = os.path.join(site.world.media_root, rel)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'wb') as f:
        f.write(data)
    cols, vals = '', ''
    args = [uid, rel, len(data)]
    if user_column:
        cols, vals = ', "%s"' % user_column, ', %s'
        args.append(user_id)
    site.world.db.q('INSERT INTO %s (upload_id, file, filename, "offset", created_on, status%s) '
                    "VALUES (%%s, %%s, 'prior.bin', %%s, now(), 1%s)" % (site.table, cols, vals), args)
    return uid


def user_id_of(site, username):
    return site.world.db.q('SELECT id FROM auth_user WHERE username = %s', (username,))[0][0]


def session_exists(site, key):
    return bool(site.world.db.q('SELECT 1 FROM django_session WHERE session_key = %s', (key,)))


def stale_client(site):
    """A fresh user logged in, whose password then changed: the session's auth
    hash no longer matches, so get_user flushes it when request.user is read."""
    name, pw, uid = site.world.create_user()
    c = site.login(name, pw)
    site.world.db.q("UPDATE auth_user SET password = 'md5$0123456789abcdef01234567$' || md5('x') "
                    "WHERE id = %s", (uid,))
    return c


# --------------------------------------------------------------------------
# field_name

class TestFieldName:
    """field_name = 'the_file': request.FILES.get('the_file') is the chunk."""

    def chunk(self, client, data, upload_id=None, content_range=None, name='the_file', extra=()):
        return client.chunk(None, upload_id, content_range=content_range,
                            parts=list(extra) + [File(name, 'chunk.bin', data)])

    def test_upload_continue_complete(self, field_name_site):
        site = field_name_site
        alice = site.login('alice')
        r = site.step(self.chunk(alice, b'0123456789', content_range='bytes 0-9/20'), drive=D)
        assert r.status == 200, r.summary()
        uid = r.json['upload_id']
        r = site.step(self.chunk(alice, b'abcdefghij', uid, 'bytes 10-19/20'), drive=R)
        assert r.status == 200
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status == 200

    def test_started_on_the_candidate(self, field_name_site):
        site = field_name_site
        alice = site.login('alice')
        r = site.step(self.chunk(alice, b'0123456789', content_range='bytes 0-9/20'), drive=R)
        uid = r.json['upload_id']
        site.step(self.chunk(alice, b'abcdefghij', uid, 'bytes 10-19/20'), drive=D)
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)
        assert r.status == 200

    def test_chunk_in_the_default_field_is_no_chunk(self, field_name_site):
        site = field_name_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=R)
        assert r.status == 400 and b'No chunk file was submitted' in r.body

    def test_both_fields_present(self, field_name_site):
        """Only the_file counts, whichever comes first."""
        site = field_name_site
        alice = site.login('alice')
        decoy = File('file', 'decoy.bin', b'DECOY-DECOY-DECOY')
        r = site.step(self.chunk(alice, b'0123456789', content_range='bytes 0-9/20', extra=[decoy]), drive=D)
        assert r.status == 200
        uid = r.json['upload_id']
        req = alice.chunk(None, uid, content_range='bytes 10-19/20',
                          parts=[File('the_file', 'chunk.bin', b'abcdefghij'), decoy])
        r = site.step(req, drive=R)
        assert r.status == 200 and r.json['offset'] == 20
        site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)

    def test_anonymous_is_forbidden(self, field_name_site):
        site = field_name_site
        r = site.step(self.chunk(site.anonymous(), b'data'), drive=R)
        assert r.status == 403


# --------------------------------------------------------------------------
# fail_if_no_header

class TestFailIfNoHeader:
    """fail_if_no_header = True: a chunk without a matching Content-Range is
    400 'Error in request headers', after the upload is looked up or created
    (a refused first chunk leaves its empty .part) and before max_bytes."""

    def test_first_chunk_without_header(self, fail_if_no_header_site):
        site = fail_if_no_header_site
        alice = site.login('alice')
        for drive in (D, R):
            r = site.step(alice.chunk(b'0123456789'), drive=drive)
            assert r.status == 400 and b'Error in request headers' in r.body, r.summary()
        assert not site.world.db.q('SELECT 1 FROM chunked_upload_chunkedupload')

    def test_later_chunk_without_header(self, fail_if_no_header_site):
        site = fail_if_no_header_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=R)
        r = site.step(alice.chunk(b'abcdefghij', uid), drive=D)
        assert r.status == 400
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 200
        site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)

    def test_malformed_headers(self, fail_if_no_header_site):
        site = fail_if_no_header_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=D)
        for bad in ('bytes 10-19', 'bytes=10-19/20', '10-19/20', 'bytes -10-19/20', 'bytes 10-19/x'):
            r = site.step(alice.chunk(b'abcdefghij', uid, content_range=bad), drive=R)
            assert r.status == 400 and b'Error in request headers' in r.body, bad
            r = site.step(alice.chunk(b'abcdefghij', content_range=bad), drive=D)
            assert r.status == 400, bad

    def test_good_header(self, fail_if_no_header_site):
        site = fail_if_no_header_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=R)
        site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)
        assert r.status == 200

    def test_lookup_and_state_come_before_the_header(self, fail_if_no_header_site):
        """Unknown upload: 404; complete upload: 400 'already complete' (not the header error)."""
        site = fail_if_no_header_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'abcdefghij', 'f' * 32), drive=D)
        assert r.status == 404
        uid = start_upload(site, alice, b'0123456789', 10, drive=R)
        site.step(alice.complete(uid, md5hex(b'0123456789')), drive=D)
        r = site.step(alice.chunk(b'abcdefghij', uid), drive=R)
        assert r.status == 400 and b'complete' in r.body

    def test_no_chunk_comes_first(self, fail_if_no_header_site):
        site = fail_if_no_header_site
        alice = site.login('alice')
        r = site.step(alice.chunk(None, parts=[]), drive=R)
        assert r.status == 400 and b'No chunk file was submitted' in r.body


# --------------------------------------------------------------------------
# do_md5_check

class TestNoMd5Check:
    """do_md5_check = False: only upload_id is required, the md5 is never compared."""

    def test_complete_without_md5(self, no_md5_check_site):
        site = no_md5_check_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=D)
        site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        r = site.step(alice.complete(uid, None), drive=D)
        assert r.status == 200

    def test_complete_with_a_wrong_md5(self, no_md5_check_site):
        site = no_md5_check_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=R)
        r = site.step(alice.complete(uid, md5hex(b'something else')), drive=R)
        assert r.status == 200

    def test_complete_without_upload_id(self, no_md5_check_site):
        site = no_md5_check_site
        alice = site.login('alice')
        for md5 in (None, md5hex(b'x'), ''):
            r = site.step(alice.complete(None, md5), drive=D)
            assert r.status == 400 and b"'upload_id' is required" in r.body
        r = site.step(alice.complete('', None), drive=R)
        assert r.status == 400

    def test_unknown_and_foreign_uploads(self, no_md5_check_site):
        site = no_md5_check_site
        alice, bob = site.login('alice'), site.login('bob')
        r = site.step(alice.complete('0' * 32, None), drive=R)
        assert r.status == 404
        uid = start_upload(site, alice, drive=D)
        r = site.step(bob.complete(uid, None), drive=R)
        assert r.status == 404

    def test_complete_twice(self, no_md5_check_site):
        """2.0.0 completes again; 2.1.0 refuses."""
        site = no_md5_check_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=R)
        site.step(alice.complete(uid, None), drive=D)
        r = site.step(alice.complete(uid, None), drive=R)
        assert r.status == (200 if site.world.upstream else 400)

    def test_anonymous_is_forbidden(self, no_md5_check_site):
        site = no_md5_check_site
        r = site.step(site.anonymous().complete('0' * 32, None), drive=D)
        assert r.status == 403


# --------------------------------------------------------------------------
# user_field_name

class TestUserFieldName:
    """OwnerUpload (FK `owner`, table custom_upload_ownerupload) with
    user_field_name = 'owner'. 2.1.0 filters and creates by `owner`; 2.0.0
    filters by `owner` but creates with user= (TypeError: 500)."""

    def test_create_continue_complete(self, user_field_name_site):
        site = user_field_name_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=D)
        if site.world.upstream:
            assert r.status == 500
            return
        assert r.status == 200
        uid = r.json['upload_id']
        assert site.world.db.upload_row(uid, site.table)['owner_id'] == user_id_of(site, 'alice')
        site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status == 200

    def test_created_on_the_candidate(self, user_field_name_site):
        site = user_field_name_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=R)
        if site.world.upstream:
            assert r.status == 500
            return
        uid = r.json['upload_id']
        site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)

    def test_continue_an_owned_upload(self, user_field_name_site):
        """A row owned by alice (as 2.1.0 or an admin made it): filtered by owner in both."""
        site = user_field_name_site
        alice, bob = site.login('alice'), site.login('bob')
        uid = insert_upload(site, user_column='owner_id', user_id=user_id_of(site, 'alice'))
        r = site.step(bob.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        assert r.status == 404
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 200
        r = site.step(bob.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status == 404
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)
        assert r.status == 200

    def test_another_users_upload_is_not_found(self, user_field_name_site):
        site = user_field_name_site
        bob = site.login('bob')
        uid = insert_upload(site, user_column='owner_id', user_id=user_id_of(site, 'alice'))
        r = site.step(bob.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 404
        unowned = insert_upload(site)
        r = site.step(bob.chunk(b'abcdefghij', unowned, content_range='bytes 10-19/20'), drive=D)
        assert r.status == 404

    def test_anonymous_is_forbidden(self, user_field_name_site):
        site = user_field_name_site
        uid = insert_upload(site)
        r = site.step(site.anonymous().chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 403
        r = site.step(site.anonymous().chunk(b'data'), drive=D)
        assert r.status == 403


class TestUserFieldMissing:
    """The default model with user_field_name = 'owner', a field it lacks.
    2.0.0 creates with user= (works) but filters by `owner` (FieldError: 500);
    2.1.0 sees no such field: no user recorded, no filter."""

    def test_create_continue_complete(self, user_field_missing_site):
        site = user_field_missing_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=D)
        row = site.world.db.upload_row(uid)
        assert row['user_id'] == (user_id_of(site, 'alice') if site.world.upstream else None)
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == (500 if site.world.upstream else 200)
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status == (500 if site.world.upstream else 200)

    def test_created_on_the_candidate(self, user_field_missing_site):
        site = user_field_missing_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=R)
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        assert r.status == (500 if site.world.upstream else 200)

    def test_another_user_continues(self, user_field_missing_site):
        site = user_field_missing_site
        alice, bob = site.login('alice'), site.login('bob')
        uid = start_upload(site, alice, drive=R)
        r = site.step(bob.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == (500 if site.world.upstream else 200)
        r = site.step(bob.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status == (500 if site.world.upstream else 200)

    def test_checks_before_the_filter(self, user_field_missing_site):
        """No chunk, missing fields: 400 in both versions (before get_queryset)."""
        site = user_field_missing_site
        alice = site.login('alice')
        r = site.step(alice.chunk(None, parts=[]), drive=D)
        assert r.status == 400
        r = site.step(alice.complete('0' * 32, None), drive=R)
        assert r.status == 400


# --------------------------------------------------------------------------
# max_bytes on the view

class TestMaxBytesOnTheView:
    """max_bytes = 100 set on the view class (the package setting unset);
    the service has CHUNKED_UPLOAD_MAX_BYTES=100."""

    def test_exactly_the_limit(self, max_bytes_view_site):
        site = max_bytes_view_site
        alice = site.login('alice')
        data = bytes(range(100))
        r = site.step(alice.chunk(data), drive=R)
        assert r.status == 200
        site.step(alice.complete(r.json['upload_id'], md5hex(data)), drive=D)

    def test_first_chunk_over_the_limit(self, max_bytes_view_site):
        site = max_bytes_view_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'x' * 10, content_range='bytes 0-9/101'), drive=D)
        assert r.status == 400 and b'(100 bytes)' in r.body
        r = site.step(alice.chunk(b'x' * 101), drive=R)
        assert r.status == 400

    def test_later_chunk_over_the_limit(self, max_bytes_view_site):
        site = max_bytes_view_site
        alice = site.login('alice')
        uid = start_upload(site, alice, b'x' * 10, 100, drive=R)
        r = site.step(alice.chunk(b'y' * 91, uid, content_range='bytes 10-100/101'), drive=D)
        assert r.status == 400


# --------------------------------------------------------------------------
# check_permissions overridden to `pass`

class TestPermissionAnyone:
    """check_permissions = pass on the default model: anonymous users upload
    (user NULL, no filter); a logged-in user's uploads are recorded for and
    filtered to that user. request.user is read lazily: where get_queryset or
    the create path first touches it, never for a request without a chunk."""

    def test_anonymous_creates_continues_completes(self, permission_anyone_site):
        site = permission_anyone_site
        anon = site.anonymous()
        assert not anon.session
        uid = start_upload(site, anon, drive=D)
        assert site.world.db.upload_row(uid)['user_id'] is None
        r = site.step(anon.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 200
        r = site.step(anon.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status == 200

    def test_anonymous_started_on_the_candidate(self, permission_anyone_site):
        site = permission_anyone_site
        anon = site.anonymous()
        uid = start_upload(site, anon, drive=R)
        site.step(anon.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        r = site.step(anon.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)
        assert r.status == 200

    def test_alice_continues_her_own(self, permission_anyone_site):
        site = permission_anyone_site
        alice = site.login('alice')
        uid = start_upload(site, alice, drive=R)
        assert site.world.db.upload_row(uid)['user_id'] == user_id_of(site, 'alice')
        site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)
        assert r.status == 200

    def test_alice_cannot_continue_an_anonymous_upload(self, permission_anyone_site):
        site = permission_anyone_site
        alice = site.login('alice')
        uid = start_upload(site, site.anonymous(), drive=D)
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 404
        r = site.step(alice.complete(uid, md5hex(b'0123456789')), drive=D)
        assert r.status == 404

    def test_anonymous_and_alices_upload(self, permission_anyone_site):
        """get_queryset filters only for an authenticated user: an anonymous
        client holding the upload_id of alice's upload continues it."""
        site = permission_anyone_site
        alice, anon = site.login('alice'), site.anonymous()
        uid = start_upload(site, alice, drive=R)
        r = site.step(anon.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        assert r.status == 200
        r = site.step(anon.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)
        assert r.status == 200

    def test_stale_session_with_an_upload_id(self, permission_anyone_site):
        """get_queryset reads request.user: the session is flushed, the user
        is anonymous, the upload (anonymous) is found."""
        site = permission_anyone_site
        uid = start_upload(site, site.anonymous(), drive=D)
        c = stale_client(site)
        r = site.step(c.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 200
        assert not session_exists(site, c.session)

    def test_stale_session_new_upload(self, permission_anyone_site):
        """The create path reads request.user: flushed, the upload is anonymous."""
        site = permission_anyone_site
        c = stale_client(site)
        r = site.step(c.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=D)
        assert r.status == 200
        assert site.world.db.upload_row(r.json['upload_id'])['user_id'] is None
        assert not session_exists(site, c.session)

    def test_stale_session_without_a_chunk(self, permission_anyone_site):
        """No chunk: _post stops before request.user, the session stays."""
        site = permission_anyone_site
        c = stale_client(site)
        r = site.step(c.chunk(None, 'f' * 32, parts=[]), drive=R)
        assert r.status == 400
        r = site.step(c.chunk(None, parts=[File('other', 'x.bin', b'data')]), drive=D)
        assert r.status == 400
        assert session_exists(site, c.session)

    def test_stale_session_complete(self, permission_anyone_site):
        """Complete: missing fields stop before get_queryset (no flush); with
        both fields get_queryset flushes."""
        site = permission_anyone_site
        uid = start_upload(site, site.anonymous(), b'0123456789', 10, drive=R)
        c = stale_client(site)
        r = site.step(c.complete(uid, None), drive=D)
        assert r.status == 400
        assert session_exists(site, c.session)
        r = site.step(c.complete(uid, md5hex(b'0123456789')), drive=R)
        assert r.status == 200
        assert not session_exists(site, c.session)

    def test_stale_session_unknown_upload(self, permission_anyone_site):
        site = permission_anyone_site
        c = stale_client(site)
        r = site.step(c.chunk(b'abcdefghij', 'f' * 32, content_range='bytes 10-19/20'), drive=D)
        assert r.status == 404
        assert not session_exists(site, c.session)

    def test_session_cookie_variants(self, permission_anyone_site):
        """Unknown, too short, empty session keys: anonymous uploads."""
        site = permission_anyone_site
        anon = site.anonymous()
        for key in ('abcdefghijklmnopqrstuvwxyz012345', 'abc', ''):
            r = site.step(anon.chunk(b'data', cookies={'sessionid': key}), drive=R)
            assert r.status == 200

    def test_deleted_user(self, permission_anyone_site):
        """A session of a deleted user: anonymous, no flush."""
        site = permission_anyone_site
        name, pw, uid = site.world.create_user()
        c = site.login(name, pw)
        site.world.db.q('DELETE FROM auth_user WHERE id = %s', (uid,))
        r = site.step(c.chunk(b'data'), drive=D)
        assert r.status == 200
        assert site.world.db.upload_row(r.json['upload_id'])['user_id'] is None

    def test_csrf_is_still_required(self, permission_anyone_site):
        site = permission_anyone_site
        r = site.step(site.anonymous().chunk(b'data', csrf=None), drive=R)
        assert r.status == 403


class TestPermissionAnyoneMyAnonUpload:
    """check_permissions = pass on MyAnonUpload (no user field). 2.1.0 never
    reads request.user (hasattr(model, 'user') is False); 2.0.0 does, and
    fails for a logged-in user (filter: FieldError; create: TypeError)."""

    def test_anonymous_creates_continues_completes(self, permission_anyone_myanonupload_site):
        site = permission_anyone_myanonupload_site
        anon = site.anonymous()
        uid = start_upload(site, anon, drive=R)
        site.step(anon.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        r = site.step(anon.complete(uid, md5hex(b'0123456789abcdefghij')), drive=R)
        assert r.status == 200

    def test_logged_in_user_creates(self, permission_anyone_myanonupload_site):
        site = permission_anyone_myanonupload_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=D)
        assert r.status == (500 if site.world.upstream else 200)

    def test_logged_in_user_continues_an_anonymous_upload(self, permission_anyone_myanonupload_site):
        site = permission_anyone_myanonupload_site
        alice = site.login('alice')
        uid = start_upload(site, site.anonymous(), drive=D)
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == (500 if site.world.upstream else 200)
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status == (500 if site.world.upstream else 200)

    def test_stale_session(self, permission_anyone_myanonupload_site):
        """2.0.0 reads request.user (flush) where 2.1.0 never does (the session stays)."""
        site = permission_anyone_myanonupload_site
        uid = start_upload(site, site.anonymous(), drive=R)
        c = stale_client(site)
        r = site.step(c.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        assert r.status == 200
        assert session_exists(site, c.session) == (not site.world.upstream)
        c = stale_client(site)
        r = site.step(c.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=R)
        assert r.status == 200
        assert session_exists(site, c.session) == (not site.world.upstream)

    def test_stale_session_without_a_chunk(self, permission_anyone_myanonupload_site):
        site = permission_anyone_myanonupload_site
        c = stale_client(site)
        r = site.step(c.chunk(None, parts=[]), drive=D)
        assert r.status == 400
        assert session_exists(site, c.session)
