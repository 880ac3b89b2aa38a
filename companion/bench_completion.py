"""Completion of a 1 GiB upload: plain Django against Django with the
companion app, side by side in one run.

Starts a private PostgreSQL (scripts/pg.sh), the compat refsite twice under
gunicorn (2 sync workers each; the second with REFSITE_COMPANION=1) and the
service (target/release/chunked-upload), all on one database and one
MEDIA_ROOT. Each round uploads a fresh 1 GiB file through the service in
8 MiB chunks, then times the complete request on both Djangos (order
alternating between rounds; the row is put back to "uploading" in between),
and prints the medians as a table. Run it with scripts/bench-completion
(after `cargo build --release` and `compat-tests/setup.sh`).

    scripts/bench-completion [--rounds 3] [--size-mib 1024] [--profile patched]
"""
import argparse
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPAT = os.path.join(REPO, 'compat-tests')
REFSITE = os.path.join(COMPAT, 'refsite')
PROFILES = {'upstream': ('.venv-upstream', '3.2', 'upstream'), 'dj42': ('.venv-dj42', '4.2', 'patched'),
            'patched': ('.venv-patched', '5.2', 'patched'), 'dj60': ('.venv-dj60', '6.0', 'patched'),
            'dj61': ('.venv-dj61', '6.1', 'patched')}
BOUNDARY = 'benchCompletionBoundary7MA4YWxk'
CHUNK = 8 << 20


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, name, cmd, env, cwd, logdir, port):
        self.name, self.port = name, port
        self.log_path = os.path.join(logdir, name + '.log')
        self.log = open(self.log_path, 'wb')
        self.p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 60
        while True:
            if self.p.poll() is not None:
                raise SystemExit('%s exited: %s' % (name, open(self.log_path).read()[-2000:]))
            try:
                socket.create_connection(('127.0.0.1', port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit('%s did not start' % name)
                time.sleep(0.1)

    def stop(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
        self.log.close()


def request(port, method, path, headers, body=b''):
    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=600)
    conn.request(method, path, body=body, headers=dict(headers, Host='localhost'))
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, r.getheaders(), data


def multipart(fields, file_bytes=None):
    out = []
    for k, v in fields.items():
        out.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (BOUNDARY, k, v)).encode())
    if file_bytes is not None:
        out.append(('--%s\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
                    'Content-Type: application/octet-stream\r\n\r\n' % BOUNDARY).encode())
        out.append(file_bytes)
        out.append(b'\r\n')
    out.append(('--%s--\r\n' % BOUNDARY).encode())
    return b''.join(out)


class Browser:
    def __init__(self, django_port):
        status, headers, body = request(django_port, 'GET', '/accounts/login/', {})
        self.cookies = self._cookies(headers)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', body).group(1).decode()
        form = urllib.parse.urlencode({'csrfmiddlewaretoken': token, 'username': 'bench',
                                       'password': 'bench-password'}).encode()
        status, headers, body = request(django_port, 'POST', '/accounts/login/', {
            'Cookie': self.cookie_header(), 'Content-Type': 'application/x-www-form-urlencoded'}, form)
        assert status == 302, (status, body[:300])
        self.cookies.update(self._cookies(headers))

    @staticmethod
    def _cookies(headers):
        out = {}
        for k, v in headers:
            if k.lower() == 'set-cookie':
                name, _, rest = v.partition('=')
                out[name] = rest.split(';', 1)[0]
        return out

    def cookie_header(self):
        return '; '.join('%s=%s' % kv for kv in self.cookies.items())

    def post(self, port, path, fields, file_bytes=None, content_range=None):
        headers = {'Cookie': self.cookie_header(), 'X-CSRFToken': self.cookies['csrftoken'],
                   'Content-Type': 'multipart/form-data; boundary=' + BOUNDARY}
        if content_range:
            headers['Content-Range'] = content_range
        return request(port, 'POST', path, headers, multipart(fields, file_bytes))


