"""Settings sites (fixtures in settings_sites.py): Django and the candidate run
with the same non-default settings; each class is one site, with a focused
set of scenarios for what that setting changes."""
import datetime as dt
import os
import time

import pytest

from compatlib import csrf_mask, csrf_unmask, md5hex
from settings_sites import date_differs_for, edit_session, next_dst_transition, session_data

D, R = 'django', 'rust'


def cr(start, chunk, total):
    return 'bytes %d-%d/%d' % (start, start + len(chunk) - 1, total)


def two_chunks_and_complete(site, client, data=b'0123456789' * 30, drives=(D, R, D), **kw):
    """First chunk, second chunk, complete; returns the upload_id."""
    half = len(data) // 2
    a, b = data[:half], data[half:]
    r = site.step(client.chunk(a, content_range=cr(0, a, len(data)), **kw), drive=drives[0])
    assert r.status == 200, r.summary()
    uid = r.json['upload_id']
    r = site.step(client.chunk(b, uid, content_range=cr(half, b, len(data)), **kw), drive=drives[1])
    assert r.status == 200, r.summary()
    r = site.step(client.complete(uid, md5hex(data)), drive=drives[2])
    assert r.status == 200, r.summary()
    return uid


def set_created_on(site, uid, sql_expr, args=()):
    site.world.db.q('UPDATE %s SET created_on = %s WHERE upload_id = %%s' % (site.table, sql_expr),
                    tuple(args) + (uid,))


# --------------------------------------------------------------------------
# USE_TZ / TIME_ZONE

class TestUseTzFalse:
    """USE_TZ=False, TIME_ZONE=Asia/Tokyo: created_on is a naive Tokyo wall-clock
    value (written in a connection whose TimeZone is Asia/Tokyo), `expires` is
    rendered without an offset. compare() checks each new row against its own
    request window and its JSON against its own row."""

    def test_new_upload_continue_and_complete(self, use_tz_false_site):
        site = use_tz_false_site
        alice = site.login('alice')
        data = b'tokyo' * 40
        r = site.step(alice.chunk(data[:100], content_range=cr(0, data[:100], 200)), drive=D)
        assert r.status == 200
        expires = r.json['expires']
        assert not expires.endswith('Z') and '+' not in expires, expires
        uid = r.json['upload_id']
        r = site.step(alice.chunk(data[100:], uid, content_range=cr(100, data[100:], 200)), drive=R)
        assert r.json['expires'] == expires
        site.step(alice.complete(uid, md5hex(data)), drive=D)

    def test_upload_created_on_the_candidate_continued_on_django(self, use_tz_false_site):
        two_chunks_and_complete(use_tz_false_site, use_tz_false_site.login('alice'), drives=(R, D, R))

    def test_expiry_boundary(self, use_tz_false_site):
        site = use_tz_false_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/30'), drive=R)
        uid = r.json['upload_id']
        # one minute short of the delta: still open (JSON expires from the stored value)
        set_created_on(site, uid, "now() - interval '1 day' + interval '1 minute'")
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/30'), drive=D)
        assert r.status == 200
        # older than the delta: gone
        set_created_on(site, uid, "now() - interval '1 day' - interval '1 minute'")
        r = site.step(alice.chunk(b'ABCDEFGHIJ', uid, content_range='bytes 20-29/30'), drive=R)
        assert r.status == 410
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)
        assert r.status == 200

    def test_expires_rendering_of_stored_microseconds(self, use_tz_false_site):
        """DjangoJSONEncoder truncates to milliseconds, and drops them when 0."""
        site = use_tz_false_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/40'), drive=D)
        uid = r.json['upload_id']
        start = 10
        for stamp in ("date_trunc('second', now()) - interval '1 hour' + interval '0.999999 second'",
                      "date_trunc('second', now()) - interval '1 hour'",
                      "date_trunc('second', now()) - interval '1 hour' + interval '0.0005 second'"):
            set_created_on(site, uid, stamp)
            chunk = b'x' * 10
            r = site.step(alice.chunk(chunk, uid, content_range=cr(start, chunk, 40)), drive=R if start % 20 else D)
            assert r.status == 200
            start += 10


