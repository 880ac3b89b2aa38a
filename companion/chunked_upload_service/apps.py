from django.apps import AppConfig


class ChunkedUploadServiceConfig(AppConfig):
    name = 'chunked_upload_service'
    label = 'chunked_upload_service'
    verbose_name = 'chunked-upload service companion'

    def ready(self):
        from . import checks, md5_resume  # noqa: F401  (checks register themselves)
        md5_resume.install()
