"""Create the service's companion table `chunked_upload_md5_state` when it
is missing, with the service's own DDL (chunked_upload_service.ddl), so that
`manage.py migrate` and `chunked-upload serve`/`migrate` agree whichever runs
first. The reverse drops nothing: the service keeps using the table."""
from django.db import migrations

from chunked_upload_service import ddl


def create_md5_state(apps, schema_editor):
    sql = ddl.for_vendor(schema_editor.connection.vendor)
    if sql is not None:
        schema_editor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('chunked_upload', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(create_md5_state, migrations.RunPython.noop, elidable=False),
    ]