class TestTzLocalDate:
    """TIME_ZONE picked when the site starts so that its local date differs from
    the UTC date (settings_sites.pick_zone): the path's %Y/%m/%d is the local one."""

    def test_new_upload_path_uses_the_local_date(self, tz_local_date_site):
        site = tz_local_date_site
        left = date_differs_for(site.tz.key)
        assert left is not None, 'local date of %s equals the UTC date' % site.tz.key
        print('\n[%s] TIME_ZONE=%s, local date differs from UTC for %s more'
              % (site.world.profile, site.tz.key, left))
        alice = site.login('alice')
        for drives in ((D, R, D), (R, D, R)):
            uid = two_chunks_and_complete(site, alice, drives=drives)
            row = site.world.db.upload_row(uid, site.table)
            local = row['created_on'].astimezone(site.tz).strftime('%Y/%m/%d')
            utc = row['created_on'].astimezone(dt.timezone.utc).strftime('%Y/%m/%d')
            assert local in row['file'] and utc not in row['file'], (row['file'], local, utc)


class TestTzNegativeNaive:
    """USE_TZ=False in a zone west of UTC with daylight saving time (picked at run
    time, preferring one whose local date differs from the UTC date)."""

    def test_upload_continue_complete(self, tz_negative_naive_site):
        site = tz_negative_naive_site
        print('\n[%s] TIME_ZONE=%s (local date differs from UTC: %s)' % (
            site.world.profile, site.tz.key, date_differs_for(site.tz.key) is not None))
        two_chunks_and_complete(site, site.login('alice'))

    def test_expires_across_a_dst_transition(self, tz_negative_naive_site):
        """created_on 12 h before the zone's next offset change: naive wall-clock
        + 1 day differs by an hour from the aware instant + 1 day."""
        site = tz_negative_naive_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/30'), drive=D)
        uid = r.json['upload_id']
        created = next_dst_transition(site.tz.key) - dt.timedelta(hours=12)
        naive = created.astimezone(site.tz).replace(tzinfo=None) + site.delta
        aware = (created + site.delta).astimezone(site.tz).replace(tzinfo=None)
        assert naive != aware, 'the chosen instant does not exercise DST'
        site.world.db.q('UPDATE %s SET created_on = %%s WHERE upload_id = %%s' % site.table, (created, uid))
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/30'), drive=R)
        assert r.status == 200
        # one second past the transition, with microseconds
        site.world.db.q('UPDATE %s SET created_on = %%s WHERE upload_id = %%s' % site.table,
                        (created + dt.timedelta(hours=12, seconds=1, microseconds=250000), uid))
        r = site.step(alice.chunk(b'ABCDEFGHIJ', uid, content_range='bytes 20-29/30'), drive=D)
        assert r.status == 200


# --------------------------------------------------------------------------
# CSRF

