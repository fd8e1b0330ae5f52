import secrets

from django.conf import settings
from django.contrib.auth import get_user_model

from labeling.management.base import DataCommand


class Command(DataCommand):
    help = "Create the first admin account with a generated password (kept in var/admin-password)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, username, url, **options):
        password_file = settings.VAR_DIR / "admin-password"
        users = get_user_model().objects
        if not users.filter(username=username).exists():
            password = secrets.token_urlsafe(12)
            users.create_superuser(username=username, email="", password=password)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        if password_file.exists():
            how = f"password {password_file.read_text().strip()} (stored in {password_file})"
        else:
            how = f"your password (reset it with: python manage.py changepassword {username})"
        self.stdout.write(f"Log in at {url} as {username!r} with {how}")
