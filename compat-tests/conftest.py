"""Session fixtures: PostgreSQL, Redis, one World (database + MEDIA_ROOT + the
session engine's store) per cell = (compat profile, session engine), and server
pairs (reference Django under gunicorn + the candidate). Collection hooks pick
the tests of each cell; the end of the run prints and writes the compat matrix
(MATRIX.md)."""
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse

import psycopg2
import pytest

import compatlib
import matrix
import sessionstores
from compatlib import World, Site, free_port
from settings_sites import *  # noqa: F401,F403  (the settings-site fixtures)

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


@pytest.fixture(scope='session', params=list(compatlib.PROFILES))
def profile(request):
    return request.param


@pytest.fixture(scope='session', params=list(sessionstores.ENGINES))
def engine(request):
    """The SESSION_ENGINE of the cell (sessionstores.ENGINES). Non-db engines run
    only sessionstores.ENGINE_TEST_FILES (see pytest_collection_modifyitems)."""
    return sessionstores.ENGINES[request.param]


def _worker():
    """'' or '_gw0', '_gw1'... under pytest-xdist."""
    w = os.environ.get('PYTEST_XDIST_WORKER')
    return '_' + w if w else ''


def _run_tag():
    """Suffix of this process's database names, so that two runs (or two xdist
    workers) sharing one PostgreSQL never drop each other's databases."""
    return '_p%d' % os.getpid()