class TestCsrfUseSessions:
    """CSRF_USE_SESSIONS=True: the secret is `_csrftoken` in the session (the
    login page's get_token() put it there; login() rotated it), no CSRF cookie."""

    def test_login_keeps_the_secret_in_the_session(self, csrf_sessions_site):
        site = csrf_sessions_site
        alice = site.login('alice')
        assert 'csrftoken' not in alice.cookies, alice.cookies
        assert '_csrftoken' in session_data(site.world, alice.session)
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=D)
        assert r.status == 200
        uid = r.json['upload_id']
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20', csrf='header'), drive=R)
        assert r.status == 200
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij'), csrf='header'), drive=D)
        assert r.status == 200

    def test_token_masked_again_and_unmasked(self, csrf_sessions_site):
        site = csrf_sessions_site
        alice = site.login('alice')
        secret = csrf_unmask(alice.csrf)
        r = site.step(alice.chunk(b'data', csrf=('field', csrf_mask(secret))), drive=R)
        assert r.status == 200
        r = site.step(alice.chunk(b'data', csrf=('header', secret)), drive=D)
        assert r.status == 200

    def test_wrong_or_missing_token(self, csrf_sessions_site):
        site = csrf_sessions_site
        alice = site.login('alice')
        for csrf in (('field', csrf_mask('A' * 32)), ('header', 'B' * 32), ('field', 'short'), None):
            r = site.step(alice.chunk(b'data', csrf=csrf), drive=R)
            assert r.status == 403

    def test_token_of_another_session(self, csrf_sessions_site):
        site = csrf_sessions_site
        alice, bob = site.login('alice'), site.login('bob')
        r = site.step(alice.chunk(b'data', csrf=('field', bob.csrf)), drive=D)
        assert r.status == 403

    def test_session_without_the_secret(self, csrf_sessions_site):
        site = csrf_sessions_site
        alice = site.login('alice')
        keys = edit_session(site.world, alice.session, drop=['_csrftoken'])
        assert '_csrftoken' not in keys and '_auth_user_id' in keys
        r = site.step(alice.chunk(b'data'), drive=R)
        assert r.status == 403
        # a csrftoken cookie carrying the old secret does not stand in for it
        r = site.step(alice.chunk(b'data', cookies={'csrftoken': csrf_unmask(alice.csrf)}), drive=D)
        assert r.status == 403

    @pytest.mark.parametrize('kind', ['ten_chars', 'masked_plus_six', 'bad_char_64', 'secret_32'])
    def test_odd_secret_in_the_session(self, csrf_sessions_site, kind):
        """The session's secret is never format-checked: 3.2 unmasks it with
        zip() (a longer one may still match), 4.2+ unmask only 64 characters,
        and a character outside the alphabet raises (gunicorn's 500)."""
        site = csrf_sessions_site
        alice = site.login('alice')
        secret = csrf_unmask(alice.csrf)
        masked = csrf_mask(secret)
        value = {'ten_chars': 'abcdefghij', 'masked_plus_six': masked + 'abcdef',
                 'bad_char_64': '-' + masked[1:], 'secret_32': secret}[kind]
        edit_session(site.world, alice.session, update={'_csrftoken': value})
        r = site.step(alice.chunk(b'data', csrf=('header', masked)), drive=D)
        assert r.status in (200, 403, 500)

    def test_anonymous_session_passes_csrf_then_the_view_refuses(self, csrf_sessions_site):
        site = csrf_sessions_site
        anon = site.anonymous()
        assert anon.session, 'the login page should have created an anonymous session'
        r = site.step(anon.chunk(b'data'), drive=D)
        assert r.status == 403
        r = site.step(anon.complete('0' * 32, md5hex(b'data')), drive=R)
        assert r.status == 403

    def test_no_session_cookie(self, csrf_sessions_site):
        site = csrf_sessions_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'data', cookies={'sessionid': None}), drive=R)
        assert r.status == 403
        r = site.step(alice.chunk(b'data', cookies={'sessionid': 'x' * 32}), drive=D)
        assert r.status == 403


class TestCsrfNames:
    """CSRF_COOKIE_NAME=xsrf, CSRF_HEADER_NAME=HTTP_X_XSRF_TOKEN."""

    def test_cookie_and_header_names(self, csrf_names_site):
        site = csrf_names_site
        alice = site.login('alice')
        assert 'xsrf' in alice.cookies and 'csrftoken' not in alice.cookies, alice.cookies
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=R)
        assert r.status == 200
        uid = r.json['upload_id']
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20', csrf='header'), drive=D)
        assert r.status == 200
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij'), csrf='header'), drive=R)
        assert r.status == 200

    def test_default_header_name_is_not_read(self, csrf_names_site):
        site = csrf_names_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'data', csrf=None, extra_headers=[('X-CSRFToken', alice.csrf)]), drive=D)
        assert r.status == 403

    def test_default_cookie_name_is_not_read(self, csrf_names_site):
        site = csrf_names_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'data', cookies={'xsrf': None, 'csrftoken': alice.csrf}), drive=R)
        assert r.status == 403

    def test_malformed_cookie_under_the_custom_name(self, csrf_names_site):
        """4.2+: 403 and a new random secret in a `xsrf` cookie; 3.2: 403, no cookie."""
        site = csrf_names_site
        alice = site.login('alice')
        for bad in ('abc', 'y' * 65):
            r = site.step(alice.chunk(b'data', cookies={'xsrf': bad}, csrf=('field', alice.csrf)), drive=D)
            assert r.status == 403