def upload(browser, port, size):
    """A fresh `size`-byte upload through the service; (upload_id, md5)."""
    block = os.urandom(CHUNK)
    md5 = hashlib.md5()
    uid, start = None, 0
    while start < size:
        n = min(CHUNK, size - start)
        data = block[:n] if start % (3 * CHUNK) else os.urandom(n)   # not one block repeated
        fields = {'upload_id': uid} if uid else {}
        status, _, body = browser.post(port, '/api/chunked_upload/', fields, data,
                                       'bytes %d-%d/%d' % (start, start + n - 1, size))
        assert status == 200, body
        uid = json.loads(body)['upload_id']
        md5.update(data)
        start += n
    return uid, md5.hexdigest()


def timed_complete(browser, port, uid, md5):
    t = time.perf_counter()
    status, _, body = browser.post(port, '/api/chunked_upload_complete/', {'upload_id': uid, 'md5': md5})
    elapsed = time.perf_counter() - t
    assert (status, body) == (200, b'{}'), (status, body)
    return elapsed


def psql(url, sql):
    out = subprocess.run(['psql', url, '-XAtqc', sql], check=True, stdout=subprocess.PIPE)
    return out.stdout.decode().strip()


def fmt(seconds):
    return '%.2f s' % seconds if seconds >= 1 else '%.1f ms' % (seconds * 1000)


