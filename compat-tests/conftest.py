"""Session fixtures: PostgreSQL, one World (database + MEDIA_ROOT) per compat
profile, and server pairs (reference Django under gunicorn + the candidate)."""
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import psycopg2
import pytest

import compatlib
from compatlib import World, Site, free_port

PG_BIN = '/usr/lib/postgresql/15/bin'
CANDIDATE = os.environ.get('COMPAT_CANDIDATE', 'rust')
if CANDIDATE not in ('rust', 'django'):
    raise pytest.UsageError('COMPAT_CANDIDATE must be "rust" or "django", not %r' % CANDIDATE)


def pytest_report_header(config):
    if CANDIDATE == 'django':
        return 'compat candidate: a second Django (COMPAT_CANDIDATE=django)'
    return 'compat candidate: %s' % compatlib.candidate_binary()


def _as_postgres(cmd):
    if os.geteuid() == 0:
        return ['runuser', '-u', 'postgres', '--'] + cmd
    return cmd


def _with_db(url, dbname):
    p = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((p.scheme, p.netloc, '/' + dbname, p.query, p.fragment))


@pytest.fixture(scope='session')
def pg_admin_url():
    """URL of a PostgreSQL server we may create databases in."""
    if os.environ.get('DATABASE_URL'):
        yield os.environ['DATABASE_URL']
        return
    base = tempfile.mkdtemp(prefix='compat-pg-')
    data = os.path.join(base, 'data')
    if os.geteuid() == 0:
        shutil.chown(base, 'postgres', 'postgres')
    port = free_port()
    subprocess.run(_as_postgres([PG_BIN + '/initdb', '-D', data, '-A', 'trust', '-U', 'postgres',
                                 '-E', 'UTF8', '--locale=C', '--no-sync']),
                   check=True, stdout=subprocess.DEVNULL)
    opts = ('-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off '
            '-c full_page_writes=off -c max_connections=200' % (port, base))
    subprocess.run(_as_postgres([PG_BIN + '/pg_ctl', '-D', data, '-l', os.path.join(base, 'log'),
                                 '-o', opts, '-w', '-t', '60', 'start']),
                   check=True, stdout=subprocess.DEVNULL)
    try:
        yield 'postgres://postgres@127.0.0.1:%d/postgres' % port
    finally:
        subprocess.run(_as_postgres([PG_BIN + '/pg_ctl', '-D', data, '-m', 'fast', '-w', 'stop']),
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope='session', params=['upstream', 'dj42', 'patched', 'dj60'])
def profile(request):
    return request.param


@pytest.fixture(scope='session')
def world(profile, pg_admin_url):
    dbname = 'compat_' + profile
    admin = psycopg2.connect(pg_admin_url)
    admin.autocommit = True
    with admin.cursor() as c:
        c.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % dbname)
        c.execute('CREATE DATABASE %s' % dbname)
    admin.close()
    tmp = tempfile.mkdtemp(prefix='compat-%s-' % profile)
    media = os.path.join(tmp, 'media')
    logdir = os.path.join(tmp, 'logs')
    os.makedirs(media)
    os.makedirs(logdir)
    os.chmod(media, 0o755)
    w = World(profile, _with_db(pg_admin_url, dbname), media, logdir, CANDIDATE)
    t = time.time()
    w.migrate()
    for name in ('alice', 'bob'):
        w.create_user(name)
    print('\n[%s] migrated in %.1fs; logs in %s' % (profile, time.time() - t, logdir))
    yield w
    w.db.conn.close()
    if os.environ.get('COMPAT_KEEP_TMP') != '1':
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope='session')
def site(world):
    s = Site(world, 'main')
    yield s
    s.stop()


@pytest.fixture(scope='session')
def limited_site(world):
    """A second server pair over the same database and MEDIA_ROOT, with
    CHUNKED_UPLOAD_MAX_BYTES set."""
    s = Site(world, 'limited', {'CHUNKED_UPLOAD_MAX_BYTES': '100'})
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _clean_state(world):
    world.reset()
    yield


@pytest.fixture
def alice(site):
    return site.login('alice')


@pytest.fixture
def bob(site):
    return site.login('bob')


def pytest_terminal_summary(terminalreporter):
    """Figures the data-safety tests gathered, shown even under -q."""
    import compatlib
    for line in compatlib.REPORT_LINES:
        terminalreporter.write_line(line)