# --------------------------------------------------------------------------
# ALLOWED_HOSTS

HOSTS = [
    'exact.example', 'EXACT.Example', 'exact.example.', 'exact.example:8080', 'sub.exact.example',
    'domain.example', 'a.domain.example', 'a.b.domain.example:443', 'xdomain.example',
    'port.example', 'port.example:8000',
    '[::1]', '[::1]:8000', '[::2]', '127.0.0.1:80',
    'bad_host.example', 'exact.example:abc', 'exact.example, other.example', '',
]


class TestAllowedHostsList:
    """ALLOWED_HOSTS = testserver, exact.example, .domain.example,
    port.example:8000 (a port never matches), [::1], 127.0.0.1."""

    @pytest.mark.parametrize('host', HOSTS)
    def test_host(self, hosts_list_site, host):
        site = hosts_list_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'data', host=host), drive=R)
        assert r.status in (200, 400)


class TestAllowedHostsWildcard:
    """ALLOWED_HOSTS = * : every syntactically valid host; the others are still 400."""

    @pytest.mark.parametrize('host', HOSTS)
    def test_host(self, hosts_wildcard_site, host):
        site = hosts_wildcard_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'data', host=host), drive=D)
        assert r.status in (200, 400)


# --------------------------------------------------------------------------
# behind a proxy

XFP = ('X-Forwarded-Proto', 'https')
XFH = ('X-Forwarded-Host', 'public.example')

PROXY_CASES = {
    # HTTPS (X-Forwarded-Proto: https), the forwarded host public.example
    'https_no_referer': [XFP, XFH],
    'https_malformed_referer': [XFP, XFH, ('Referer', 'not a url')],
    'https_referer_without_scheme': [XFP, XFH, ('Referer', '//public.example/page')],
    'https_referer_unparsable': [XFP, XFH, ('Referer', 'https://[::1/page')],
    'https_http_referer': [XFP, XFH, ('Referer', 'http://public.example/page')],
    'https_foreign_referer': [XFP, XFH, ('Referer', 'https://evil.example/page')],
    'https_trusted_referer': [XFP, XFH, ('Referer', 'https://trusted.example/page')],
    'https_trusted_subdomain_referer': [XFP, XFH, ('Referer', 'https://sub.trusted.example/')],
    'https_forwarded_host_referer': [XFP, XFH, ('Referer', 'https://public.example/upload?x=1')],
    'https_forwarded_host_referer_uppercase': [XFP, XFH, ('Referer', 'https://PUBLIC.example/')],
    'https_host_header_referer': [XFP, XFH, ('Referer', 'https://testserver/page')],
    'https_referer_other_port': [XFP, XFH, ('Referer', 'https://public.example:8443/')],
    'https_forwarded_host_with_port': [XFP, ('X-Forwarded-Host', 'public.example:8443'),
                                       ('Referer', 'https://public.example:8443/')],
    'https_without_forwarded_host': [XFP, ('Referer', 'https://testserver/page')],
    'https_origin_same_no_referer': [XFP, XFH, ('Origin', 'https://public.example')],
    'https_origin_foreign_good_referer': [XFP, XFH, ('Origin', 'https://evil.example'),
                                          ('Referer', 'https://public.example/')],
    'https_origin_http_same_host': [XFP, XFH, ('Origin', 'http://public.example'),
                                    ('Referer', 'https://public.example/')],
    'https_origin_trusted': [XFP, XFH, ('Origin', 'https://trusted.example')],
    # X-Forwarded-Proto variants (no Referer: only HTTPS needs one)
    'proto_https_then_http': [('X-Forwarded-Proto', 'https, http'), XFH],
    'proto_http_then_https': [('X-Forwarded-Proto', 'http, https'), XFH],
    'proto_uppercase': [('X-Forwarded-Proto', 'HTTPS'), XFH],
    'proto_http': [('X-Forwarded-Proto', 'http'), XFH],
    # the same requests without the proxy header: plain http, no Referer rule
    'http_no_referer': [XFH],
    'http_foreign_referer': [XFH, ('Referer', 'https://evil.example/page')],
    'http_malformed_referer': [XFH, ('Referer', 'not a url')],
    'http_origin_forwarded_host': [XFH, ('Origin', 'http://public.example')],
    'http_origin_host_header': [XFH, ('Origin', 'http://testserver')],
    # forwarded hosts ALLOWED_HOSTS refuses
    'forwarded_host_not_allowed': [XFP, ('X-Forwarded-Host', 'evil.example'),
                                   ('Referer', 'https://evil.example/')],
    'forwarded_host_list': [('X-Forwarded-Host', 'public.example, proxy.internal')],
}