def machine():
    cpu = ''
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(l.split(':', 1)[1].strip() for l in f if l.startswith('model name'))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30
    return 'nproc %d, %s, %.0f GiB RAM, Linux %s' % (os.cpu_count(), cpu or platform.processor(), mem,
                                                      platform.release())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--size-mib', type=int, default=1024)
    ap.add_argument('--profile', default='patched', choices=sorted(PROFILES))
    args = ap.parse_args()
    venv, series, compat = PROFILES[args.profile]
    py = os.path.join(COMPAT, venv, 'bin', 'python')
    binary = os.path.join(REPO, 'target', 'release', 'chunked-upload')
    for need in (py, binary):
        if not os.path.exists(need):
            raise SystemExit('missing %s (run compat-tests/setup.sh and cargo build --release)' % need)

    tmp = tempfile.mkdtemp(prefix='bench-completion-')
    media, logs = os.path.join(tmp, 'media'), os.path.join(tmp, 'logs')
    os.makedirs(media)
    os.makedirs(logs)
    pg_dir = os.path.join(REPO, '.data', 'bench-completion-pg')
    pg_port = free_port()
    out = subprocess.run([os.path.join(REPO, 'scripts', 'pg.sh'), 'start', pg_dir, str(pg_port)],
                         check=True, stdout=subprocess.PIPE).stdout.decode()
    admin_url = re.search(r'DATABASE_URL=(\S+)', out).group(1)
    db_url = admin_url.rsplit('/', 1)[0] + '/bench_completion'
    servers = []
    try:
        psql(admin_url, 'DROP DATABASE IF EXISTS bench_completion WITH (FORCE)')
        psql(admin_url, 'CREATE DATABASE bench_completion')
        env = {k: os.environ[k] for k in ('PATH', 'HOME', 'LANG') if k in os.environ}
        env.update({'DATABASE_URL': db_url, 'SECRET_KEY': 'bench-completion-secret-key-0123456789abcdef',
                    'MEDIA_ROOT': media, 'ALLOWED_HOSTS': 'localhost', 'TIME_ZONE': 'UTC',
                    'PYTHONDONTWRITEBYTECODE': '1', 'PYTHONUNBUFFERED': '1'})
        companion_env = dict(env, REFSITE_COMPANION='1')
        subprocess.run([py, 'manage.py', 'migrate', '--noinput', '--skip-checks', '-v', '0'], cwd=REFSITE, env=companion_env,
                       check=True)
        subprocess.run([py, 'manage.py', 'shell', '-v', '0', '-c',
                        "from django.contrib.auth.models import User; "
                        "User.objects.create_user('bench', password='bench-password')"],
                       cwd=REFSITE, env=env, check=True)
        gunicorn = [py, '-m', 'gunicorn', '--workers', '2', '--worker-class', 'sync', '--timeout', '600',
                    'refsite.wsgi:application', '--bind']
        ports = {name: free_port() for name in ('plain', 'companion', 'service')}
        servers.append(Server('django-plain', gunicorn + ['127.0.0.1:%d' % ports['plain']], env, REFSITE,
                              logs, ports['plain']))
        servers.append(Server('django-companion', gunicorn + ['127.0.0.1:%d' % ports['companion']],
                              companion_env, REFSITE, logs, ports['companion']))
        servers.append(Server('service', [binary, 'serve'], dict(
            env, LISTEN='127.0.0.1:%d' % ports['service'], DJANGO_VERSION=series, CHUNKED_UPLOAD_COMPAT=compat,
            RUST_LOG='warn'), REPO, logs, ports['service']))
        browser = Browser(ports['plain'])
        size = args.size_mib << 20
        # Warm-up: every gunicorn worker has imported its views and opened its
        # database connection before anything is timed.
        small = {'plain': [], 'companion': []}
        for _ in range(8):
            uid, md5 = upload(browser, ports['service'], 4096)
            for who in ('plain', 'companion'):
                small[who].append(timed_complete(browser, ports[who], uid, md5))
                psql(db_url, "UPDATE chunked_upload_chunkedupload SET status = 1, completed_on = NULL "
                             "WHERE upload_id = '%s'" % uid)
        times = {'plain': [], 'companion': []}
        for i in range(args.rounds):
            uid, md5 = upload(browser, ports['service'], size)
            order = ['plain', 'companion'] if i % 2 == 0 else ['companion', 'plain']
            for who in order:
                times[who].append(timed_complete(browser, ports[who], uid, md5))
                psql(db_url, "UPDATE chunked_upload_chunkedupload SET status = 1, completed_on = NULL "
                             "WHERE upload_id = '%s'" % uid)
            log = open(os.path.join(logs, 'django-companion.log')).read()
            assert 'upload %s: md5 from the service state' % uid in log, log[-2000:]
            rel = psql(db_url, "SELECT file FROM chunked_upload_chunkedupload WHERE upload_id = '%s'" % uid)
            psql(db_url, "DELETE FROM chunked_upload_chunkedupload WHERE upload_id = '%s'" % uid)
            os.unlink(os.path.join(media, rel))
            print('round %d: plain %s, companion %s' % (i + 1, fmt(times['plain'][-1]),
                                                        fmt(times['companion'][-1])), file=sys.stderr)
        versions = subprocess.run([py, '-c', 'import django, gunicorn, importlib.metadata as m, platform; '
                                   'print(platform.python_version(), django.get_version(), gunicorn.__version__, '
                                   '[d.metadata["Name"] + " " + d.version for d in m.distributions() '
                                   'if "chunked" in d.metadata["Name"].lower()])'],
                                  stdout=subprocess.PIPE, check=True).stdout.decode().strip()
        git = subprocess.run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'], stdout=subprocess.PIPE
                             ).stdout.decode().strip()
        plain, comp = statistics.median(times['plain']), statistics.median(times['companion'])
        print('#### Completing a %d MiB upload on Django: %s' % (args.size_mib,
                                                               dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')))
        print()
        print('Machine: %s. Python, Django, gunicorn, packages: %s; gunicorn 2 sync workers each, DEBUG=False; '
              'PostgreSQL via scripts/pg.sh; service git %s. The %d MiB file was uploaded through the service '
              'in 8 MiB chunks before each round (so it is in the page cache when plain Django reads it); '
              'both Djangos were warmed up first. Median of %d rounds.'
              % (machine(), versions, git, args.size_mib, args.rounds))
        print()
        print('| complete request (client wall time) | median | runs |')
        print('|---|---:|---|')
        print('| plain Django (re-reads the file for the md5) | %s | %s |' % (
            fmt(plain), ', '.join(fmt(t) for t in times['plain'])))
        print('| Django + chunked_upload_service (finishes the service\'s md5 state) | %s | %s |' % (
            fmt(comp), ', '.join(fmt(t) for t in times['companion'])))
        for who, label in (('plain', 'plain Django'), ('companion', 'Django + chunked_upload_service')):
            print('| for scale: %s, a 4 KiB upload (the fixed cost of the view) | %s | last 4 of 8 |' % (
                label, fmt(statistics.median(small[who][4:]))))
        print()
        print('Ratio (1 GiB): %.0f× faster with the companion app.' % (plain / comp))
    finally:
        for s in servers:
            s.stop()
        subprocess.run([os.path.join(REPO, 'scripts', 'pg.sh'), 'stop', pg_dir], stdout=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