def _drop_stale_databases(pg_admin_url):
    """Databases of earlier runs (compat_..._p<pid>) whose process is gone."""
    admin = psycopg2.connect(pg_admin_url)
    admin.autocommit = True
    try:
        with admin.cursor() as c:
            c.execute("SELECT datname FROM pg_database WHERE datname ~ '^compat_.*_p[0-9]+$'")
            for (name,) in c.fetchall():
                pid = int(name.rsplit('_p', 1)[1])
                if pid != os.getpid() and not os.path.exists('/proc/%d' % pid):
                    c.execute('DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)
    finally:
        admin.close()


def _admin(pg_admin_url, *sql):
    admin = psycopg2.connect(pg_admin_url)
    admin.autocommit = True
    try:
        with admin.cursor() as c:
            for q in sql:
                c.execute(q)
    finally:
        admin.close()


@pytest.fixture(scope='session')
def redis_server():
    """(host, port, number of databases) of a Redis server we may flush databases
    1.. of: REDIS_URL's, or a private redis-server (temp dir, free port, no
    persistence) started for this run."""
    if os.environ.get('REDIS_URL'):
        p = urllib.parse.urlsplit(os.environ['REDIS_URL'])
        import redis
        r = redis.Redis(host=p.hostname or '127.0.0.1', port=p.port or 6379)
        n = int(r.config_get('databases')['databases'])
        r.close()
        yield p.hostname or '127.0.0.1', p.port or 6379, n
        return
    exe = shutil.which('redis-server') or '/usr/bin/redis-server'
    base = tempfile.mkdtemp(prefix='compat-redis-')
    port = free_port()
    log = open(os.path.join(base, 'redis.log'), 'wb')
    proc = subprocess.Popen([exe, '--bind', '127.0.0.1', '--port', str(port), '--dir', base,
                             '--save', '', '--appendonly', 'no', '--databases', '64',
                             '--daemonize', 'no', '--protected-mode', 'no'],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError('redis-server exited with %s: %s' % (
                    proc.returncode, open(os.path.join(base, 'redis.log')).read()[-2000:]))
            try:
                with socket.create_connection(('127.0.0.1', port), timeout=1) as s:
                    s.sendall(b'PING\r\n')
                    if s.recv(16).startswith(b'+PONG'):
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError('redis-server did not answer PING within 30 s')
            time.sleep(0.05)
        yield '127.0.0.1', port, 64
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        shutil.rmtree(base, ignore_errors=True)


_redis_db_numbers = itertools.count()


@pytest.fixture(scope='session')
def db_templates(pg_admin_url):
    """profile -> its template database (see _template_db); dropped at the end."""
    _drop_stale_databases(pg_admin_url)
    made = {}
    yield made
    if os.environ.get('COMPAT_KEEP_TMP') != '1':
        for name in made.values():
            _admin(pg_admin_url, 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % name)


def _template_db(profile, pg_admin_url, tmp, _templates):
    """compat_<profile>_tpl_p<pid>: migrated once per profile (users alice and
    bob); every world of the profile is a copy (CREATE DATABASE ... TEMPLATE)."""
    if profile not in _templates:
        name = 'compat_%s_tpl%s' % (profile, _run_tag())
        _admin(pg_admin_url, 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % name, 'CREATE DATABASE %s' % name)
        w = World(profile, _with_db(pg_admin_url, name), tmp, tmp, CANDIDATE)
        t = time.time()
        w.migrate()
        for user in ('alice', 'bob'):
            w.create_user(user)
        w.db.conn.close()
        print('\n[%s] migrated in %.1fs' % (profile, time.time() - t))
        _templates[profile] = name
    return _templates[profile]


@pytest.fixture(scope='session')
def world(request, profile, engine, pg_admin_url, db_templates):
    """The state of one cell: its own database (a copy of the profile's migrated
    template), MEDIA_ROOT, and its engine's store: a Redis database of its own
    (cache engines) or a SESSION_FILE_PATH directory (file engine)."""
    version = compatlib.PROFILES[profile]['django_version']
    if not engine.supports(version):
        raise pytest.UsageError('%s needs Django >= %s' % (engine.id, engine.min_django))
    cell = '%s_%s' % (profile, engine.id.replace('-', '_'))
    dbname = 'compat_%s%s' % (cell, _run_tag())
    tmp = tempfile.mkdtemp(prefix='compat-%s-' % cell)
    media = os.path.join(tmp, 'media')
    logdir = os.path.join(tmp, 'logs')
    sessions = os.path.join(tmp, 'sessions')
    for d in (media, logdir, sessions):
        os.makedirs(d)
    os.chmod(media, 0o755)
    template = _template_db(profile, pg_admin_url, tmp, db_templates)
    _admin(pg_admin_url, 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % dbname,
           'CREATE DATABASE %s TEMPLATE %s' % (dbname, template))
    redis_location = None
    if engine.uses_redis:
        host, port, ndb = request.getfixturevalue('redis_server')
        # database 0 is left alone; each world takes the next number (per
        # xdist worker a disjoint range), so no two live worlds share one.
        span = (ndb - 1) // 2 if _worker() else ndb - 1
        index = int(_worker()[3:] or 0) if _worker() else 0
        number = 1 + index * span + next(_redis_db_numbers) % span
        redis_location = 'redis://%s:%d/%d' % (host, port, number)
    w = World(profile, _with_db(pg_admin_url, dbname), media, logdir, CANDIDATE, engine=engine,
              redis_location=redis_location, session_dir=sessions)
    if w.redis is not None:
        w.redis.flush()
    print('\n[%s] world %s; logs in %s' % (profile, engine.id, logdir))
    yield w
    w.db.conn.close()
    if w.redis is not None:
        w.redis.flush()
        w.redis.close()
    if os.environ.get('COMPAT_KEEP_TMP') != '1':
        _admin(pg_admin_url, 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % dbname)
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
    s = Site(world, 'limited', {'CHUNKED_UPLOAD_MAX_BYTES': '100'}, cell='max_bytes')
    yield s
    s.stop()


@pytest.fixture(scope='session')
def rotated_site(world):
    """A server pair over the same world whose SECRET_KEY was rotated: a new key,
    the world's old one in SECRET_KEY_FALLBACKS (Django 3.2 has no such setting:
    there the old key is simply gone)."""
    # cell='main': its scenarios count in the engine's row of the matrix
    s = Site(world, 'rotated', {'SECRET_KEY': ROTATED_SECRET_KEY,
                                'SECRET_KEY_FALLBACKS': world.SECRET_KEY}, cell='main')
    yield s
    s.stop()


ROTATED_SECRET_KEY = 'compat-tests-rotated-secret-key-5e7a9c1b3d5f7a9c1e3b5d7f9a1c3e5b'


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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    """Record the test's compat-matrix cell (compatlib.cell_label) as user
    property `cell`, e.g. for the README matrix or --junitxml."""
    label = compatlib.cell_label(item)
    if label is not None:
        item.user_properties.append(('cell', label))


def pytest_terminal_summary(terminalreporter):
    """Figures the data-safety tests gathered, shown even under -q; then the
    compat matrix of this run (also written to MATRIX.md)."""
    import compatlib
    for line in compatlib.REPORT_LINES:
        terminalreporter.write_line(line)
    matrix.terminal_summary(terminalreporter, CANDIDATE)


# --------------------------------------------------------------------------
# which tests run in which cell, and the matrix

def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'cells(engines=None, django=None, min_django=None): run the test only in the '
        'cells whose engine kind or id is in `engines` and whose Django series is in `django` '
        '(e.g. ("3.2",)) or >= `min_django`; elsewhere it is deselected, not skipped')
    config.addinivalue_line('markers', 'cell(name): the compat-matrix row name of these tests')


def _in_cell(item):
    params = item.callspec.params if hasattr(item, 'callspec') else {}
    profile, engine_id = params.get('profile'), params.get('engine')
    version = compatlib.PROFILES[profile]['django_version'] if profile else None
    engine = sessionstores.ENGINES[engine_id] if engine_id else None
    if engine is not None:
        if version and not engine.supports(version):
            return False
        if engine.kind != 'db' and item.path.name not in sessionstores.ENGINE_TEST_FILES:
            return False
    for m in item.iter_markers('cells'):
        engines = m.kwargs.get('engines')
        if engines and engine is not None and engine.kind not in engines and engine.id not in engines:
            return False
        django = m.kwargs.get('django')
        if django and version and version not in django:
            return False
        low = m.kwargs.get('min_django')
        if low and version and tuple(map(int, version.split('.'))) < tuple(map(int, low.split('.'))):
            return False
    return True


def pytest_collection_modifyitems(config, items):
    """Each cell runs its scenarios; a scenario meaningless in a cell is
    deselected here (never reported as passed or skipped)."""
    keep, drop = [], []
    for item in items:
        (keep if _in_cell(item) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    for item in items:
        matrix.label(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    matrix.label(item)      # now with the fixtures set up: a settings Site's `cell`
    yield


def pytest_runtest_logreport(report):
    matrix.record(report)
