"""Checks, outside the browser, what an upload through the demo page left
behind. Run by `test` with the demo's environment (DATABASE_URL, SECRET_KEY,
DEMO_DATA_DIR) after browser-test.mjs:

    python check_upload.py UPLOAD_ID LOCAL_FILE

It asks Django for the upload row and the Document, hashes the files, and
reads which server answered each request from nginx's access log (stack.env
names the ports). Exits 1 listing every failed check.
"""

import hashlib
import math
import os
import re
import sys
from pathlib import Path

import django

CHUNK_SIZE = 100000  # the page's maxChunkSize
UPLOAD_URL = re.compile(r'"POST /api/chunked_upload/?(\?[^ ]*)? HTTP/1\.1" (\d{3}) \d+ upstream=(\S+)$')
COMPLETE_URL = re.compile(r'"POST /api/chunked_upload_complete/?(\?[^ ]*)? HTTP/1\.1" (\d{3}) \d+ upstream=(\S+)$')


def md5_of(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_env_file(path):
    lines = Path(path).read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


class Checks:
    def __init__(self):
        self.failed = []

    def expect(self, ok, what):
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failed.append(what)


def check_row_and_files(checks, upload_id, local_file):
    from chunked_upload.constants import COMPLETE
    from demo.models import Document, MyChunkedUpload

    size = local_file.stat().st_size
    local_md5 = md5_of(local_file)
    row = MyChunkedUpload.objects.filter(upload_id=upload_id).first()
    checks.expect(row is not None, f"upload row {upload_id} exists")
    if row is None:
        return
    checks.expect(row.status == COMPLETE, f"row status {row.status} is COMPLETE ({COMPLETE})")
    checks.expect(row.offset == size, f"row offset {row.offset} equals the file size {size}")
    checks.expect(row.filename == local_file.name, f"row filename {row.filename!r} is {local_file.name!r}")
    checks.expect(row.completed_on is not None, "row completed_on is set")
    part = Path(row.file.path)
    checks.expect(part.name == f"{upload_id}.part", f"row file {row.file.name} is <upload_id>.part")
    part_md5 = md5_of(part) if part.exists() else None
    checks.expect(part_md5 == local_md5, f".part md5 {part_md5} equals the local file's {local_md5}")

    document = Document.objects.filter(upload_id=upload_id).first()
    checks.expect(document is not None, "on_completion stored a Document")
    if document is None:
        return
    stored = Path(document.file.path)
    stored_md5 = md5_of(stored) if stored.exists() else None
    checks.expect(stored_md5 == local_md5, f"Document file {document.file.name} md5 {stored_md5} equals the local file's")
    checks.expect(document.md5 == local_md5, f"Document.md5 {document.md5} equals the local file's")
    checks.expect(stored.exists() and part.exists() and not stored.samefile(part),
                  "the Document file is a separate copy of the .part file")


def check_served_by_service(checks, upload_id, local_file, stack, data_dir):
    """Each chunk went through the Rust service: nginx logged the service's
    address as the upstream of every chunk POST, gunicorn saw none, and the
    service's own table (which Django never writes) holds the md5 state of the
    whole file."""
    from django.db import connection

    size = local_file.stat().st_size
    chunks = max(1, math.ceil(size / CHUNK_SIZE))
    # The view attributes the service mirrors, as the companion app read them.
    service_env = read_env_file(data_dir / "service.env")
    for name, value in (("CHUNKED_UPLOAD_FIELD_NAME", "the_file"), ("CHUNKED_UPLOAD_PERMISSION", "anyone")):
        checks.expect(service_env.get(name) == value,
                      f"manage.py chunked_upload_env gave the service {name}={service_env.get(name)} ({value})")
    service = f"127.0.0.1:{stack['SERVICE_PORT']}"
    django_addr = f"127.0.0.1:{stack['DJANGO_PORT']}"
    nginx_lines = (data_dir / "logs" / "nginx-access.log").read_text().splitlines()
    uploads = [m.groups() for m in map(UPLOAD_URL.search, nginx_lines) if m]
    completes = [m.groups() for m in map(COMPLETE_URL.search, nginx_lines) if m]
    checks.expect(len(uploads) == chunks, f"nginx logged {len(uploads)} chunk POSTs, expected {chunks}")
    upstreams = sorted({u for _, _, u in uploads})
    checks.expect(upstreams == [service], f"chunk POSTs answered by {upstreams}, expected the service at {service}")
    statuses = sorted({s for _, s, _ in uploads})
    checks.expect(statuses == ["200"], f"chunk POST statuses {statuses} are all 200")
    checks.expect([(s, u) for _, s, u in completes] == [("200", django_addr)],
                  f"the complete POST was answered 200 by Django at {django_addr}: {completes}")
    gunicorn_lines = (data_dir / "logs" / "gunicorn-access.log").read_text()
    checks.expect(not re.search(r'"POST /api/chunked_upload/? ', gunicorn_lines),
                  "gunicorn's access log has no chunk POST")
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT s."offset" FROM chunked_upload_md5_state s '
            "JOIN chunked_upload_chunkedupload u ON u.id = s.upload_pk WHERE u.upload_id = %s",
            [upload_id],
        )
        state = cursor.fetchone()
    checks.expect(state is not None and state[0] == size,
                  f"the service's chunked_upload_md5_state row covers {state[0] if state else None} of {size} bytes")
    # Not a check (the companion's wording is its own): how completion got the md5.
    for line in (data_dir / "logs" / "gunicorn.log").read_text().splitlines():
        if f"upload {upload_id}: md5" in line:
            print(f"  note: Django's log: {line.strip()}")


def main():
    upload_id, local_file = sys.argv[1], Path(sys.argv[2])
    data_dir = Path(os.environ["DEMO_DATA_DIR"])
    stack = read_env_file(data_dir / "stack.env")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    django.setup()

    checks = Checks()
    print(f"check_upload: upload {upload_id} of {local_file.name}")
    check_row_and_files(checks, upload_id, local_file)
    check_served_by_service(checks, upload_id, local_file, stack, data_dir)
    if checks.failed:
        print(f"check_upload: FAIL: {len(checks.failed)} check(s) failed", file=sys.stderr)
        for what in checks.failed:
            print(f"  {what}", file=sys.stderr)
        sys.exit(1)
    print("check_upload: all checks passed")


if __name__ == "__main__":
    main()
