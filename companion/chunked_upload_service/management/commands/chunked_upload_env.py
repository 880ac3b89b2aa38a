"""`manage.py chunked_upload_env`: the chunked-upload service's environment,
read from this site, as an env file for systemd (EnvironmentFile=) and
docker (--env-file):

    python manage.py chunked_upload_env > chunked-upload.env
"""
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chunked_upload_service import envfile, service_env, views_inspect


class Command(BaseCommand):
    help = ("Print the chunked-upload service's environment (CONTRACT.md variables) read from this "
            "site's settings and URLconf, as an env file that systemd and docker both read.")
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument('--upload-url', default=getattr(
            settings, 'CHUNKED_UPLOAD_SERVICE_UPLOAD_URL', views_inspect.DEFAULT_UPLOAD_URL),
            help='the URL of the upload view (default %(default)s)')
        parser.add_argument('--complete-url', default=getattr(
            settings, 'CHUNKED_UPLOAD_SERVICE_COMPLETE_URL', views_inspect.DEFAULT_COMPLETE_URL),
            help='the URL of the complete view (default %(default)s)')

    def handle(self, *args, **options):
        try:
            env = service_env.build(options['upload_url'], options['complete_url'])
        except (service_env.EnvError, envfile.Unwritable) as e:
            raise CommandError(str(e))
        self.stdout.write(env.text(), ending='')
        for warning in env.warnings:
            sys.stderr.write('chunked_upload_env: warning: %s\n' % warning)