class TestProxyHttps:
    """SECURE_PROXY_SSL_HEADER=('HTTP_X_FORWARDED_PROTO', 'https'),
    USE_X_FORWARDED_HOST=True, USE_X_FORWARDED_PORT=True, CSRF_TRUSTED_ORIGINS =
    trusted.example (3.2) / https://trusted.example (4.0+). Every request carries
    a valid CSRF token: only the HTTPS Referer/Origin rules and the host differ."""

    @pytest.mark.parametrize('case', sorted(PROXY_CASES))
    def test_chunk(self, proxy_https_site, case):
        site = proxy_https_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'data', extra_headers=PROXY_CASES[case]), drive=R)
        assert r.status in (200, 400, 403, 500)

    def test_upload_and_complete_over_https(self, proxy_https_site):
        site = proxy_https_site
        alice = site.login('alice')
        hdrs = [XFP, XFH, ('Referer', 'https://public.example/page')]
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20', extra_headers=hdrs), drive=D)
        assert r.status == 200
        uid = r.json['upload_id']
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20', extra_headers=hdrs), drive=R)
        assert r.status == 200
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij'), extra_headers=[XFP, XFH]), drive=D)
        assert r.status == 403
        r = site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij'), extra_headers=hdrs), drive=R)
        assert r.status == 200

    def test_forwarded_port_when_there_is_no_host_header(self, proxy_https_site):
        """No Host, no X-Forwarded-Host: get_host() is SERVER_NAME + get_port(),
        and USE_X_FORWARDED_PORT makes the port X-Forwarded-Port's."""
        site = proxy_https_site
        alice = site.login('alice')
        for referer in ('https://127.0.0.1:8443/page', 'https://127.0.0.1/page'):
            req = alice.chunk(b'data', extra_headers=[XFP, ('X-Forwarded-Port', '8443'), ('Referer', referer)])
            req.headers = [(k, v) for k, v in req.headers if k != 'Host']
            r = site.step(req, drive=D)
            assert r.status in (200, 403)


# --------------------------------------------------------------------------
# APPEND_SLASH with TRAILING_SLASH=required

