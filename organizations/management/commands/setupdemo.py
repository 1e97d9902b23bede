from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from organizations.models import ApiKey, Organization
from organizations.services import api_key_create, hash_key, organization_create
from renderowl.ids import random_token
from renderowl.tenancy import dangerously_bypass_tenancy

DEMO_SLUG = "demo"


class Command(BaseCommand):
    help = (
        "Development only: ensure a demo organization and a demo API key kept in KEY_FILE, "
        "and print the key on a line starting with 'Demo API key:'."
    )

    def add_arguments(self, parser):
        parser.add_argument("--key-file", default=str(settings.BASE_DIR / ".run" / "demo-api-key"))

    def handle(self, *args, key_file, **options):
        if settings.PRODUCTION:
            raise CommandError("setupdemo creates a well-known key and refuses to run with DJANGO_ENV=production.")
        path = Path(key_file)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"rwl_test_{random_token(40)}\n")
            path.chmod(0o600)
        raw_key = path.read_text().strip()
        # Routine: a development-only fixture that `make run` applies on every start, not an operator's act.
        with dangerously_bypass_tenancy(reason="setupdemo command", routine=True):
            organization = Organization.objects.filter(slug=DEMO_SLUG).first() or organization_create(
                name="Demo", slug=DEMO_SLUG
            )
            if not ApiKey.objects.filter(key_hash=hash_key(raw_key), revoked_at=None).exists():
                api_key_create(organization=organization, name="demo", mode=ApiKey.Mode.TEST, raw_key=raw_key)
        self.stdout.write(f"Demo organization: {organization.id} (slug {organization.slug})")
        self.stdout.write(f"Demo API key: {raw_key}")