SLASH_DATA = b'0123456789'
SLASH_CASES = {
    'post_upload_no_slash': lambda c: c.chunk(SLASH_DATA, path='/api/chunked_upload'),
    'post_upload_no_slash_query': lambda c: c.chunk(SLASH_DATA, path='/api/chunked_upload?a=1&b=%20x'),
    'post_upload_no_slash_no_csrf_no_session': lambda c: c.chunk(
        SLASH_DATA, path='/api/chunked_upload', csrf=None, cookies={'csrftoken': None, 'sessionid': None}),
    'get_upload_no_slash': lambda c: c.raw('GET', '/api/chunked_upload'),
    'get_upload_no_slash_query': lambda c: c.raw('GET', '/api/chunked_upload?next=/x/'),
    'post_complete_no_slash': lambda c: c.complete('0' * 32, md5hex(SLASH_DATA),
                                                   path='/api/chunked_upload_complete'),
    'post_upload_double_slash': lambda c: c.chunk(SLASH_DATA, path='/api/chunked_upload//'),
    'post_upload_slash_query': lambda c: c.chunk(SLASH_DATA, path='/api/chunked_upload/?a=1'),
    'get_upload_slash': lambda c: c.raw('GET', '/api/chunked_upload/'),
    # iri_to_uri on the query string; an empty one adds no '?'.
    'get_upload_no_slash_query_unsafe_chars': lambda c: c.raw('GET', '/api/chunked_upload?q=a|b^c`d{e}'),
    'get_upload_no_slash_empty_query': lambda c: c.raw('GET', '/api/chunked_upload?'),
}


class TestAppendSlash:
    """TRAILING_SLASH=required (`path('api/chunked_upload/')`), APPEND_SLASH=True:
    the slash-less URL is a 301 to the slash URL (3.2 in process_request, before
    CSRF; 4.0+ in process_response, after the 404)."""

    @pytest.mark.parametrize('case', sorted(SLASH_CASES))
    def test_request(self, slash_append_site, case):
        site = slash_append_site
        alice = site.login('alice')
        r = site.step(SLASH_CASES[case](alice), drive=R)
        assert r.status in (200, 301, 404, 405)

    def test_upload_on_the_slash_urls(self, slash_append_site):
        two_chunks_and_complete(slash_append_site, slash_append_site.login('alice'))


class TestNoAppendSlash:
    """TRAILING_SLASH=required, APPEND_SLASH=False: the slash-less URL is a 404."""

    @pytest.mark.parametrize('case', sorted(SLASH_CASES))
    def test_request(self, slash_noappend_site, case):
        site = slash_noappend_site
        alice = site.login('alice')
        r = site.step(SLASH_CASES[case](alice), drive=D)
        assert r.status in (200, 301, 404, 405)

    def test_upload_on_the_slash_urls(self, slash_noappend_site):
        two_chunks_and_complete(slash_noappend_site, slash_noappend_site.login('alice'), drives=(R, D, R))


# --------------------------------------------------------------------------
# FILE_UPLOAD_PERMISSIONS / FILE_UPLOAD_DIRECTORY_PERMISSIONS (servers run with umask 022)

def _modes(world):
    out = {}
    for dirpath, dirnames, filenames in os.walk(world.media_root):
        for n in dirnames + filenames:
            full = os.path.join(dirpath, n)
            out[os.path.relpath(full, world.media_root)] = oct(os.stat(full).st_mode & 0o7777)
    return out


class _Permissions:
    def test_first_chunk_of_the_day_creates_the_directories(self, perm_site):
        """Empty MEDIA_ROOT: the first chunk creates chunked_uploads/Y/m/d."""
        site = perm_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=D)
        uid = r.json['upload_id']
        print('\n[%s %s] %s' % (site.world.profile, site.cell, _modes(site.world)))
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        site.step(alice.complete(uid, md5hex(b'0123456789abcdefghij')), drive=D)

    def test_existing_parent_keeps_its_mode(self, perm_site):
        """chunked_uploads/ exists (mode 0711): only the missing levels are created."""
        site = perm_site
        top = os.path.join(site.world.media_root, 'chunked_uploads')
        os.makedirs(top)
        os.chmod(top, 0o711)
        alice = site.login('alice')
        site.step(alice.chunk(b'data'), drive=R)
        site.step(alice.chunk(b'more data'), drive=D)


class TestPermissions600(_Permissions):
    """FILE_UPLOAD_PERMISSIONS=0o600, FILE_UPLOAD_DIRECTORY_PERMISSIONS=0o750."""

    @pytest.fixture
    def perm_site(self, perms_600_site):
        return perms_600_site


class TestPermissionsNone(_Permissions):
    """FILE_UPLOAD_PERMISSIONS=None (and no FILE_UPLOAD_DIRECTORY_PERMISSIONS), umask 027."""

    @pytest.fixture
    def perm_site(self, perms_none_site):
        return perms_none_site


# --------------------------------------------------------------------------
# CHUNKED_UPLOAD_PATH, CHUNKED_UPLOAD_EXPIRATION_DELTA, CHUNKED_UPLOAD_MAX_BYTES

class TestUploadPath:
    """CHUNKED_UPLOAD_PATH='uploads/%Y-%m/%H/day-%j' (local time of TIME_ZONE)."""

    def test_upload_continue_complete(self, upload_path_site):
        site = upload_path_site
        alice = site.login('alice')
        for drives in ((D, R, D), (R, D, R)):
            uid = two_chunks_and_complete(site, alice, drives=drives)
            assert site.world.db.upload_row(uid, site.table)['file'].startswith('uploads/')


class TestShortExpiry:
    """CHUNKED_UPLOAD_EXPIRATION_DELTA=2 (seconds)."""

    def _wait_expired(self, site, uid):
        row = site.world.db.upload_row(uid, site.table)
        left = (row['created_on'] + site.delta - dt.datetime.now(dt.timezone.utc)).total_seconds()
        time.sleep(max(0.0, left) + 0.5)

    def test_chunk_after_expiry_is_gone_complete_still_works(self, short_expiry_site):
        site = short_expiry_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=D)
        uid = r.json['upload_id']
        self._wait_expired(site, uid)
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=R)
        assert r.status == 410
        r = site.step(alice.complete(uid, md5hex(b'0123456789')), drive=D)
        assert r.status == 200

    def test_upload_created_by_the_candidate_expires_alike(self, short_expiry_site):
        site = short_expiry_site
        alice = site.login('alice')
        r = site.step(alice.chunk(b'0123456789', content_range='bytes 0-9/20'), drive=R)
        uid = r.json['upload_id']
        self._wait_expired(site, uid)
        r = site.step(alice.chunk(b'abcdefghij', uid, content_range='bytes 10-19/20'), drive=D)
        assert r.status == 410


class TestMaxBytesBoundaries:
    """CHUNKED_UPLOAD_MAX_BYTES=100 (conftest's limited_site)."""

    def test_exactly_the_limit_without_content_range(self, limited_site):
        alice = limited_site.login('alice')
        data = bytes(range(100))
        r = limited_site.step(alice.chunk(data), drive=R)
        assert r.status == 200
        limited_site.step(alice.complete(r.json['upload_id'], md5hex(data)), drive=D)

    def test_exactly_the_limit_in_two_chunks(self, limited_site):
        alice = limited_site.login('alice')
        data = b'q' * 100
        two_chunks_and_complete(limited_site, alice, data=data)

    def test_one_byte_over_in_the_second_chunk_total(self, limited_site):
        alice = limited_site.login('alice')
        r = limited_site.step(alice.chunk(b'x' * 10, content_range='bytes 0-9/100'), drive=D)
        uid = r.json['upload_id']
        r = limited_site.step(alice.chunk(b'y' * 91, uid, content_range='bytes 10-100/101'), drive=R)
        assert r.status == 400

    def test_limit_is_checked_before_the_offset(self, limited_site):
        alice = limited_site.login('alice')
        r = limited_site.step(alice.chunk(b'x' * 10, content_range='bytes 0-9/100'), drive=R)
        uid = r.json['upload_id']
        r = limited_site.step(alice.chunk(b'y' * 10, uid, content_range='bytes 50-59/101'), drive=D)
        assert r.status == 400

    def test_chunk_past_a_total_within_the_limit(self, limited_site):
        """Only the declared total is limited: 'bytes 0-100/100' with 101 bytes is accepted."""
        alice = limited_site.login('alice')
        r = limited_site.step(alice.chunk(b'z' * 101, content_range='bytes 0-100/100'), drive=D)
        assert r.status == 200
